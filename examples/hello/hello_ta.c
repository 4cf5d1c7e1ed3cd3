/*
 * hello_ta.c: the sample Trusted Application.  It runs inside the
 * simulated TEE (plugins/tee/sim), statically linked so that it needs
 * nothing but itself in a container's empty root.  It talks only over its
 * private channel (sim_channel.h, fd 3): personalization data comes in
 * (in one or more packets, reassembled), and each invocation gets an answer
 * that tells where the TA runs (its instance type, its PID and host name as it
 * sees them: 1 and "teep-ta" inside a container) and the SHA-256 of the PD it
 * holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "sim_channel.h"

static uint8_t buf[SIM_CHANNEL_MAX];
static char answer[SIM_CHANNEL_MAX];

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

int main(void)
{
    /* No ptrace from the REE's user, no core dump with the PD in it. */
    prctl(PR_SET_DUMPABLE, 0);
    const char *instance = getenv("TEEP_TA_INSTANCE");
    char pd_hex[65] = "none";
    struct utsname uts;
    if (uname(&uts) != 0)
        strcpy(uts.nodename, "?");
    sim_pd_t pd = {0};
    for (;;) {
        uint8_t type;
        ssize_t n = sim_channel_recv(SIM_CHANNEL_FD, &type, buf, sizeof(buf));
        if (n == -EPIPE)
            return 0; /* the TEE closed the channel: stop */
        if (n < 0)
            return 1;
        if (type == SIM_MSG_PD_MORE || type == SIM_MSG_PD) {
            int rc = sim_pd_add(&pd, type, buf, (size_t)n, SIM_PD_MAX);
            if (rc != 1)
                continue;
            uint8_t digest[32], *data;
            size_t len;
            sim_pd_take(&pd, &data, &len);
            mbedtls_sha256_ret(data, len, digest, 0);
            free(data);
            hex(digest, sizeof(digest), pd_hex);
            fprintf(stderr, "hello-ta: personalization data, sha256 %s\n",
                    pd_hex);
        } else if (type == SIM_MSG_INVOKE) {
            int len = snprintf(answer, sizeof(answer),
                               "hello from the TA: instance=%s pid=%d "
                               "host=%s pd-sha256=%s request=%.*s",
                               instance != NULL ? instance : "?", (int)getpid(),
                               uts.nodename, pd_hex, (int)(n < 1024 ? n : 1024),
                               (const char *)buf);
            if (len > (int)sizeof(answer) - 1)
                len = (int)sizeof(answer) - 1;
            if (sim_channel_send(SIM_CHANNEL_FD, SIM_MSG_REPLY,
                                 (const uint8_t *)answer, (size_t)len) != 0)
                return 1;
        }
    }
}
