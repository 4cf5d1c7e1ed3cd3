/*
 * sim.c: the simulated TEE plugin (TEE plugin ABI, teep/tee_plugin.h).
 * Each session is one software TEE: its state directory, the TEEP Agent
 * core, and the TAs it runs.  Ops take the session lock for their whole
 * run; the host's timer callbacks (reaping TAs that exited, asking for
 * policy checks) only try it, so the host loop never waits on a TEE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

#define REAP_PERIOD_MS 1000

static int sim_init(const teep_tee_host_t *host, void **state)
{
    if (host == NULL || !TEEP_TEE_HAS(host, teep_tee_host_t, install_ua))
        return -EPROTO;
    *state = (void *)host;
    return 0;
}

static void sim_fini(void *state)
{
}

static void reap_cb(void *arg)
{
    teep_tee_session_t *s = arg;
    if (pthread_mutex_trylock(&s->lock) != 0)
        return;
    sim__ta_reap(s);
    pthread_mutex_unlock(&s->lock);
}

static void policy_cb(void *arg)
{
    teep_tee_session_t *s = arg;
    s->host->schedule_policy_check(s->host, s);
}

static void session_free(teep_tee_session_t *s)
{
    if (s->reap_started)
        s->host->timer_stop(s->host, s->reap_timer);
    if (s->policy_started)
        s->host->timer_stop(s->host, s->policy_timer);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < TEEP_AGENT_MAX_COMPONENTS; i++)
        if (s->tas[i].in_use)
            sim__ta_stop(&s->tas[i]);
    pthread_mutex_unlock(&s->lock);
    if (s->agent_open)
        teep_agent_close(&s->agent);
    sim__unconfigure(s);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* One session per TEE: a second one on the same directory would run the
 * same TAs twice and overwrite the other's sealed state. */
