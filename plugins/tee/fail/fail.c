/*
 * fail.c: a TEE plugin that fails on purpose, to exercise the host's error
 * paths: init succeeds (so that the ops can be reached), a session opens
 * for process instances only (-ENOTSUP otherwise), and every other op
 * fails with its own code and a log line naming it.  Built a second time
 * with FAIL_BAD_ABI as "tee_badabi", whose descriptor claims ABI major 99.
 */
#include <errno.h>
#include <stdlib.h>

#include "teep/tee_plugin.h"

struct teep_tee_session {
    const teep_tee_host_t *host;
};

static int fail_init(const teep_tee_host_t *host, void **state)
{
    *state = (void *)host;
    return 0;
}

static void fail_fini(void *state)
{
}

static int fail_session_open(void *state,
                             const teep_tee_session_params_t *params,
                             teep_tee_session_t **session)
{
    const teep_tee_host_t *host = state;
    if (params->instance != TEEP_TEE_INSTANCE_PROCESS) {
        host->log(host, TEEP_LOG_ERROR, "fail: no %s instances",
                  teep_tee_instance_name(params->instance));
        return -ENOTSUP;
    }
    teep_tee_session_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->host = host;
    *session = s;
    return 0;
}

static void fail_session_close(teep_tee_session_t *s)
{
    free(s);
}

static int failed(teep_tee_session_t *s, const char *op, int code)
{
    s->host->log(s->host, TEEP_LOG_ERROR, "fail: %s refused on purpose", op);
    return code;
}

static int fail_request_ta(teep_tee_session_t *s, uint64_t tam_session,
                           teep_slice_t id, const char *hint,
                           teep_tee_request_result_t *out)
{
    return failed(s, "request_ta", -ENOENT);
}

static int fail_unrequest_ta(teep_tee_session_t *s, uint64_t tam_session,
                             teep_slice_t id, const char *hint,
                             teep_tee_request_result_t *out)
{
    return failed(s, "unrequest_ta", -ENOENT);
}

static int fail_request_policy_check(teep_tee_session_t *s,
                                     uint64_t tam_session,
                                     teep_tee_request_result_t *out)
{
    return failed(s, "request_policy_check", -EAGAIN);
}

static int fail_process_teep_message(teep_tee_session_t *s,
                                     uint64_t tam_session, const char *tam_uri,
                                     teep_slice_t message,
                                     teep_tee_buf_t *reply)
{
    return failed(s, "process_teep_message", -EIO);
}

static int fail_process_error(teep_tee_session_t *s, uint64_t tam_session,
                              const char *tam_uri, int code)
{
    return failed(s, "process_error", -EINVAL);
}

static int fail_list_components(teep_tee_session_t *s,
                                teep_tee_component_list_t *list)
{
    return failed(s, "list_components", -ENOMEM);
}

static int fail_invoke_ta(teep_tee_session_t *s, teep_slice_t id,
                          teep_slice_t request, teep_tee_buf_t *reply)
{
    return failed(s, "invoke_ta", -ETIMEDOUT);
}

static void fail_free_buffer(void *state, teep_tee_buf_t *buf)
{
    free(buf->ptr);
    buf->ptr = NULL;
    buf->len = 0;
}

static const teep_tee_ops_t fail_ops = {
    .size = sizeof(teep_tee_ops_t),
    .init = fail_init,
    .fini = fail_fini,
    .session_open = fail_session_open,
    .session_close = fail_session_close,
    .request_ta = fail_request_ta,
    .unrequest_ta = fail_unrequest_ta,
    .request_policy_check = fail_request_policy_check,
    .process_teep_message = fail_process_teep_message,
    .process_error = fail_process_error,
    .list_components = fail_list_components,
    .invoke_ta = fail_invoke_ta,
    .free_buffer = fail_free_buffer,
};

#ifdef FAIL_BAD_ABI
/* What an incompatible plugin looks like: a major this host does not
 * speak.  The loader must refuse it before reading its ops. */
__attribute__((visibility("default")))
const teep_plugin_descriptor_t teep_plugin = {
    .abi_major = 99,
    .abi_minor = 0,
    .plugin_class = TEEP_PLUGIN_CLASS_TEE,
    .name = "badabi",
    .description = "a TEE plugin of a future ABI",
    .build_signature = "teep-plugin-abi-99",
    .ops = &fail_ops,
};
#else
TEEP_PLUGIN_DEFINE(TEEP_PLUGIN_CLASS_TEE, "fail",
                   "a TEE plugin whose every op fails, for tests", &fail_ops);
#endif
