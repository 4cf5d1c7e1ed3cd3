/*
 * teep_bench_coap.c: CoAP agents (docs/transport-coap.md) on libcoap 3
 * (4.3.1, OpenSSL flavour), as tools/teep-agent speaks it.  An agent is
 * one client session, with a UDP socket (a source port) of its own, so
 * that the broker sees one CoAP peer per agent.  Every session lives in
 * ONE libcoap context: libcoap keeps their sockets and its timers in one
 * epoll descriptor, watched by one uv_poll on the bench's loop, with a
 * uv_timer for when libcoap next wants to run (retransmissions), as the
 * broker's transport does (plugins/transport/coap/coap_io.c).
 *
 * An exchange: CON POST <path> with Content-Format 65060 and the body,
 * answered (separately, after libcoap's ACK) by 2.04 with the TAM's next
 * message.  With coap_get (the CoAP baseline: libcoap's coap-server,
 * which cannot relay to an HTTP TAM, answering a resource from memory),
 * the same request as GET, answered by 2.05 and the resource's data.  Anything
 * else, or libcoap giving up (a NACK: no answer after its retransmissions, an
 * RST), ends it not ok.  The bench's answers are small, so the CON separate
 * response carries no Block2 (the case libcoap 4.3.1's client drops, see the
 * binding's "Clients" note).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <coap3/coap.h>

#include "teep/transport_plugin.h" /* TEEP_COAP_CONTENT_FORMAT */
#include "teep_bench.h"

#define MAX_SEGMENTS 8
#define ROUNDS       8 /* epoll rounds per wake-up, as the broker */
#define EVENTS       64

typedef struct fleet fleet_t;

typedef struct {
    fleet_t *f;
    coap_session_t *session;
    uint8_t token[8];
    size_t token_len;
    unsigned index;
    bool pending;
    bool idle; /* idle agents: answered once */
} agent_t;

struct fleet {
    coap_context_t *ctx;
    coap_address_t dst;
    coap_optlist_t *opts;   /* Uri-Path and Content-Format, every request */
    const uint8_t *body;    /* borrowed: the run's */
    coap_pdu_code_t method; /* POST, or GET for the baseline */
    coap_pdu_code_t answer; /* 2.04 (POST) or 2.05 (GET) */
    size_t body_len;
    agent_t *agents;
    unsigned n;
    unsigned sources; /* 0: the system picks the source address */
    uv_poll_t poll;
    uv_timer_t io_timer;
    unsigned handles; /* closing: libuv's close callbacks to come */
    bool closing;
    /* how an exchange ended, for the load run or the idle ramp */
    void (*outcome)(fleet_t *f, agent_t *a, bool ok);
    teep_bench_load_t *load;
    teep_bench_idle_t *ramp;
};

/* ------------------------------------------------------------ libcoap */

static void on_io_timer(uv_timer_t *t);

/* What coap_io_process(ctx, COAP_IO_NO_WAIT) does, with
 * coap_io_prepare_epoll (which walks every session) once per wake-up. */
static void run(fleet_t *f)
{
    struct epoll_event events[EVENTS];
    int fd = coap_context_get_coap_fd(f->ctx);
    for (int i = 0; i < ROUNDS; i++) {
        int n = epoll_wait(fd, events, EVENTS, 0);
        if (n <= 0)
            break;
        coap_io_do_epoll(f->ctx, events, (size_t)n);
    }
    coap_tick_t now;
    coap_ticks(&now);
    unsigned next_ms = coap_io_prepare_epoll(f->ctx, now);
    if (!f->closing)
        uv_timer_start(&f->io_timer, on_io_timer, next_ms ? next_ms : 1000, 0);
}

static void on_io_timer(uv_timer_t *t)
{
    run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)events;
    if (status == 0)
        run(p->data);
}

/* After a request sent from outside libcoap's handlers: its
 * retransmission timer has to be set. */
static void kick(fleet_t *f)
{
    if (!f->closing)
        uv_timer_start(&f->io_timer, on_io_timer, 0, 0);
}

static agent_t *agent_of(coap_session_t *s, coap_bin_const_t tok)
{
    agent_t *a = coap_session_get_app_data(s);
    if (a == NULL || a->f->closing || !a->pending ||
        tok.length != a->token_len || memcmp(tok.s, a->token, tok.length) != 0)
        return NULL; /* a late duplicate, not ours, or libcoap giving
                        up what was queued as the fleet closes */
    return a;
}

