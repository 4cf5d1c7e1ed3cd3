/*
 * tam-test-agent: the scripted Agent of peer.h as a command, one run per
 * TEEP message, for the integration scripts that drive the real teep-tam
 * with curl.  State (keys, trust anchors, installed components) lives in
 * a directory; misbehaviour is switched on by empty files there
 * (bad-evidence, fail-install, no-evidence).
 *
 *   tam-test-agent init DIR --tam-key PEM [--tam-key PEM] --tc-signer PEM
 *                  [--type p256|ed25519] [--profile rfc|legacy]
 *   tam-test-agent respond DIR IN OUT
 *
 * respond prints one line saying what it did; exit 0 (OUT written, or
 * removed when there is nothing to answer), 1 when it refuses IN, 2 for
 * bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer.h"

#define MSG_MAX (64u << 20)

static int usage(void)
{
    fputs("usage: tam-test-agent init DIR --tam-key PEM [--tam-key PEM] "
          "--tc-signer PEM [--type p256|ed25519] [--profile rfc|legacy]\n"
          "       tam-test-agent respond DIR IN OUT\n",
          stderr);
    return 2;
}

static bool flag(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    uint8_t *buf = malloc(MSG_MAX);
    size_t n = buf != NULL ? fread(buf, 1, MSG_MAX, f) : 0;
    fclose(f);
    if (buf == NULL)
        return -ENOMEM;
    *out = buf;
    *len = n;
    return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -errno;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -EIO;
}

static int init(int argc, char **argv)
{
    const char *dir = argv[0], *tc = NULL;
    teep_key_type_t type = TEEP_KEY_P256;
    int profile = -1;
    tam_peer_t p;
    teep_key_t key;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return perror(dir), 2;
    /* Keys first: the trust anchors are added to them. */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--type") == 0)
            type = strcmp(argv[i + 1], "ed25519") == 0 ? TEEP_KEY_ED25519
                                                       : TEEP_KEY_P256;
        else if (strcmp(argv[i], "--profile") == 0)
            profile = strcmp(argv[i + 1], "legacy") == 0 ? TEEP_PROFILE_LEGACY
                                                         : TEEP_PROFILE_RFC;
    }
    if (tam_peer_init(&p, type, profile) != 0)
        return 2;
    int rc = 0;
    for (int i = 1; rc == 0 && i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tam-key") == 0) {
            rc = teep_key_load_file(&key, argv[i + 1]);
            if (rc == 0)
                rc = tam_peer_trust_tam(&p, &key);
            teep_key_clear(&key);
        } else if (strcmp(argv[i], "--tc-signer") == 0) {
            tc = argv[i + 1];
        } else if (strcmp(argv[i], "--type") != 0 &&
                   strcmp(argv[i], "--profile") != 0) {
            rc = -EINVAL;
        }
    }
    if (rc == 0 && tc != NULL) {
        rc = teep_key_load_file(&key, tc);
        if (rc == 0)
            rc = tam_peer_trust_tc_signer(&p, &key);
        teep_key_clear(&key);
    }
    if (rc == 0 && (p.n_tam_keys == 0 || !p.has_tc_signer))
        rc = -EINVAL;
    if (rc == 0)
        rc = tam_peer_save(&p, dir);
    if (rc == 0 && profile >= 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/profile", dir);
        const char *name = profile == TEEP_PROFILE_LEGACY ? "legacy" : "rfc";
        rc = write_file(path, (const uint8_t *)name, strlen(name));
    }
    tam_peer_clear(&p);
    if (rc != 0)
        fprintf(stderr, "tam-test-agent init: %s\n", teep_strerror(rc));
    return rc == 0 ? 0 : 2;
}

static int profile_of(const char *dir)
{
    char path[4096], text[16] = "";
    snprintf(path, sizeof(path), "%s/profile", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    bool ok = fgets(text, sizeof(text), f) != NULL;
    fclose(f);
    return !ok                           ? -1
           : strcmp(text, "legacy") == 0 ? TEEP_PROFILE_LEGACY
                                         : TEEP_PROFILE_RFC;
}

static int respond(const char *dir, const char *in, const char *out)
{
    tam_peer_t p;
    uint8_t *msg = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    peer_event_t ev;
    if (tam_peer_load(&p, dir) != 0 || read_file(in, &msg, &len) != 0) {
        fprintf(stderr, "tam-test-agent: cannot read %s or %s\n", dir, in);
        return 2;
    }
    p.profile = profile_of(dir);
    p.bad_evidence = flag(dir, "bad-evidence");
    p.fail_install = flag(dir, "fail-install");
    p.no_evidence = flag(dir, "no-evidence");
    int rc = tam_peer_handle(&p, msg, len, &reply, &reply_len, &ev);
    if (rc != 0) {
        printf("refused: %s (%s)\n", ev.detail, teep_strerror(rc));
    } else {
        printf("%s -> %s%s%s", teep_msg_type_name(ev.received),
               reply != NULL ? teep_msg_type_name(ev.answered) : "nothing",
               ev.evidence ? " with Evidence" : "",
               ev.pd_delivered ? ", PD decrypted" : "");
        if (ev.received == TEEP_UPDATE)
            printf(" (%zu manifests, %zu components%s%s)", ev.n_manifests,
                   ev.n_installed, ev.err_code != 0 ? ", err-code " : "",
                   ev.err_code != 0 ? teep_err_code_name(ev.err_code) : "");
        printf("%s%s\n", ev.detail[0] != 0 ? ": " : "", ev.detail);
        rc = reply != NULL ? write_file(out, reply, reply_len)
                           : (unlink(out), 0);
        if (rc == 0)
            rc = tam_peer_save(&p, dir);
    }
    free(msg);
    free(reply);
    tam_peer_clear(&p);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "init") == 0)
        return init(argc - 2, argv + 2);
    if (argc == 5 && strcmp(argv[1], "respond") == 0)
        return respond(argv[2], argv[3], argv[4]);
    return usage();
}
