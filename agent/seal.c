/*
 * seal.c: sealed files in the TEE's state directory.  A sealed file is
 * AES-256-GCM under the TEE's sealing key, with the file's name as
 * additional data so that one sealed file cannot stand in for another:
 *
 *     "TEEPSEAL" | nonce (12) | ciphertext | tag (16)
 *
 * The sealing key of the simulated TEE is 32 random bytes in
 * <state>/sealing.key, mode 0600 in a 0700 directory: only root and the
 * TEE's owner read it.  A hardware TEE derives its sealing key from a
 * fused secret and the measurement of the code (SGX EGETKEY, a TrustZone
 * HUK, SEV-SNP MSG_KEY_REQ), which no REE process can read; that is the
 * one function to replace when porting the Agent (docs/agent.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/gcm.h>

#include "agent_internal.h"
#include "teep/file_replace.h"

#define SEAL_MAGIC     "TEEPSEAL"
#define SEAL_MAGIC_LEN 8
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_OVERHEAD  (SEAL_MAGIC_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEALING_KEY    "sealing.key"

static int path_of(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int agent__read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > max) {
        close(fd);
        return -EFBIG;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size > 0 ? size : 1);
    if (buf == NULL) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int rc = n < 0 ? -errno : -EIO;
            free(buf);
            close(fd);
            return rc;
        }
        got += (size_t)n;
    }
    close(fd);
    *data = buf;
    *len = size;
    return 0;
}

/* The Agent's name for it (keys.c uses it too); teep/file_replace.h has
 * the one implementation the TEE hosts share. */
int agent__write_file(const char *path, const uint8_t *data, size_t len,
                      mode_t mode)
{
    return teep_file_replace(path, data, len, mode);
}

int agent__sealing_key(const char *dir, uint8_t key[32])
{
    char path[4096];
    int rc = path_of(dir, SEALING_KEY, path, sizeof(path));
    if (rc != 0)
        return rc;
    uint8_t *data;
    size_t len;
    rc = agent__read_file(path, 32, &data, &len);
    if (rc == 0) {
        if (len == 32)
            memcpy(key, data, 32);
        agent__wipe(data, len);
        free(data);
        return len == 32 ? 0 : -EIO;
    }
    if (rc != -ENOENT)
        return rc;
    rc = teep_random(key, 32);
    if (rc != 0)
        return rc;
    return agent__write_file(path, key, 32, 0600);
}

int agent__seal_write(const uint8_t key[32], const char *dir, const char *name,
                      const uint8_t *data, size_t len)
{
    char path[4096];
    int rc = path_of(dir, name, path, sizeof(path));
    if (rc != 0)
        return rc;
    uint8_t *out = malloc(len + SEAL_OVERHEAD);
    if (out == NULL)
        return -ENOMEM;
    memcpy(out, SEAL_MAGIC, SEAL_MAGIC_LEN);
    uint8_t *nonce = out + SEAL_MAGIC_LEN;
    uint8_t *ct = nonce + SEAL_NONCE_LEN;
    rc = teep_random(nonce, SEAL_NONCE_LEN);
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    if (rc == 0 &&
        (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) != 0 ||
         mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, nonce,
                                   SEAL_NONCE_LEN, (const uint8_t *)name,
                                   strlen(name), data, ct, SEAL_TAG_LEN,
                                   ct + len) != 0))
        rc = TEEP_E_CRYPTO;
    mbedtls_gcm_free(&gcm);
    if (rc == 0)
        rc = agent__write_file(path, out, len + SEAL_OVERHEAD, 0600);
    free(out);
    return rc;
}

int agent__seal_read(const uint8_t key[32], const char *dir, const char *name,
                     uint8_t **data, size_t *len)
{
    char path[4096];
    *data = NULL;
    *len = 0;
    int rc = path_of(dir, name, path, sizeof(path));
    if (rc != 0)
        return rc;
    uint8_t *in;
    size_t in_len;
    rc = agent__read_file(path, TEEP_AGENT_STATE_MAX, &in, &in_len);
    if (rc != 0)
        return rc;
    if (in_len < SEAL_OVERHEAD || memcmp(in, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0) {
        free(in);
        return TEEP_E_SIGNATURE;
    }
    size_t n = in_len - SEAL_OVERHEAD;
    uint8_t *plain = malloc(n > 0 ? n : 1);
    if (plain == NULL) {
        free(in);
        return -ENOMEM;
    }
    const uint8_t *nonce = in + SEAL_MAGIC_LEN;
    const uint8_t *ct = nonce + SEAL_NONCE_LEN;
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (rc == 0)
        rc = mbedtls_gcm_auth_decrypt(&gcm, n, nonce, SEAL_NONCE_LEN,
                                      (const uint8_t *)name, strlen(name),
                                      ct + n, SEAL_TAG_LEN, ct, plain);
    mbedtls_gcm_free(&gcm);
    free(in);
    if (rc != 0) {
        agent__wipe(plain, n);
        free(plain);
        return rc == MBEDTLS_ERR_GCM_AUTH_FAILED ? TEEP_E_SIGNATURE
                                                 : TEEP_E_CRYPTO;
    }
    *data = plain;
    *len = n;
    return 0;
}

void agent__wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;
    while (len-- > 0)
        *v++ = 0;
}