static void end_exchange(agent_t *a, bool ok)
{
    a->pending = false;
    a->f->outcome(a->f, a, ok);
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *rcvd, const coap_mid_t mid)
{
    (void)sent;
    (void)mid;
    agent_t *a = agent_of(s, coap_pdu_get_token(rcvd));
    if (a != NULL) {
        size_t len = 0;
        const uint8_t *data = NULL;
        coap_get_data(rcvd, &len, &data);
        end_exchange(a, coap_pdu_get_code(rcvd) == a->f->answer && len > 0);
    }
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    (void)reason;
    (void)mid;
    agent_t *a = sent != NULL ? agent_of(s, coap_pdu_get_token(sent)) : NULL;
    if (a != NULL)
        end_exchange(a, false);
}

static void log_quiet(coap_log_t level, const char *message)
{
    (void)level;
    (void)message; /* a flood of retransmission notes would be the bench's
                      own load; outcomes are counted instead */
}

/* ------------------------------------------------------------ the fleet */

/* The options every request carries: the URI's path segments and the
 * TEEP Content-Format. */
static int make_opts(fleet_t *f, const coap_uri_t *u)
{
    const uint8_t *p = u->path.s;
    size_t left = u->path.length;
    for (int i = 0; left > 0; i++) {
        const uint8_t *slash = memchr(p, '/', left);
        size_t n = slash != NULL ? (size_t)(slash - p) : left;
        if (i == MAX_SEGMENTS ||
            !coap_insert_optlist(&f->opts,
                                 coap_new_optlist(COAP_OPTION_URI_PATH, n, p)))
            return -ENOMEM;
        p += n;
        left -= n;
        if (left > 0) {
            p++;
            left--;
        }
    }
    uint8_t buf[4];
    if (!coap_insert_optlist(
            &f->opts,
            coap_new_optlist(COAP_OPTION_CONTENT_FORMAT,
                             coap_encode_var_safe(buf, sizeof(buf),
                                                  TEEP_COAP_CONTENT_FORMAT),
                             buf)))
        return -ENOMEM;
    return 0;
}

static int fleet_open(fleet_t *f, uv_loop_t *loop, const char *url,
                      const uint8_t *body, size_t body_len, unsigned n,
                      unsigned sources, bool get)
{
    static bool started;
    if (!started) {
        started = true;
        coap_startup();
        coap_set_log_level(LOG_ERR);
        coap_set_log_handler(log_quiet);
    }
    coap_uri_t u;
    char host[64];
    if (url == NULL ||
        coap_split_uri((const uint8_t *)url, strlen(url), &u) != 0 ||
        u.scheme != COAP_URI_SCHEME_COAP || u.host.length >= sizeof(host) ||
        u.path.length == 0)
        return -EINVAL; /* coaps: the broker's DTLS is not the bench's */
    memcpy(host, u.host.s, u.host.length);
    host[u.host.length] = '\0';
    coap_address_init(&f->dst);
    f->dst.size = sizeof(struct sockaddr_in);
    f->dst.addr.sin.sin_family = AF_INET;
    f->dst.addr.sin.sin_port = htons(u.port);
    if (inet_pton(AF_INET, host, &f->dst.addr.sin.sin_addr) != 1)
        return -EINVAL; /* an IPv4 address, as every bench target */
    f->agents = calloc(n, sizeof(*f->agents));
    f->ctx = coap_new_context(NULL);
    if (f->agents == NULL || f->ctx == NULL || make_opts(f, &u) < 0)
        return -ENOMEM;
    f->n = n;
    f->sources = sources;
    f->body = body;
    f->body_len = body_len;
    f->method = get ? COAP_REQUEST_CODE_GET : COAP_REQUEST_CODE_POST;
    f->answer = get ? COAP_RESPONSE_CODE_CONTENT : COAP_RESPONSE_CODE_CHANGED;
    coap_context_set_block_mode(f->ctx, COAP_BLOCK_USE_LIBCOAP |
                                            COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(f->ctx, on_response);
    coap_register_nack_handler(f->ctx, on_nack);
    int fd = coap_context_get_coap_fd(f->ctx);
    if (fd < 0)
        return -EIO;
    uv_poll_init(loop, &f->poll, fd);
    uv_timer_init(loop, &f->io_timer);
    f->poll.data = f->io_timer.data = f;
    uv_poll_start(&f->poll, UV_READABLE, on_poll);
    return 0;
}

/* Agent i's session: made on its first exchange (its own socket), from
 * 127.0.0.(2 + i % sources) when sources is set: the broker limits each
 * source address (peer_rate, peer_max_pending), and devices have an
 * address each.  libcoap binds with SO_REUSEADDR, so the port the system
 * picks may be one another session of ours holds already (libcoap then
 * refuses the duplicate): a few tries pick another. */
static agent_t *agent_session(fleet_t *f, unsigned i)
{
    agent_t *a = &f->agents[i];
    coap_address_t src;
    coap_address_init(&src);
    src.size = sizeof(struct sockaddr_in);
    src.addr.sin.sin_family = AF_INET;
    src.addr.sin.sin_addr.s_addr =
        htonl(0x7f000002u + (f->sources > 0 ? i % f->sources : 0));
    for (int tries = 0; a->session == NULL && tries < 8; tries++)
        a->session = coap_new_client_session(
            f->ctx, f->sources > 0 ? &src : NULL, &f->dst, COAP_PROTO_UDP);
    if (a->session == NULL)
        return NULL;
    if (coap_session_get_app_data(a->session) == NULL) {
        a->f = f;
        a->index = i;
        coap_session_set_app_data(a->session, a);
    }
    return a;
}

static int fleet_send(fleet_t *f, unsigned i)
{
    agent_t *a = agent_session(f, i);
    if (a == NULL)
        return -EADDRNOTAVAIL; /* or out of descriptors */
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, f->method,
                                    coap_new_message_id(a->session),
                                    coap_session_max_pdu_size(a->session));
    if (pdu == NULL)
        return -ENOMEM;
    coap_session_new_token(a->session, &a->token_len, a->token);
    /* libcoap sends Block1 itself should the body not fit a datagram;
     * the body stays the run's, nothing to release. */
    if (!coap_add_token(pdu, a->token_len, a->token) ||
        !coap_add_optlist_pdu(pdu, &f->opts) ||
        (f->body_len > 0 &&
         !coap_add_data_large_request(a->session, pdu, f->body_len, f->body,
                                      NULL, NULL))) {
        coap_delete_pdu(pdu);
        return -ENOMEM;
    }
    if (coap_send(a->session, pdu) == COAP_INVALID_MID)
        return -EIO;
    a->pending = true;
    kick(f);
    return 0;
}

