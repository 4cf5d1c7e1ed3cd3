/*
 * teep/http.h: the HTTP/1.1 server and client every teep-broker component
 * shares (the TAM's server, the broker's agent-side server and TAM-side
 * client pools, the load harness), on libuv streams, with TLS through
 * OpenSSL memory BIOs on the same streams (teep/tls.h).  docs/http.md is
 * the long form of this contract.
 *
 * Objects (libuv style): the caller allocates teep_http_server_t,
 * teep_http_client_t and teep_http_client_req_t, keeps them in place while
 * they are in use, and frees them only after their close / completion
 * callback.  Closing is asynchronous.  Everything runs on one loop; nothing
 * here is thread-safe, so run one server (and its own client pools) per
 * loop and thread, sharing a port with TEEP_HTTP_REUSEPORT.  While any
 * connection is open on a loop, the module keeps two handles of its own
 * there (the deadlines' timer and the write-callback idle handle), closed
 * with the last connection: close only the handles you own (no uv_walk
 * closing everything), then run the loop until it is empty.
 *
 * Buffers: bodies travel as teep_buf_t (teep/buf.h).  "Takes a reference"
 * and "borrowed" are stated on each function.  Bodies are written with
 * writev next to a separately built head: never copied on plain HTTP.
 *
 * Errors: 0 or a negative code: -errno for misuse and system failures
 * (-EINVAL, -ENOMEM, -EADDRINUSE ...), TEEP_HTTP_E_* for what happened on
 * the wire.  teep_http_strerror names them all.
 */
#ifndef TEEP_HTTP_H
#define TEEP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "teep/buf.h"
#include "teep/common.h"
#include "teep/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Wire errors: -5400..-5499, outside errno's range and apart from the
 * TEEP_E_* (-50xx) and SUIT (-51xx) codes. */
enum {
    TEEP_HTTP_E_CONNECT = -5400,         /* TCP connect failed (refused ...) */
    TEEP_HTTP_E_CONNECT_TIMEOUT = -5401, /* connect + TLS handshake too slow */
    TEEP_HTTP_E_READ_TIMEOUT = -5402,    /* no response byte for too long */
    TEEP_HTTP_E_RESET = -5403,     /* the peer closed or reset the connection
                                      before the message was complete */
    TEEP_HTTP_E_MALFORMED = -5404, /* not HTTP/1.x (400) */
    TEEP_HTTP_E_TLS = -5405,       /* handshake, verification or record
                                      failure */
    TEEP_HTTP_E_OVERLOAD = -5406,  /* client pool queue full */
    TEEP_HTTP_E_CANCELED = -5407,  /* teep_http_client_cancel / close */
    TEEP_HTTP_E_HEADER_TOO_LARGE = -5408, /* head over the limit (431) */
    TEEP_HTTP_E_BODY_TOO_LARGE = -5409,   /* body over the limit (413) */
    TEEP_HTTP_E_TIMEOUT = -5410, /* request head or body too slow (408) */
    TEEP_HTTP_E_RESOLVE = -5411, /* the upstream host name did not resolve */
    TEEP_HTTP_E_URL = -5412,     /* not an http:// or https:// URL */
};

/* Stable short name of a TEEP_HTTP_E_* or -errno code; never NULL. */
const char *teep_http_strerror(int code);

/* Bounds every configuration is checked against. */
#define TEEP_HTTP_MAX_HEADERS   64 /* header fields in one message */
#define TEEP_HTTP_MAX_LISTENERS 8  /* addresses one server listens on */
#define TEEP_HTTP_MAX_HOST      255

/* One header field.  Received fields point into the connection's read
 * buffer; fields passed in are borrowed for the call. */
typedef struct teep_http_header {
    teep_slice_t name;
    teep_slice_t value;
} teep_http_header_t;

/* A header field from a C string pair, for building header arrays. */
#define TEEP_HTTP_HEADER(n, v)                                                 \
    {                                                                          \
        {(const uint8_t *)(n), sizeof(n) - 1},                                 \
        {                                                                      \
            (const uint8_t *)(v), sizeof(v) - 1                                \
        }                                                                      \
    }

