/*
 * tam-real-agent: the project's real TEEP Agent core (libteepagent, on the
 * mbedtls backend) speaking TEEP over HTTP to a teep-tam through the shared
 * HTTP client, the way a broker session does: the empty POST, then every
 * answer back through teep_agent_process until the TAM answers 204.  The
 * TEE is files: TAs, their PD and UAs land in DIR/installed.  It is the
 * interoperability check between the TAM and the Agent (test_tam_interop.sh).
 *
 *   tam-real-agent init DIR --tam-key PEM --tc-signer PEM
 *       make the Agent's keys, write DIR/teep.pub.pem, DIR/attest.pub.pem
 *   tam-real-agent session DIR --tam-key PEM --tc-signer PEM --url URL
 *       one TEEP session; exit 0 when it ended with 204
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "teep/http.h"
#include "teep/suit.h"
#include "teep_agent.h"

#define PEM_MAX      1024
#define MAX_MESSAGES 32

static const uint8_t firmware_digest[32] = {0xf1, 0x2e};

typedef struct files {
    char dir[4096];
} files_t;

/* Store bytes as DIR/installed/<prefix><id with '/' as '_'>. */
static int put(const files_t *f, const char *prefix, teep_slice_t id,
               const char *name, const uint8_t *bytes, size_t len)
{
    char text[512] = "", path[4800];
    if (id.ptr != NULL &&
        teep_suit_component_id_to_text(id, text, sizeof(text)) != 0)
        return -EINVAL;
    for (char *c = text; *c != 0; c++)
        if (*c == '/')
            *c = '_';
    snprintf(path, sizeof(path), "%s/installed", f->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/installed/%s%s%s", f->dir, prefix, text,
             name != NULL ? name : "");
    FILE *out = fopen(path, "wb");
    if (out == NULL)
        return -errno;
    size_t n = fwrite(bytes, 1, len, out);
    return fclose(out) == 0 && n == len ? 0 : -EIO;
}

static int ta_install(void *ctx, teep_slice_t id, const uint8_t *bytes,
                      size_t len)
{
    return put(ctx, "", id, NULL, bytes, len);
}

static int ta_uninstall(void *ctx, teep_slice_t id)
{
    return 0;
}

static int pd_deliver(void *ctx, teep_slice_t ta, const uint8_t *pd, size_t len)
{
    return put(ctx, "pd-for-", ta, NULL, pd, len);
}

static int ua_install(void *ctx, const char *name, const uint8_t *bytes,
                      size_t len)
{
    return put(ctx, "ua-", (teep_slice_t){NULL, 0}, name, bytes, len);
}

static const teep_agent_tee_ops_t files_tee = {
    .ta_install = ta_install,
    .ta_uninstall = ta_uninstall,
    .pd_deliver = pd_deliver,
    .ua_install = ua_install,
};

typedef struct opts {
    const char *dir, *tam_key, *tc_signer, *url;
} opts_t;

static int open_agent(const opts_t *o, teep_agent_t *agent, files_t *f,
                      teep_key_t *tam_key, teep_key_t *signer, char *state)
{
    static const char *uri;
    snprintf(f->dir, sizeof(f->dir), "%s", o->dir);
    snprintf(state, 4096, "%s/state", o->dir);
    mkdir(o->dir, 0700);
    mkdir(state, 0700);
    if (teep_key_load_file(tam_key, o->tam_key) != 0 ||
        teep_key_load_file(signer, o->tc_signer) != 0)
        return -EINVAL;
    uri = o->url != NULL ? o->url : "http://127.0.0.1/tam";
    teep_agent_config_t cfg = {
        .state_dir = state,
        .tam_keys = tam_key,
        .tam_uris = &uri,
        .n_tams = 1,
        .tc_signer_keys = signer,
        .n_tc_signers = 1,
        .profile = TEEP_AGENT_PROFILE_AUTO,
        .hwmodel = {(const uint8_t *)"tam-interop", 11},
        .hwversion = "process",
        .firmware_uri = "https://example.org/tam-real-agent.suit",
        .firmware_digest = {firmware_digest, sizeof(firmware_digest)},
        .tee = &files_tee,
        .tee_ctx = f,
    };
    return teep_agent_open(agent, &cfg);
}

static int write_pub(const char *dir, const char *name, const teep_key_t *k)
{
    char path[4200], pem[PEM_MAX];
    size_t len;
    int rc = teep_key_to_pem(k, false, pem, sizeof(pem), &len);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = rc == 0 ? fopen(path, "w") : NULL;
    if (f == NULL)
        return -EIO;
    rc = fwrite(pem, 1, len, f) == len ? 0 : -EIO;
    return fclose(f) == 0 ? rc : -EIO;
}

/* ---- one POST ------------------------------------------------------ */

