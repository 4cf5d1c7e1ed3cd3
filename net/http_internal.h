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
