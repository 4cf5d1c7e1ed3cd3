/*
 * Fuzz the CoAP transport's ingress path (plugins/transport/coap): the
 * input is a script of datagrams, each sent from one of four sources to a
 * real listener on 127.0.0.1, so that every byte goes through libcoap's
 * own PDU parser (coap_pdu_parse), its dispatch, Block1 / Block2 and
 * async machinery, and the plugin's handlers, with the canned TAM of
 * tests/coap answering each exchange on the next loop turn.
 *
 * Script: repeated [op][len lo][len hi][len bytes]:
 *   op & 0x80 == 0: send the bytes from source op & 3
 *   op & 0x80 != 0: push a check-in to device "dN" (N = op >> 2 & 3)
 * Everything the listener answers is read and dropped.  The instance
 * lives across inputs, with small limits, so that state left by one
 * input (bodies in progress, exchanges, observers) meets the next.
 * Checks: nothing crashes (ASan, UBSan) and memory stays within
 * -rss_limit_mb however many inputs run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coap_harness.h"

#define SOURCES 4

static harness_t h;
static int sources[SOURCES];

static void drain(void)
{
    for (int turn = 0; turn < 3; turn++)
        uv_run(&h.loop, UV_RUN_NOWAIT);
    uint8_t buf[2048];
    for (int i = 0; i < SOURCES; i++)
        while (recv(sources[i], buf, sizeof(buf), 0) > 0)
            ;
}

static void init(void)
{
    /* Option, value pairs. */
    /* clang-format off */
    static const char *const opts[] = {
        "max_body", "4096",      "max_reassembly", "16384",
        "max_pending", "64",     "peer_rate", "0",
        "peer_slots", "16",      "max_sessions", "64",
        "max_devices", "8",      "dedup_slots", "64",
        "stop_timeout_ms", "0",  NULL};
    /* clang-format on */
    if (harness_start(&h, "coap://127.0.0.1:0", opts) != 0)
        abort();
    h.delay_ms = 0;
    for (int i = 0; i < SOURCES; i++)
        sources[i] = udp_open("127.0.0.1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (h.instance == NULL)
        init();
    const uint8_t *p = data, *end = data + size;
    while (end - p >= 3) {
        uint8_t op = p[0];
        size_t len = (size_t)(p[1] | p[2] << 8);
        p += 3;
        if (len > (size_t)(end - p))
            len = (size_t)(end - p);
        if (op & 0x80) {
            char device[2] = {'d', (char)('0' + ((op >> 2) & 3))};
            h.ops->push(h.instance, device, sizeof(device));
        } else if (len > 0) {
            /* Datagrams beyond an MTU only cost time here. */
            udp_send(&h, sources[op & 3], p, len < 2048 ? len : 2048);
        }
        p += len;
        drain();
    }
    drain();
    return 0;
}