typedef struct call {
    uv_loop_t loop;
    teep_http_client_t client;
    teep_http_client_req_t req;
    int error, status;
    teep_buf_t *body;
} call_t;

static void on_response(teep_http_client_req_t *req, int status,
                        const teep_http_response_t *resp)
{
    call_t *c = req->data;
    c->error = status;
    if (status == 0) {
        c->status = resp->status;
        c->body = resp->body != NULL ? teep_buf_ref(resp->body) : NULL;
    }
    teep_http_client_close(&c->client, NULL);
}

static int post(const char *url, const uint8_t *msg, size_t len, int *status,
                teep_buf_t **body)
{
    call_t c;
    memset(&c, 0, sizeof(c));
    teep_http_url_t u;
    static const teep_http_header_t h[] = {
        TEEP_HTTP_HEADER("Accept", "application/teep+cbor"),
        TEEP_HTTP_HEADER("Content-Type", "application/teep+cbor"),
    };
    teep_buf_t *b = len > 0 ? teep_buf_copy(0, msg, len) : NULL;
    int rc = teep_http_url_parse(url, &u);
    char path[256];
    snprintf(path, sizeof(path), "%.*s", (int)u.path.len,
             (const char *)u.path.ptr);
    if (rc == 0)
        rc = uv_loop_init(&c.loop);
    if (rc == 0)
        rc = teep_http_client_init(&c.client, &c.loop, url, NULL);
    c.req.data = &c;
    /* The empty POST says no Content-Type (digest 3.2 (b)). */
    if (rc == 0)
        rc = teep_http_client_request(&c.client, &c.req, "POST", path, h,
                                      len > 0 ? 2 : 1, b, on_response);
    teep_buf_unref(b);
    if (rc == 0)
        uv_run(&c.loop, UV_RUN_DEFAULT);
    uv_loop_close(&c.loop);
    *status = c.status;
    *body = c.body;
    return rc != 0 ? rc : c.error;
}

static int session(teep_agent_t *agent, const char *url)
{
    uint64_t conversation;
    teep_random((uint8_t *)&conversation, sizeof(conversation));
    int status = 0;
    teep_buf_t *body = NULL;
    int rc = post(url, NULL, 0, &status, &body);
    for (int i = 0; rc == 0 && status == 200 && i < MAX_MESSAGES; i++) {
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        teep_slice_t m =
            body != NULL ? teep_buf_slice(body) : (teep_slice_t){NULL, 0};
        rc = teep_agent_process(agent, conversation, m.ptr, m.len, &reply,
                                &reply_len);
        teep_buf_unref(body);
        body = NULL;
        if (rc == 0 && reply == NULL) {
            printf("the Agent had nothing to answer\n");
            return 1;
        }
        if (rc == 0)
            rc = post(url, reply, reply_len, &status, &body);
        free(reply);
    }
    teep_buf_unref(body);
    if (rc != 0 || status != 204) {
        printf("session failed: %s, HTTP %d\n", teep_strerror(rc), status);
        teep_agent_forget(agent, conversation);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o = {0};
    if (argc < 3)
        return 2;
    o.dir = argv[2];
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tam-key") == 0)
            o.tam_key = argv[i + 1];
        else if (strcmp(argv[i], "--tc-signer") == 0)
            o.tc_signer = argv[i + 1];
        else if (strcmp(argv[i], "--url") == 0)
            o.url = argv[i + 1];
        else
            return 2;
    }
    bool init = strcmp(argv[1], "init") == 0;
    if (o.tam_key == NULL || o.tc_signer == NULL || (!init && o.url == NULL))
        return 2;
    teep_agent_t *agent = calloc(1, sizeof(*agent));
    files_t *f = calloc(1, sizeof(*f));
    char *state = malloc(4096);
    teep_key_t tam_key, signer;
    memset(&tam_key, 0, sizeof(tam_key));
    memset(&signer, 0, sizeof(signer));
    int rc = agent != NULL && f != NULL && state != NULL
                 ? open_agent(&o, agent, f, &tam_key, &signer, state)
                 : -ENOMEM;
    bool opened = rc == 0;
    if (rc != 0) {
        fprintf(stderr, "tam-real-agent: %s\n", teep_strerror(rc));
    } else if (init) {
        rc = write_pub(o.dir, "teep.pub.pem", &agent->teep_key);
        if (rc == 0)
            rc = write_pub(o.dir, "attest.pub.pem", &agent->attest_key);
    } else {
        rc = session(agent, o.url);
    }
    if (opened)
        teep_agent_close(agent);
    teep_key_clear(&tam_key);
    teep_key_clear(&signer);
    free(agent);
    free(f);
    free(state);
    return rc == 0 ? 0 : 1;
}
