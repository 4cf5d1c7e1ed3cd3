/* io.c: see io.h. */
#include "io.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* This bounds what a mistaken path (a disk image, /dev/zero) can make us
 * allocate.  TEEP messages are small, but `teep pd encrypt` takes whole
 * PD, which the TAM and the Agent accept up to 64 MiB. */
#define CLI_MAX_INPUT (64u * 1024 * 1024)

void cli_buf_free(cli_buf_t *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}

int cli_buf_fill(cli_buf_t *out, size_t hint, cli_fill_fn fill, void *ctx)
{
    size_t cap = hint > 0 ? hint : 64;
    for (;;) {
        uint8_t *grown = realloc(out->data, cap);
        if (grown == NULL)
            return -ENOMEM;
        out->data = grown;
        int rc = fill(ctx, out->data, cap, &out->len);
        if (rc != -ENOSPC || cap > SIZE_MAX / 4)
            return rc;
        /* Some producers say how much they need; else double. */
        cap = out->len > cap ? out->len : cap * 2;
    }
}

static int read_stream(FILE *f, cli_buf_t *out)
{
    size_t cap = 0;
    out->data = NULL;
    out->len = 0;
    for (;;) {
        if (out->len == cap) {
            if (cap >= CLI_MAX_INPUT)
                return -EFBIG;
            cap = cap == 0 ? 4096 : cap * 2;
            uint8_t *grown = realloc(out->data, cap);
            if (grown == NULL)
                return -ENOMEM;
            out->data = grown;
        }
        size_t n = fread(out->data + out->len, 1, cap - out->len, f);
        out->len += n;
        if (n == 0)
            return ferror(f) ? -EIO : 0;
    }
}

int cli_read_file(const cli_cmd_t *cmd, const char *path, cli_buf_t *out)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return cli_error(cmd, "%s: cannot open: %s", path, strerror(errno));
    int rc = read_stream(f, out);
    if (!is_stdin)
        fclose(f);
    if (rc != 0) {
        cli_buf_free(out);
        return cli_error(cmd, "%s: cannot read: %s", cli_input_label(path),
                         rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
    }
    return 0;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Whether the text is hex digits and white space only, with at least one
 * digit: then it is hex, never binary CBOR (whose first byte, an array or a
 * tag head, is not a printable character). */
static bool looks_like_hex(const uint8_t *p, size_t len, size_t *digits)
{
    *digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (hex_digit(p[i]) >= 0)
            (*digits)++;
        else if (!isspace(p[i]))
            return false;
    }
    return *digits > 0;
}

/* Drop the white space and convert in place: the bytes take half the room
 * of their digits. */
static void unhex_in_place(cli_buf_t *buf)
{
    size_t o = 0;
    int high = -1;
    for (size_t i = 0; i < buf->len; i++) {
        int v = hex_digit(buf->data[i]);
        if (v < 0)
            continue;
        if (high < 0) {
            high = v;
        } else {
            buf->data[o++] = (uint8_t)(high << 4 | v);
            high = -1;
        }
    }
    buf->len = o;
}

int cli_read_input(const cli_cmd_t *cmd, const char *path, cli_buf_t *out)
{
    int rc = cli_read_file(cmd, path, out);
    if (rc != 0)
        return rc;
    size_t digits;
    if (out->len == 0) {
        cli_buf_free(out);
        return cli_error(cmd, "%s: empty input", cli_input_label(path));
    }
    if (looks_like_hex(out->data, out->len, &digits)) {
        if (digits % 2 != 0) {
            cli_buf_free(out);
            return cli_error(cmd,
                             "%s: hex input has an odd number of digits "
                             "(%zu): truncated at byte %zu",
                             cli_input_label(path), digits, digits / 2);
        }
        unhex_in_place(out);
    }
    return 0;
}

bool cli_output_option(int opt, const char *arg, cli_output_t *out)
{
    switch (opt) {
    case 'o': out->path = arg; return true;
    case 'x': out->format = CLI_FORMAT_HEX; return true;
    case 'b': out->format = CLI_FORMAT_BINARY; return true;
    default: return false;
    }
}

static int write_all(int fd, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cli_print_json(const cli_cmd_t *cmd, json_t *j)
{
    char *text =
        j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (text == NULL)
        return cli_error(cmd, "out of memory");
    int rc = puts(text) < 0 ? cli_error(cmd, "cannot write stdout") : 0;
    free(text);
    return rc;
}

int cli_write_file(const cli_cmd_t *cmd, const char *path, mode_t mode,
                   const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return cli_error(cmd, "%s: cannot create: %s", path, strerror(errno));
    /* O_CREAT's mode does not apply to an existing file: set it, but only
     * on a regular file (never on /dev/null or a terminal). */
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? -errno : 0;
    if (rc == 0 && S_ISREG(st.st_mode) && fchmod(fd, mode) != 0)
        rc = -errno;
    if (rc == 0)
        rc = write_all(fd, bytes, len);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc != 0)
        return cli_error(cmd, "%s: cannot write: %s", path, strerror(-rc));
    return 0;
}

