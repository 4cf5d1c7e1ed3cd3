/*
 * sim_internal.h (private to plugins/tee/sim): the simulated TEE.  One
 * session is one TEE: a state directory, the TEEP Agent core that runs
 * "inside" it, and the TAs it runs.  Files: sim.c (the plugin ops),
 * sim_config.c (session options, keys), sim_ta.c (TA processes:
 * process, container and VM instances), sim_agent.c (what the Agent asks
 * of the TEE).  docs/tee-sim.md says what this protects and what not.
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "teep/tee_plugin.h"
#include "teep_agent.h"

#define SIM_PATH_MAX 4096
#define SIM_ID_MAX   256

/* One TA the TEE runs. */
typedef struct sim_ta {
    bool in_use;
    uint8_t id[SIM_ID_MAX]; /* encoded component identifier */
    size_t id_len;
    char dir[SIM_PATH_MAX]; /* <state>/tas/<sha256(id) hex>, 0700 */
    pid_t pid;              /* 0 when not running */
    int fd;                 /* our end of the private channel (non-blocking),
                               or -1 */
    bool has_pd;
    bool has_key;           /* the running TA registered a key ('K') */
    uint8_t key_sha256[32]; /* SHA-256 of that key */
} sim_ta_t;

struct teep_tee_session {
    const teep_tee_host_t *host;
    char state_dir[SIM_PATH_MAX];
    teep_tee_instance_t instance;
    int lock_fd; /* flock on <state>/lock: one session per TEE */
    /* Configuration the Agent borrows. */
    size_t n_tams;
    teep_key_t tam_keys[TEEP_AGENT_MAX_TAMS];
    char *tam_uris[TEEP_AGENT_MAX_TAMS];
    size_t n_signers;
    teep_key_t signer_keys[TEEP_AGENT_MAX_SIGNERS];
    uint8_t firmware_digest[32];
    char hwmodel[33];
    uint8_t vendor_id[16], class_id[16];
    size_t vendor_id_len, class_id_len;
    uint32_t policy_interval_s;
    teep_agent_config_t cfg;
    teep_agent_t agent;
    bool agent_open;
    /* TAs, and the lock that keeps the reaper (a timer on the host loop)
     * and the ops apart. */
    pthread_mutex_t lock;
    sim_ta_t tas[TEEP_AGENT_MAX_COMPONENTS];
    uint64_t reap_timer, policy_timer;
    bool reap_started, policy_started;
};

/* ---- sim_config.c ------------------------------------------------------ */

/* Apply params->options to s (keys loaded, URIs copied) and fill s->cfg
 * for the Agent.  Logs the offending option.  0 or -EINVAL / -ENOMEM /
 * the key loader's code. */
int sim__configure(teep_tee_session_t *s,
                   const teep_tee_session_params_t *params);
/* Free what sim__configure made. */
void sim__unconfigure(teep_tee_session_t *s);

/* ---- sim_ta.c ---------------------------------------------------------- */

/* The TA record for id; with create, a new one (its directory made).
 * NULL: none (or no room / bad id, with create). */
sim_ta_t *sim__ta(teep_tee_session_t *s, teep_slice_t id, bool create);
/* Write the TA executable (and, for container / VM instances, its root
 * directory), never while a TA of any session is between clone() and
 * execve() (sim_ta.c says why).  0 or -errno. */
int sim__ta_store(teep_tee_session_t *s, sim_ta_t *ta, const uint8_t *bytes,
                  size_t len);
/* Start the stored TA as the session's instance type.  0 once its
 * execve() succeeded; else the errno of the child's failed step (-ENOEXEC,
 * -ETXTBSY, -EPERM, ...) or -ETIMEDOUT, the child reaped, nothing
 * running. */
int sim__ta_start(teep_tee_session_t *s, sim_ta_t *ta);
/* Stop it (SIGKILL, reaped) and close its channel. */
void sim__ta_stop(sim_ta_t *ta);
/* Stop it and delete its directory; the record is freed. */
void sim__ta_remove(sim_ta_t *ta);
/* Reap TAs that exited on their own (non-blocking). */
void sim__ta_reap(teep_tee_session_t *s);
/* Send personalization data (in packets of SIM_CHANNEL_MAX, sim_channel.h;
 * at most SIM_PD_MAX bytes) / an invocation over the private channel;
 * invoke waits up to SIM_INVOKE_TIMEOUT_MS for the answer (malloc'd
 * *reply), and every packet of PD waits as long for room in the channel
 * (a TA that stops reading does not hold the session forever).  0,
 * -ENOENT (not running), -ETIMEDOUT, -EMSGSIZE, -EIO. */
int sim__ta_deliver(sim_ta_t *ta, const uint8_t *pd, size_t len);
int sim__ta_invoke(sim_ta_t *ta, const uint8_t *req, size_t len,
                   uint8_t **reply, size_t *reply_len);
#define SIM_INVOKE_TIMEOUT_MS 5000
/* The SHA-256 of the key the running TA registered ('K'), reading what
 * the TA sent meanwhile without waiting.  0, or -ENOENT (not running, or
 * no key registered). */
int sim__ta_key(sim_ta_t *ta, uint8_t sha256[32]);

/* ---- sim_agent.c ------------------------------------------------------- */

/* What the Agent asks of this TEE (teep_agent_tee_ops_t). */
extern const teep_agent_tee_ops_t sim__agent_ops;

#endif