/* Find the first field named name (ASCII case-insensitive) among n
 * headers.  Returns 0 and sets *value, or -ENOENT. */
int teep_http_header_find(const teep_http_header_t *headers, size_t n,
                          const char *name, teep_slice_t *value);

/* ---------------------------------------------------------------- URLs */

/* A parsed "http[s]://host[:port][/path]" URL.  host is NUL-terminated
 * without IPv6 brackets; path points into the parsed string ("/" when the
 * URL has none: then path.ptr is a static "/"). */
typedef struct teep_http_url {
    bool tls;
    char host[TEEP_HTTP_MAX_HOST + 1];
    uint16_t port; /* the scheme's default (80, 443) when absent */
    teep_slice_t path;
} teep_http_url_t;

/* Parse url (NUL-terminated); its authority as teep/authority.h splits
 * it.  Userinfo and fragments are refused.  Returns 0 or TEEP_HTTP_E_URL. */
int teep_http_url_parse(const char *url, teep_http_url_t *out);

/* Parse "host:port", "[v6]:port" or, when default_port is non-zero, a bare
 * host (teep/authority.h says which).  Port 0 is accepted (a listener's
 * "any free port"; a URL never has it).  host_out receives the host
 * without brackets (at most TEEP_HTTP_MAX_HOST + 1 bytes with the NUL).
 * Returns 0 or -EINVAL. */
int teep_http_hostport_parse(const char *s, uint16_t default_port,
                             char host_out[TEEP_HTTP_MAX_HOST + 1],
                             uint16_t *port);

/* Fill *out from an IPv4 or IPv6 literal and a port.  Returns 0, or
 * -EINVAL when host is not an address literal (a name to resolve). */
int teep_http_addr_literal(const char *host, uint16_t port,
                           struct sockaddr_storage *out);

/* Private list link used inside the structs below. */
typedef struct teep_http__link {
    struct teep_http__link *next;
    struct teep_http__link *prev;
} teep_http__link_t;

/* Optional log sink: one line naming what happened, without newline. */
typedef void (*teep_http_log_cb)(void *data, const char *line);

/* -------------------------------------------------------------- server */

typedef struct teep_http_server teep_http_server_t;
typedef struct teep_http_request teep_http_request_t;

typedef struct teep_http_server_config {
    size_t max_connections;     /* default 10000; more are closed at once */
    size_t max_header_size;     /* request line + headers, default 8192 (431) */
    size_t max_headers;         /* default 64 = TEEP_HTTP_MAX_HEADERS (431) */
    size_t max_body_size;       /* default 1 MiB (413, checked against
                                   Content-Length before any body byte) */
    size_t max_pipelined;       /* requests one connection may have waiting
                                   for their responses, default 16: past it
                                   the server stops reading (backpressure) */
    size_t read_buffer_size;    /* default 16384; at least max_header_size
                                   + 1024 is used */
    size_t body_headroom;       /* headroom of assembled request bodies */
    uint64_t header_timeout_ms; /* connect or first byte to end of head,
                                   default 10000 (408) */
    uint64_t body_timeout_ms;   /* end of head to end of body, default
                                   30000 (408) */
    uint64_t idle_timeout_ms;   /* keep-alive connection without a request,
                                   default 60000 (closed silently) */
    uint64_t linger_ms;         /* after an error response, read and drop
                                   what the client still sends for this
                                   long before closing, default 1000 */
    const teep_tls_ctx_t *tls;  /* a server context: HTTPS; NULL: HTTP */
    teep_http_log_cb log;       /* NULL: silent */
    void *log_data;
} teep_http_server_config_t;

/* Fill cfg with the defaults above. */
void teep_http_server_config_default(teep_http_server_config_t *cfg);