char *cli_hex(const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789ABCDEF";
    char *text = malloc(2 * len + 1);
    if (text == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    text[2 * len] = '\0';
    return text;
}

int cli_unhex(const char *text, size_t len, uint8_t *out)
{
    if (len % 2 != 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i += 2) {
        int high = hex_digit((unsigned char)text[i]);
        int low = hex_digit((unsigned char)text[i + 1]);
        if (high < 0 || low < 0)
            return -EINVAL;
        out[i / 2] = (uint8_t)(high << 4 | low);
    }
    return 0;
}

/* Hex text with a final newline, the form `teep decode` reads back. */
static int write_hex(const cli_cmd_t *cmd, const cli_output_t *out,
                     const uint8_t *bytes, size_t len)
{
    char *text = cli_hex(bytes, len);
    if (text == NULL)
        return cli_error(cmd, "out of memory");
    size_t n = 2 * len;
    text[n++] = '\n'; /* replaces the terminator: the length is explicit */
    int rc;
    if (out->path != NULL) {
        rc = cli_write_file(cmd, out->path, 0644, text, n);
    } else {
        rc = write_all(STDOUT_FILENO, text, n);
        if (rc != 0)
            rc = cli_error(cmd, "stdout: %s", strerror(-rc));
    }
    free(text);
    return rc;
}

int cli_write_output(const cli_cmd_t *cmd, const cli_output_t *out,
                     const uint8_t *bytes, size_t len)
{
    cli_format_t format = out->format;
    if (format == CLI_FORMAT_AUTO)
        format = out->path != NULL ? CLI_FORMAT_BINARY : CLI_FORMAT_HEX;
    if (format == CLI_FORMAT_HEX)
        return write_hex(cmd, out, bytes, len);
    if (out->path != NULL)
        return cli_write_file(cmd, out->path, 0644, bytes, len);
    if (isatty(STDOUT_FILENO))
        return cli_error(cmd, "not writing binary to a terminal: use --out "
                              "FILE, --hex, or a pipe");
    int rc = write_all(STDOUT_FILENO, bytes, len);
    return rc != 0 ? cli_error(cmd, "stdout: %s", strerror(-rc)) : 0;
}

int cli_keys_add(const cli_cmd_t *cmd, cli_keys_t *keys, const char *path)
{
    if (keys->count == CLI_MAX_KEYS)
        return cli_usage_error(cmd, "at most %d --key options", CLI_MAX_KEYS);
    keys->paths[keys->count++] = path;
    return 0;
}

int cli_keys_load(const cli_cmd_t *cmd, cli_keys_t *keys)
{
    if (keys->count == 0)
        return cli_usage_error(cmd, "missing --key KEY");
    for (size_t i = 0; i < keys->count; i++) {
        int rc = teep_key_load_file(&keys->keys[i], keys->paths[i]);
        if (rc != 0) {
            /* keys[0..i] may hold something to release; the failed one
             * is still zeroed or cleared, which teep_key_clear accepts. */
            keys->count = i + 1;
            return cli_error(cmd,
                             "%s: cannot load key: %s (expected PEM, or a "
                             "COSE_Key in binary or hex)",
                             keys->paths[i], teep_strerror(rc));
        }
    }
    return 0;
}

void cli_keys_clear(cli_keys_t *keys)
{
    for (size_t i = 0; i < keys->count; i++)
        teep_key_clear(&keys->keys[i]);
    keys->count = 0;
}

bool cli_key_check_args(const cli_cmd_t *cmd, int argc, char **argv,
                        cli_keys_t *keys, const char **path, int *exit_code)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc;
    while ((opt = getopt_long(argc, argv, ":k:h", options, NULL)) != -1) {
        if (opt != 'k') {
            *exit_code = cli_option_default(cmd, opt, argv);
            return false;
        }
        rc = cli_keys_add(cmd, keys, optarg);
        if (rc != 0) {
            *exit_code = rc;
            return false;
        }
    }
    rc = cli_one_operand(cmd, argc, argv, path);
    if (rc == 0)
        rc = cli_keys_load(cmd, keys);
    *exit_code = rc;
    return rc == 0;
}