static int lock_state(teep_tee_session_t *s)
{
    char path[SIM_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/lock", s->state_dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return -errno;
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? -EBUSY : -errno;
    return 0;
}

static int open_checked(teep_tee_session_t *s,
                        const teep_tee_session_params_t *params)
{
    if (mkdir(s->state_dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    if (chmod(s->state_dir, 0700) != 0)
        return -errno;
    int rc = lock_state(s);
    if (rc == 0)
        rc = sim__configure(s, params);
    if (rc == 0)
        rc = teep_agent_open(&s->agent, &s->cfg);
    if (rc != 0)
        return rc;
    s->agent_open = true;
    rc = teep_agent_restore(&s->agent);
    if (rc != 0)
        s->host->log(s->host, TEEP_LOG_WARN,
                     "not every installed TA could be restarted: %s",
                     teep_strerror(rc));
    rc = s->host->timer_start(s->host, REAP_PERIOD_MS, reap_cb, s,
                              &s->reap_timer);
    s->reap_started = rc == 0;
    if (rc == 0 && s->policy_interval_s > 0) {
        rc =
            s->host->timer_start(s->host, (uint64_t)s->policy_interval_s * 1000,
                                 policy_cb, s, &s->policy_timer);
        s->policy_started = rc == 0;
    }
    return rc;
}

static int sim_session_open(void *state,
                            const teep_tee_session_params_t *params,
                            teep_tee_session_t **session)
{
    const teep_tee_host_t *host = state;
    *session = NULL;
    if (params == NULL ||
        !TEEP_TEE_HAS(params, teep_tee_session_params_t, n_options) ||
        params->state_dir == NULL || params->state_dir[0] == 0 ||
        strlen(params->state_dir) >= SIM_PATH_MAX - 128)
        return -EINVAL;
    if (params->instance < TEEP_TEE_INSTANCE_PROCESS ||
        params->instance > TEEP_TEE_INSTANCE_VM)
        return -ENOTSUP;
    teep_tee_session_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->host = host;
    s->instance = params->instance;
    s->lock_fd = -1;
    snprintf(s->state_dir, sizeof(s->state_dir), "%s", params->state_dir);
    for (size_t i = 0; i < TEEP_AGENT_MAX_COMPONENTS; i++)
        s->tas[i].fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_lock(&s->lock);
    int rc = open_checked(s, params);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0) {
        host->log(host, TEEP_LOG_ERROR, "TEE %s not opened: %s",
                  params->state_dir, teep_strerror(rc));
        session_free(s);
        return rc;
    }
    host->log(host, TEEP_LOG_INFO, "TEE %s open, %s instances",
              params->state_dir, teep_tee_instance_name(s->instance));
    *session = s;
    return 0;
}

static void sim_session_close(teep_tee_session_t *s)
{
    session_free(s);
}

static void set_uri(teep_tee_request_result_t *out, const char *uri)
{
    snprintf(out->tam_uri, sizeof(out->tam_uri), "%s", uri != NULL ? uri : "");
}

static int sim_request_ta(teep_tee_session_t *s, uint64_t tam_session,
                          teep_slice_t id, const char *hint,
                          teep_tee_request_result_t *out)
{
    const char *uri = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = teep_agent_request_ta(&s->agent, id, hint, &uri);
    pthread_mutex_unlock(&s->lock);
    set_uri(out, uri);
    return rc;
}

static int sim_unrequest_ta(teep_tee_session_t *s, uint64_t tam_session,
                            teep_slice_t id, const char *hint,
                            teep_tee_request_result_t *out)
{
    const char *uri = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = teep_agent_unrequest_ta(&s->agent, id, hint, &uri);
    pthread_mutex_unlock(&s->lock);
    set_uri(out, uri);
    return rc;
}

static int sim_request_policy_check(teep_tee_session_t *s, uint64_t tam_session,
                                    teep_tee_request_result_t *out)
{
    const char *uri = NULL;
    pthread_mutex_lock(&s->lock);
    teep_agent_policy_check(&s->agent, &uri);
    pthread_mutex_unlock(&s->lock);
    set_uri(out, uri);
    return 0;
}

static int sim_process_teep_message(teep_tee_session_t *s, uint64_t tam_session,
                                    const char *tam_uri, teep_slice_t message,
                                    teep_tee_buf_t *reply)
{
    uint8_t *out = NULL;
    size_t len = 0;
    pthread_mutex_lock(&s->lock);
    int rc = teep_agent_process(&s->agent, tam_session, message.ptr,
                                message.len, &out, &len);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0) {
        s->host->log(s->host, TEEP_LOG_ERROR,
                     "TEEP message from %s not processed: %s",
                     tam_uri != NULL ? tam_uri : "a TAM", teep_strerror(rc));
        return rc;
    }
    reply->ptr = out;
    reply->len = len;
    return 0;
}

static int sim_process_error(teep_tee_session_t *s, uint64_t tam_session,
                             const char *tam_uri, int code)
{
    pthread_mutex_lock(&s->lock);
    teep_agent_forget(&s->agent, tam_session);
    pthread_mutex_unlock(&s->lock);
    s->host->log(s->host, TEEP_LOG_WARN, "conversation with %s failed: %d",
                 tam_uri != NULL ? tam_uri : "a TAM", code);
    return 0;
}

static int list_locked(teep_tee_session_t *s, teep_tee_component_list_t *list)
{
    const teep_agent_t *a = &s->agent;
    size_t bytes = a->n_components * sizeof(teep_tee_component_t);
    for (size_t i = 0; i < a->n_components; i++)
        bytes += a->components[i].id_len;
    uint8_t *mem = malloc(bytes > 0 ? bytes : 1);
    if (mem == NULL)
        return -ENOMEM;
    teep_tee_component_t *items = (teep_tee_component_t *)mem;
    uint8_t *ids = mem + a->n_components * sizeof(teep_tee_component_t);
    for (size_t i = 0; i < a->n_components; i++) {
        const teep_agent_component_t *c = &a->components[i];
        memcpy(ids, c->id, c->id_len);
        teep_slice_t id = {ids, c->id_len};
        const teep_agent_manifest_t *m = NULL;
        for (size_t j = 0; j < a->n_manifests; j++)
            if (a->manifests[j].id_len == c->manifest_id_len &&
                memcmp(a->manifests[j].id, c->manifest_id,
                       c->manifest_id_len) == 0)
                m = &a->manifests[j];
        sim_ta_t *ta = sim__ta(s, id, false);
        items[i] = (teep_tee_component_t){
            .component_id = id,
            .sequence_number = m != NULL ? m->sequence_number : 0,
            .instance = s->instance,
            .is_ta = c->kind == TEEP_AGENT_KIND_TA,
            .running = ta != NULL && ta->pid > 0,
            .has_pd = c->pd != NULL,
        };
        memcpy(items[i].digest, c->digest, 32);
        ids += c->id_len;
    }
    list->items = items;
    list->count = a->n_components;
    list->storage = (teep_tee_buf_t){mem, bytes};
    return 0;
}

static int sim_list_components(teep_tee_session_t *s,
                               teep_tee_component_list_t *list)
{
    pthread_mutex_lock(&s->lock);
    int rc = list_locked(s, list);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sim_invoke_ta(teep_tee_session_t *s, teep_slice_t id,
                         teep_slice_t request, teep_tee_buf_t *reply)
{
    if (request.len > TEEP_TEE_INVOKE_MAX)
        return -EMSGSIZE;
    pthread_mutex_lock(&s->lock);
    sim_ta_t *ta = sim__ta(s, id, false);
    int rc = ta != NULL ? sim__ta_invoke(ta, request.ptr, request.len,
                                         &reply->ptr, &reply->len)
                        : -ENOENT;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void sim_free_buffer(void *state, teep_tee_buf_t *buf)
{
    free(buf->ptr);
    buf->ptr = NULL;
    buf->len = 0;
}

static const teep_tee_ops_t sim_ops = {
    .size = sizeof(teep_tee_ops_t),
    .init = sim_init,
    .fini = sim_fini,
    .session_open = sim_session_open,
    .session_close = sim_session_close,
    .request_ta = sim_request_ta,
    .unrequest_ta = sim_unrequest_ta,
    .request_policy_check = sim_request_policy_check,
    .process_teep_message = sim_process_teep_message,
    .process_error = sim_process_error,
    .list_components = sim_list_components,
    .invoke_ta = sim_invoke_ta,
    .free_buffer = sim_free_buffer,
};

TEEP_PLUGIN_DEFINE(TEEP_PLUGIN_CLASS_TEE, "sim",
                   "software-simulated TEE running the TEEP Agent (process, "
                   "container and VM instances)",
                   &sim_ops);
