/* keys.c: the TAM's keys in its data directory: made on first start
 * (private files mode 0600, the directory 0700), loaded afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PEM_MAX 1024

static int write_file(const char *path, const void *data, size_t len,
                      mode_t mode)
{
    /* O_EXCL: never overwrite a key that is there. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = -errno;
            close(fd);
            unlink(path);
            return err != 0 ? err : -EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static int save_key(const teep_key_t *key, const char *dir, const char *name)
{
    char path[PATH_MAX], pem[PEM_MAX];
    size_t len;
    int rc = teep_key_to_pem(key, true, pem, sizeof(pem), &len);
    snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
    if (rc == 0)
        rc = write_file(path, pem, len, 0600);
    if (rc == 0)
        rc = teep_key_to_pem(key, false, pem, sizeof(pem), &len);
    snprintf(path, sizeof(path), "%s/%s.pub.pem", dir, name);
    if (rc == 0)
        rc = write_file(path, pem, len, 0644);
    memset(pem, 0, sizeof(pem));
    return rc;
}

static int load_or_make(teep_key_t *key, teep_key_type_t type, const char *dir,
                        const char *name, bool *created)
{
    if (dir == NULL)
        return teep_key_generate(key, type);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
    int rc = teep_key_load_file(key, path);
    if (rc != -ENOENT) {
        if (rc == 0 && (key->type != type || !key->has_private)) {
            tam_log(TEEP_LOG_ERROR, "%s: not a private %s key", path,
                    type == TEEP_KEY_P256 ? "P-256" : "Ed25519");
            teep_key_clear(key);
            rc = -EINVAL;
        }
        return rc;
    }
    rc = teep_key_generate(key, type);
    if (rc == 0)
        rc = save_key(key, dir, name);
    if (rc == 0)
        *created = true;
    else
        teep_key_clear(key);
    return rc;
}

int tam_keys_load(teep_tam_keys_t *keys, const char *dir, bool *created)
{
    memset(keys, 0, sizeof(*keys));
    *created = false;
    if (dir != NULL && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    int rc =
        load_or_make(&keys->esp256, TEEP_KEY_P256, dir, "tam-esp256", created);
    if (rc == 0)
        rc = load_or_make(&keys->ed25519, TEEP_KEY_ED25519, dir, "tam-ed25519",
                          created);
    if (rc == 0)
        rc = load_or_make(&keys->tc_signer, TEEP_KEY_P256, dir, "tc-signer",
                          created);
    if (rc != 0) {
        tam_log(TEEP_LOG_ERROR, "keys in %s: %s", dir != NULL ? dir : "memory",
                teep_strerror(rc));
        tam_keys_clear(keys);
    }
    return rc;
}

void tam_keys_clear(teep_tam_keys_t *keys)
{
    teep_key_clear(&keys->esp256);
    teep_key_clear(&keys->ed25519);
    teep_key_clear(&keys->tc_signer);
}

int tam_keys_admin_token(const char *dir, char out[65], bool *created)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/admin.token", dir);
    FILE *f = fopen(path, "re");
    if (f != NULL) {
        char line[80] = {0};
        bool ok = fgets(line, sizeof(line), f) != NULL;
        fclose(f);
        line[strcspn(line, "\r\n")] = 0;
        if (!ok || strlen(line) < 16 || strlen(line) > 64)
            return -EINVAL;
        memcpy(out, line, strlen(line) + 1);
        return 0;
    }
    if (errno != ENOENT)
        return -errno;
    uint8_t r[32];
    int rc = teep_random(r, sizeof(r));
    if (rc != 0)
        return rc;
    tam_hex(r, sizeof(r), out);
    memset(r, 0, sizeof(r));
    char line[66];
    snprintf(line, sizeof(line), "%s\n", out);
    rc = write_file(path, line, 65, 0600);
    if (rc == 0)
        *created = true;
    return rc;
}

const teep_key_t *tam_keys_for_alg(const teep_tam_keys_t *keys, int64_t alg)
{
    switch (alg) {
    case TEEP_ALG_ESP256:
    case TEEP_ALG_ES256: return &keys->esp256;
    case TEEP_ALG_ED25519:
    case TEEP_ALG_EDDSA: return &keys->ed25519;
    default: return NULL;
    }
}
