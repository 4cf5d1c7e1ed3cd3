/*
 * tee.c: teep-agent's TEE (device.h): the TEE plugin loaded through the
 * host's loader, its runner on the loop, and the one session this device
 * has.  The session's options are the command line's: the broker's URI
 * as the Agent's TAM URI (the scheme picks the transport), the TAM and
 * TC signer keys, the policy-check interval (the plugin's timer asks the
 * runner, which calls dev_policy_check).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "device.h"

static const teep_tee_ops_t *dev_tee_ops(const device_t *dev)
{
    return dev->tee.runner.ops;
}

/* Run fn on a worker (op calls of one session never overlap), then done
 * on the loop. */
static void dev_tee_call(device_t *dev, teep_tee_call_t *call,
                         teep_tee_call_fn fn, teep_tee_done_cb done)
{
    teep_tee_runner_submit(&dev->tee.runner, &dev->tee.lane, call, fn, done);
}

static void on_policy_timer(teep_tee_runner_t *runner,
                            teep_tee_session_t *session)
{
    dev_policy_check(runner->data, "interval");
}

int dev_tee_init(device_t *dev)
{
    dev_tee_t *t = &dev->tee;
    char err[512];
    int rc =
        teep_plugin_load(dev->opt.plugin_dir, dev->opt.plugin,
                         TEEP_PLUGIN_CLASS_TEE, &t->plugin, err, sizeof(err));
    if (rc == 0)
        rc = teep_tee_runner_init(&t->runner, dev->loop, &t->plugin,
                                  dev->opt.ua_dir, dev->opt.log_level, err,
                                  sizeof(err));
    if (rc != 0) {
        dev_log(dev, TEEP_LOG_ERROR, "TEE plugin %s: %s", dev->opt.plugin, err);
        if (t->plugin.dl != NULL)
            teep_plugin_unload(&t->plugin);
        return rc;
    }
    t->runner.data = dev;
    t->runner.on_policy_check = on_policy_timer;
    t->runner_ready = true;
    return 0;
}

/* ------------------------------------------------------------ open */

static int open_run(teep_tee_call_t *call)
{
    device_t *dev = call->data;
    const dev_options_t *o = &dev->opt;
    teep_tee_option_t opts[2 * DEV_MAX_KEYS + 8];
    size_t n = 0;
    char interval[16];
    /* The broker is the TAM this Agent knows: one URI per TAM key, as the
     * sim pairs them. */
    for (size_t i = 0; i < o->n_tam_keys; i++) {
        opts[n++] = (teep_tee_option_t){"tam_uri", o->broker};
        opts[n++] = (teep_tee_option_t){"tam_key", o->tam_keys[i]};
    }
    for (size_t i = 0; i < o->n_tc_signers; i++)
        opts[n++] = (teep_tee_option_t){"tc_signer_key", o->tc_signers[i]};
    snprintf(interval, sizeof(interval), "%u", o->interval_s);
    opts[n++] = (teep_tee_option_t){"policy_check_interval", interval};
    if (o->profile != NULL)
        opts[n++] = (teep_tee_option_t){"profile", o->profile};
    const teep_tee_session_params_t params = {
        .size = sizeof(params),
        .state_dir = o->state_dir,
        .instance = o->instance,
        .options = opts,
        .n_options = n,
    };
    return dev_tee_ops(dev)->session_open(dev->tee.runner.plugin_state, &params,
                                          &dev->tee.lane.session);
}

static void open_done(teep_tee_call_t *call)
{
    device_t *dev = call->data;
    dev_tee_t *t = &dev->tee;
    int rc = call->result;
    if (rc != 0) {
        t->lane.session = NULL;
        dev_log(dev, TEEP_LOG_ERROR, "TEE %s not opened: %s",
                dev->opt.state_dir,
                rc > -4096 ? strerror(-rc) : teep_strerror(rc));
    } else {
        t->open = true;
        if (dev->opt.ua_socket != NULL) {
            int g = teep_tee_ua_gateway_start(&t->gateway, &t->runner, &t->lane,
                                              dev->opt.ua_socket);
            t->gateway_on = g == 0;
            if (g != 0)
                dev_log(dev, TEEP_LOG_WARN, "UA socket %s: %s",
                        dev->opt.ua_socket, uv_strerror(g));
        }
    }
    t->opened(dev, rc);
}

void dev_tee_open(device_t *dev, void (*opened)(device_t *dev, int rc))
{
    dev->tee.opened = opened;
    dev->tee.call.data = dev;
    dev_tee_call(dev, &dev->tee.call, open_run, open_done);
}

/* ----------------------------------------------------------- close */

static int close_run(teep_tee_call_t *call)
{
    device_t *dev = call->data;
    dev_tee_ops(dev)->session_close(dev->tee.lane.session);
    return 0;
}

static void finish(device_t *dev)
{
    dev_tee_t *t = &dev->tee;
    if (t->runner_ready)
        teep_tee_runner_close(&t->runner);
    t->runner_ready = false;
    t->closed(dev);
}

static void close_done(teep_tee_call_t *call)
{
    device_t *dev = call->data;
    dev->tee.lane.session = NULL;
    dev->tee.open = false;
    finish(dev);
}

void dev_tee_close(device_t *dev, void (*closed)(device_t *dev))
{
    dev_tee_t *t = &dev->tee;
    t->closed = closed;
    if (t->gateway_on)
        teep_tee_ua_gateway_close(&t->gateway);
    t->gateway_on = false;
    if (!t->open) {
        finish(dev);
        return;
    }
    t->call.data = dev;
    dev_tee_call(dev, &t->call, close_run, close_done);
}
