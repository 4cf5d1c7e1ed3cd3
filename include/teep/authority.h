/*
 * teep/authority.h: the one splitter of a URI authority, "host",
 * "host:port" or "[IPv6]:port" (RFC 3986 section 3.2), that every URL and
 * listener address of teep-broker goes through: http[s]:// (teep/http.h),
 * coap[s]:// and ws[s]:// (the transport plugins), "host:port" options.
 * Part of libteepnet (net/authority.c); no allocation, no I/O, no name
 * resolution.
 */
#ifndef TEEP_AUTHORITY_H
#define TEEP_AUTHORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest host accepted (a DNS name is at most 253 characters). */
#define TEEP_AUTHORITY_MAX_HOST 255

/* A split authority; the caller's storage, filled by the parser. */
typedef struct teep_authority {
    char host[TEEP_AUTHORITY_MAX_HOST + 1]; /* NUL-terminated, no brackets */
    size_t host_len;                        /* strlen(host), 1 or more */
    uint16_t port;  /* as written, or the default when absent */
    bool has_port;  /* the authority had ":PORT" */
    bool bracketed; /* host was "[...]": an IPv6 literal */
} teep_authority_t;

/* teep_authority_parse flags. */
enum {
    /* Accept port 0 (a listener's "any free port"); an address to
     * connect to never has it. */
    TEEP_AUTHORITY_PORT_ZERO = 1u << 0,
};

/*
 * Split the authority s[0..len) (not necessarily NUL-terminated; a NUL
 * inside it is an error) into *out.  s is only read, and nothing of it is
 * kept: out->host is a copy.
 *
 *   host  one or more of A-Z a-z 0-9 . - _ ; or "[" one or more of those
 *         and ':' '%' (a zone) "]", with at least one ':' (an IPv6
 *         literal).  An empty host ("", ":80", "[]") is an error.  No
 *         userinfo ('@').  Names and literals are not checked further
 *         (teep_http_addr_literal, inet_pton do).
 *   port  ":" and one or more decimal digits (leading zeros allowed)
 *         of a value in 1..65535, or 0..65535 with
 *         TEEP_AUTHORITY_PORT_ZERO.  ":" without digits is an error.
 *         Absent: default_port, or an error when default_port is 0.
 *
 * Returns 0, or a negative errno, *out then zeroed: -ENAMETOOLONG (host
 * longer than TEEP_AUTHORITY_MAX_HOST), -ERANGE (port above 65535, or 0
 * not allowed), -EINVAL (anything else malformed, or a port missing).
 */
int teep_authority_parse(const char *s, size_t len, uint16_t default_port,
                         unsigned flags, teep_authority_t *out);

/* The length of the authority at the start of s (NUL-terminated: what
 * follows a URL's "scheme://"): up to the first '/', '?' or '#', or the
 * end.  The caller decides which of those may follow. */
size_t teep_authority_span(const char *s);

#endif