typedef struct teep_http_server_stats {
    uint64_t connections_accepted;
    uint64_t connections_refused; /* over max_connections */
    uint64_t connections_active;
    uint64_t requests;       /* handed to the request callback */
    uint64_t responses;      /* fully written */
    uint64_t abandoned;      /* requests whose connection went away */
    uint64_t bad_requests;   /* 400 sent */
    uint64_t timeouts;       /* 408 sent */
    uint64_t body_too_large; /* 413 sent */
    uint64_t head_too_large; /* 431 sent */
    uint64_t tls_failures;
    uint64_t bytes_in; /* bytes read from sockets (TLS: ciphertext) */
    uint64_t bytes_out;
} teep_http_server_stats_t;

/* A request, allocated by the server.  The handler receives it complete
 * (head and body) and must answer it exactly once with teep_http_respond,
 * now or later; until then the request and everything it points to stay
 * valid, unless the connection goes away first: then the abandon callback
 * runs and the request is gone when it returns. */
struct teep_http_request {
    void *data; /* the handler's */
    teep_http_server_t *server;
    const char *method;  /* "POST", "GET" ... (static string) */
    teep_slice_t target; /* request-target as sent: "/tam?x=1" */
    teep_slice_t path;   /* target before any '?' */
    teep_slice_t host;   /* these four: empty when absent */
    teep_slice_t content_type;
    teep_slice_t accept;
    teep_slice_t authorization;
    int64_t content_length; /* -1 when absent (chunked body or none) */
    int http_minor;         /* HTTP/1.<minor> */
    const teep_http_header_t *headers; /* every field, in order */
    size_t header_count;
    teep_buf_t *body; /* NULL when the body is empty.  The request holds one
                         reference, dropped after the response is written or
                         the request abandoned: take your own reference to
                         keep the body longer.  The bytes were received
                         once: a body that fit in the connection's read
                         buffer is a view of it, a larger one was read
                         straight into a buffer sized from Content-Length,
                         with body_headroom in front. */
    const char *peer; /* the client's address, "192.0.2.1:40000" or
                         "[2001:db8::1]:40000" ("?" when unknown), read
                         once per connection; valid as long as req */
};

/* Called for each complete request, in arrival order. */
typedef void (*teep_http_request_cb)(teep_http_server_t *server,
                                     teep_http_request_t *req);
/* The connection of a request the handler had not answered closed (reset,
 * timeout, server stop).  Cancel the upstream work; req is freed when this
 * returns and must not be answered. */
typedef void (*teep_http_abandon_cb)(teep_http_server_t *server,
                                     teep_http_request_t *req);
typedef void (*teep_http_server_stop_cb)(teep_http_server_t *server);

struct teep_http_server {
    void *data; /* the user's */
    teep_http_server_stats_t stats;
    /* private */
    uv_loop_t *loop;
    teep_http_server_config_t cfg;
    teep_http_request_cb on_request;
    teep_http_abandon_cb on_abandon;
    teep_http_server_stop_cb on_stop;
    uv_tcp_t listeners[TEEP_HTTP_MAX_LISTENERS];
    size_t listener_count;
    teep_http__link_t conns;
    size_t open_handles; /* listeners and connections not yet closed */
    bool stopping;
    uint64_t date_second;
    char date[40];
};

/* Initialise a server on loop.  cfg is copied (NULL: defaults); on_request
 * is required, on_abandon may be NULL when the handler always answers
 * synchronously.  Returns 0 or -EINVAL for an out-of-range limit or a
 * client TLS context. */
int teep_http_server_init(teep_http_server_t *server, uv_loop_t *loop,
                          const teep_http_server_config_t *cfg,
                          teep_http_request_cb on_request,
                          teep_http_abandon_cb on_abandon);

/* Listen flags. */
#define TEEP_HTTP_REUSEPORT                                                    \
    1u                      /* SO_REUSEPORT: one listener per loop/thread      \
                               on the same port, the kernel spreads            \
                               connections among them */
#define TEEP_HTTP_V6ONLY 2u /* an IPv6 listener refuses IPv4 */

