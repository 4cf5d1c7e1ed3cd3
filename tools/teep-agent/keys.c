/*
 * keys.c: the public keys a TAM registers a device by (docs/deploy.md
 * step 2): the Agent's TEEP key (it signs the Agent's messages) and its
 * attestation key (it signs the Evidence).  The Agent publishes both,
 * as PEM, in its state directory whenever its TEE session opens
 * (agent/teep_agent.h: the sim's state directory is its provisioning
 * channel); --export-keys opens the session through the plugin as usual
 * and copies them out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "teep_agent.h"

/* Copy <state>/name to <out_dir>/name (mode 0644: public keys). */
static int copy_key(device_t *dev, const char *out_dir, const char *name)
{
    char from[4096], to[4096], buf[4096];
    snprintf(from, sizeof(from), "%s/%s", dev->opt.state_dir, name);
    snprintf(to, sizeof(to), "%s/%s", out_dir, name);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = out < 0 ? -errno : 0;
    ssize_t n;
    while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0 || write(out, buf, (size_t)n) != n)
            rc = -EIO;
    }
    close(in);
    if (out >= 0 && close(out) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0)
        dev_log(dev, TEEP_LOG_INFO, "wrote %s", to);
    return rc;
}

int dev_export_keys(device_t *dev, const char *out_dir)
{
    int rc = 0;
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        rc = -errno;
    if (rc == 0)
        rc = copy_key(dev, out_dir, AGENT_PUBLIC_TEEP_KEY);
    if (rc == 0)
        rc = copy_key(dev, out_dir, AGENT_PUBLIC_ATTEST_KEY);
    if (rc != 0)
        dev_log(dev, TEEP_LOG_ERROR,
                "keys of %s: %s (does the TEE plugin publish them?)",
                dev->opt.state_dir, strerror(-rc));
    return rc;
}
