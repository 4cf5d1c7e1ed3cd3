/*
 * net/http_internal.h: what the server and the client share besides the
 * connection (net/conn.h): an intrusive list and head building helpers.
 */
#ifndef TEEP_NET_HTTP_INTERNAL_H
#define TEEP_NET_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "teep/http.h"

#define teep_http__container_of(ptr, type, member)                             \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void teep_http__list_init(teep_http__link_t *l)
{
    l->next = l->prev = l;
}

static inline bool teep_http__list_empty(const teep_http__link_t *l)
{
    return l->next == l;
}

static inline void teep_http__list_insert_tail(teep_http__link_t *head,
                                               teep_http__link_t *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void teep_http__list_insert_head(teep_http__link_t *head,
                                               teep_http__link_t *n)
{
    n->next = head->next;
    n->prev = head;
    head->next->prev = n;
    head->next = n;
}

/* Unlink n; n stays a valid empty list, so removing twice is harmless. */
static inline void teep_http__list_remove(teep_http__link_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

/* Whether a user header may be sent: a token name that is none of the
 * NULL-terminated managed names (lower case; the module writes them
 * itself), and a value without CR, LF or NUL (no header injection). */
bool teep_http__header_ok(const teep_http_header_t *h,
                          const char *const *managed);

/* A set of header fields that passed teep_http__header_ok, remembered
 * as written on the wire ("name: value\r\n" each).  The relay sends the
 * same few fields with every message (the TEEP media type, the security
 * headers, its User-Agent): comparing them with the remembered copy costs
 * a fraction of checking each byte of each name against the token table
 * and each value for CR, LF and NUL again, and the copy is then written
 * with one memcpy.  The check is a pure function of the bytes, so an
 * equal set passes as the remembered one did. */
#define TEEP_HTTP__MEMO_FIELDS 8
#define TEEP_HTTP__MEMO_BYTES  480
typedef struct teep_http__header_memo {
    size_t n;                                /* fields remembered; 0: none */
    size_t size;                             /* bytes of text */
    uint16_t len[TEEP_HTTP__MEMO_FIELDS][2]; /* name, value */
    uint8_t text[TEEP_HTTP__MEMO_BYTES];
} teep_http__header_memo_t;

/* Whether every one of the n fields passes teep_http__header_ok(managed).
 * memo holds the last set that passed; use one memo with one managed list
 * only, on one thread.  *wire receives the fields as written on the wire
 * when the memo holds them now (valid until the memo's next use), else
 * {NULL, 0}: then write them with teep_http__put_header. */
bool teep_http__headers_ok(const teep_http_header_t *h, size_t n,
                           const char *const *managed,
                           teep_http__header_memo_t *memo, teep_slice_t *wire);

/* Bytes one header takes on the wire: "name: value\r\n". */
static inline size_t teep_http__header_size(const teep_http_header_t *h)
{
    return h->name.len + h->value.len + 4;
}

/* Append helpers over a buffer sized in advance (no bounds checks: the
 * caller computed the size). */
static inline void teep_http__put(teep_buf_t *b, const void *p, size_t n)
{
    memcpy(b->last, p, n);
    b->last += n;
}

static inline void teep_http__put_str(teep_buf_t *b, const char *s)
{
    teep_http__put(b, s, strlen(s));
}

void teep_http__put_header(teep_buf_t *b, const teep_http_header_t *h);

/* Decimal digits of v. */
void teep_http__put_u64(teep_buf_t *b, uint64_t v);

/* Resolve head spans (relative to base) into headers[]; returns the number
 * of fields.  The well-known fields of a request or response are looked
 * up by the caller with teep_http_header_find. */
struct teep_http__head;
size_t teep_http__resolve_fields(const struct teep_http__head *head,
                                 const uint8_t *base,
                                 teep_http_header_t *headers);

#endif