/* Listen on an IPv4 or IPv6 address literal and port (0: ephemeral, see
 * teep_http_server_port).  Call up to TEEP_HTTP_MAX_LISTENERS times.
 * Returns 0, -EINVAL (not a literal), -ENOSPC (too many listeners),
 * -EADDRINUSE and other bind/listen -errno. */
int teep_http_server_listen(teep_http_server_t *server, const char *host,
                            uint16_t port, unsigned flags);

/* The port listener number index (in listen order) is bound to, or a
 * negative code. */
int teep_http_server_port(teep_http_server_t *server, size_t index);

/* Answer req: status (100..999 but not 1xx), extra headers (borrowed for
 * the call; the server adds Date, Content-Length and Connection itself and
 * refuses them here), and body or NULL.  The server takes a reference to
 * body and writes it after a head it builds, with writev, without copying
 * it (TLS encrypts it).  Responses leave in request order.  req is freed
 * by the server after the write; do not touch it after this call.
 * Returns 0; -EINVAL (bad status, header name or value with CR/LF or one
 * of the managed headers; req stays yours to answer again); -ENOMEM. */
int teep_http_respond(teep_http_request_t *req, int status,
                      const teep_http_header_t *headers, size_t header_count,
                      teep_buf_t *body);

/* Graceful stop: close the listeners, answer every request already
 * received (their responses carry Connection: close), close idle
 * connections and those with only part of a request, then call cb once
 * every handle is closed; the server may then be freed.  A second call
 * does nothing. */
void teep_http_server_stop(teep_http_server_t *server,
                           teep_http_server_stop_cb cb);

/* -------------------------------------------------------------- client */

typedef struct teep_http_client teep_http_client_t;
typedef struct teep_http_client_req teep_http_client_req_t;

typedef struct teep_http_client_config {
    size_t max_connections;      /* to this origin, default 64 */
    size_t max_pending;          /* requests waiting for a connection,
                                    default 1024 (then TEEP_HTTP_E_OVERLOAD) */
    uint64_t connect_timeout_ms; /* TCP connect + TLS handshake, default
                                    5000 */
    uint64_t read_timeout_ms;    /* longest silence while a response is
                                    due, default 30000 */
    uint64_t idle_timeout_ms;    /* close an unused keep-alive connection
                                    after this, default 30000 */
    size_t max_header_size;      /* response head, default 16384 */
    size_t max_headers;          /* default TEEP_HTTP_MAX_HEADERS */
    size_t max_body_size;        /* response body, default 1 MiB */
    size_t read_buffer_size;     /* default 16384 (see the server's) */
    size_t body_headroom;        /* headroom of assembled response bodies */
    const teep_tls_ctx_t *tls;   /* a client context, required for https */
} teep_http_client_config_t;

void teep_http_client_config_default(teep_http_client_config_t *cfg);

typedef struct teep_http_client_stats {
    uint64_t idle;       /* connections open and unused */
    uint64_t busy;       /* connections with a request in flight */
    uint64_t connecting; /* connections being opened */
    uint64_t pending;    /* requests waiting for a connection */
    uint64_t connects;   /* connections opened successfully */
    uint64_t connect_failures;
    uint64_t requests; /* completed with a response */
    uint64_t reused;   /* requests sent on an already used connection */
    uint64_t retries;  /* requests resent after a stale keep-alive */
    uint64_t failures; /* completed with an error */
} teep_http_client_stats_t;

/* A response, borrowed for the completion callback: take a reference to
 * body to keep it. */
typedef struct teep_http_response {
    int status;
    int http_minor;
    const teep_http_header_t *headers;
    size_t header_count;
    teep_slice_t content_type; /* empty when absent */
    teep_buf_t *body;          /* NULL when empty */
} teep_http_response_t;

/* Completion: exactly once per accepted request.  status is 0 with resp
 * set, or a negative code with resp NULL: TEEP_HTTP_E_CONNECT,
 * _CONNECT_TIMEOUT, _READ_TIMEOUT, _RESET, _MALFORMED, _TLS,
 * _HEADER_TOO_LARGE, _BODY_TOO_LARGE, _RESOLVE, _CANCELED.  After the
 * callback the pool no longer touches req. */
