/*
 * teep/file_replace.h: replace a file's content atomically.
 *
 * One helper for the places that store bytes a crash must not leave half
 * written: the Agent's sealed state (agent/seal.c, built against mbedtls and
 * linked into TEE plugins), the UAs a TEE host installs
 * (plugins/host/tee_host.c) and the TA executables of the simulated TEE
 * (plugins/tee/sim/sim_ta.c).  Those are three libraries with nothing in
 * common but include/, hence header-only.  POSIX file I/O: not for proto/,
 * which does none.
 */
#ifndef TEEP_FILE_REPLACE_H
#define TEEP_FILE_REPLACE_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Write data[0..len) (borrowed for the call; NULL with len 0) to a new
 * temporary file "<path>.XXXXXX" given mode, fsync it and rename it over
 * path.  The temporary name is unique, so two writers of the same path
 * (two TEEs installing the same UA at once) each replace it whole
 * instead of renaming each other's half-written file away.  A crash leaves the
 * old or the new content, never a mix, and a process that has the old file open
 * (a running TA or UA) keeps reading the old one.  The temporary file is
 * removed on failure. Returns 0, -ENAMETOOLONG (path too long for the temporary
 * name), or the negative errno of the failed open / write / fsync / close /
 * rename (-EIO for a write that wrote nothing).
 */
static inline int teep_file_replace(const char *path, const uint8_t *data,
                                    size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, mode) != 0)
        rc = -errno;
    size_t done = 0;
    while (rc == 0 && done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = w < 0 ? -errno : -EIO;
        else
            done += (size_t)w;
    }
    /* Without fsync, rename may reach the disk before the data does. */
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

#ifdef __cplusplus
}
#endif
#endif
