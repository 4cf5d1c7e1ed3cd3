/*
 * hello.h: what the sample TA and its UA agree on: the identifiers the TAM
 * gives them (docs/tam.md, "Component naming"; tam/manifest.c) when they
 * are uploaded as packages "hello" (TA) and "hello-ua" (UA):
 *
 *   TA  ['TEE', <instance-type>, 'hello', 'ta']
 *   UA  ['REE', 'hello-ua', 'ua']
 *   PD  ['TEE', <instance-type>, 'hello', <pd-name>]
 *
 * The TA's identifier names the instance type the deployment chose, so a
 * UA asks for the TA of one type (hello-ua -t; process by default).
 * Encoded as CBOR here because the UA links nothing.
 */
#ifndef HELLO_H
#define HELLO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HELLO_TA_ID_TEXT "TEE/process/hello/ta"
#define HELLO_UA_ID_TEXT "REE/hello-ua/ua"
#define HELLO_PD_ID_TEXT "TEE/process/hello/pd"

/* [h'TEE', h'process', h'hello', h'ta'] (HELLO_TA_ID_TEXT) */
static const unsigned char hello_ta_id[] = {
    0x84, 0x43, 'T',  'E', 'E', 0x47, 'p', 'r', 'o',  'c', 'e',
    's',  's',  0x45, 'h', 'e', 'l',  'l', 'o', 0x42, 't', 'a'};

/* The TA's identifier for instance type `type` ("process", "container",
 * "vm") into out[0..cap): its length, or 0 when type is none of them or
 * cap is too small.  Every segment is shorter than 24 bytes, so each bstr
 * head is one byte. */
static inline size_t hello_ta_id_for(const char *type, uint8_t *out, size_t cap)
{
    if (strcmp(type, "process") != 0 && strcmp(type, "container") != 0 &&
        strcmp(type, "vm") != 0)
        return 0;
    const char *seg[] = {"TEE", type, "hello", "ta"};
    size_t n = 0;
    if (cap < 1)
        return 0;
    out[n++] = 0x84;
    for (size_t i = 0; i < 4; i++) {
        size_t len = strlen(seg[i]);
        if (n + 1 + len > cap)
            return 0;
        out[n++] = (uint8_t)(0x40 | len);
        memcpy(out + n, seg[i], len);
        n += len;
    }
    return n;
}

#endif