typedef void (*teep_http_client_cb)(teep_http_client_req_t *req, int status,
                                    const teep_http_response_t *resp);
typedef void (*teep_http_client_close_cb)(teep_http_client_t *client);

struct teep_http_client_req {
    void *data; /* the user's */
    /* private */
    teep_http_client_t *client;
    teep_http__link_t link;
    void *conn;
    teep_buf_t *head;
    teep_buf_t *body;
    teep_http_client_cb cb;
    bool head_method; /* HEAD: a response body is never sent */
    bool retried;
    bool fresh_only; /* the retry must not reuse a connection */
    uint8_t state;
};

struct teep_http_client {
    void *data; /* the user's */
    /* private */
    uv_loop_t *loop;
    teep_http_client_config_t cfg;
    teep_http_url_t origin;
    char host_header[TEEP_HTTP_MAX_HOST + 9];
    struct sockaddr_storage addr;
    uv_getaddrinfo_t resolver;
    uint8_t resolve_state;
    teep_http__link_t idle;
    teep_http__link_t busy;
    teep_http__link_t connecting;
    teep_http__link_t pending;
    teep_http_client_stats_t stats;
    size_t open_handles; /* connections not yet closed, + a resolution */
    bool closing;
    teep_http_client_close_cb on_close;
};

/* Initialise a pool for the origin of url ("http://127.0.0.1:8080",
 * "https://tam.example:8443/tam": the path is ignored).  cfg is copied
 * (NULL: defaults).  No connection is made yet; a host name is resolved
 * once, at the first request.  Returns 0, TEEP_HTTP_E_URL, -EINVAL (https
 * without a client TLS context, a bad limit). */
int teep_http_client_init(teep_http_client_t *client, uv_loop_t *loop,
                          const char *url,
                          const teep_http_client_config_t *cfg);

/* Send a request on a keep-alive connection of the pool (opening one when
 * none is idle and max_connections allows, else queueing).  method and
 * path ("/tam") are copied; headers are borrowed for the call (the pool
 * adds Host, Content-Length, and refuses Host, Content-Length, Connection,
 * Transfer-Encoding); the pool takes a reference to body (NULL: none) and
 * writes it after the head with writev.  cb runs exactly once, never from
 * inside this call.
 * Retry: a request that meets a kept-alive connection closed by the server
 * before any response byte is sent again, once, on a new connection.  Like
 * any HTTP client that retries, this assumes the request is idempotent or
 * that the server had not acted on it (RFC 9110 section 9.2.2): a TAM sees
 * TEEP tokens and SUIT sequence numbers that make a duplicate harmless.
 * Returns 0; TEEP_HTTP_E_OVERLOAD when max_pending requests wait already;
 * TEEP_HTTP_E_CANCELED when the pool is closing; -EINVAL; -ENOMEM. */
int teep_http_client_request(teep_http_client_t *client,
                             teep_http_client_req_t *req, const char *method,
                             const char *path,
                             const teep_http_header_t *headers,
                             size_t header_count, teep_buf_t *body,
                             teep_http_client_cb cb);

/* Cancel a request: its callback runs now, inside this call, with
 * TEEP_HTTP_E_CANCELED.  A request already on the wire costs its
 * connection (closed, since its response would be unclaimed).  Returns 0,
 * or -EALREADY when the request has completed. */
int teep_http_client_cancel(teep_http_client_req_t *req);

/* Counters and the current idle / busy / connecting / pending numbers. */
void teep_http_client_stats(const teep_http_client_t *client,
                            teep_http_client_stats_t *out);

/* Close every connection; requests not yet completed get
 * TEEP_HTTP_E_CANCELED; cb runs once everything is closed, then the client
 * may be freed.  A second call does nothing. */
void teep_http_client_close(teep_http_client_t *client,
                            teep_http_client_close_cb cb);

#ifdef __cplusplus
}
#endif
#endif