static void fleet_handle_closed(uv_handle_t *h)
{
    fleet_t *f = h->data;
    if (--f->handles > 0)
        return;
    /* libcoap's descriptor is no longer polled: free it with the rest. */
    for (unsigned i = 0; i < f->n; i++)
        if (f->agents[i].session != NULL)
            coap_session_release(f->agents[i].session);
    coap_free_context(f->ctx);
    coap_delete_optlist(f->opts);
    free(f->agents);
    free(f);
}

static void fleet_close(void *state)
{
    fleet_t *f = state;
    f->closing = true;
    f->handles = 2;
    uv_close((uv_handle_t *)&f->poll, fleet_handle_closed);
    uv_close((uv_handle_t *)&f->io_timer, fleet_handle_closed);
}

/* A fleet that could not be opened: what was made goes again. */
static void fleet_abort(fleet_t *f)
{
    if (f->ctx != NULL && coap_context_get_coap_fd(f->ctx) >= 0 &&
        f->poll.data == f) {
        fleet_close(f);
        return;
    }
    if (f->ctx != NULL)
        coap_free_context(f->ctx);
    coap_delete_optlist(f->opts);
    free(f->agents);
    free(f);
}

/* ------------------------------------------------------------ load */

static void load_outcome(fleet_t *f, agent_t *a, bool ok)
{
    teep_bench_load_done(f->load, a->index, ok);
}

static int load_open(teep_bench_load_t *l, uv_loop_t *loop,
                     const teep_bench_load_opts_t *o, void **state)
{
    fleet_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    int rc = fleet_open(f, loop, o->url, o->body, o->body_len, o->connections,
                        o->sources, o->coap_get);
    if (rc < 0) {
        fleet_abort(f);
        return rc;
    }
    f->outcome = load_outcome;
    f->load = l;
    *state = f;
    return 0;
}

static int load_send(void *state, unsigned i)
{
    return fleet_send(state, i);
}

const teep_bench_agents_ops_t teep_bench_coap_agents = {
    .transport = "coap",
    .open = load_open,
    .send = load_send,
    .close = fleet_close,
};

/* ------------------------------------------------------------ idle */

static void idle_outcome(fleet_t *f, agent_t *a, bool ok)
{
    if (ok && !a->idle) {
        a->idle = true;
        teep_bench_idle_ready(f->ramp);
    } else if (!ok) {
        teep_bench_idle_failed(f->ramp, a->idle, -EPROTO);
    }
}

static int idle_open(teep_bench_idle_t *r, uv_loop_t *loop,
                     const teep_bench_idle_opts_t *o, unsigned most,
                     void **state)
{
    fleet_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    int rc = fleet_open(f, loop, o->url, o->body, o->body_len, most, o->sources,
                        false);
    if (rc < 0) {
        fleet_abort(f);
        return rc;
    }
    f->outcome = idle_outcome;
    f->ramp = r;
    *state = f;
    return 0;
}

static int idle_start(void *state, unsigned i)
{
    return fleet_send(state, i);
}

const teep_bench_idle_ops_t teep_bench_coap_idle = {
    .transport = "coap",
    .open = idle_open,
    .start = idle_start,
    .close = fleet_close,
};
