/*
 * peer.h: a scripted TEEP Agent for the TAM's tests and benchmark, built
 * on libteepproto only: it verifies TAM messages, answers QueryRequest
 * with a QueryResponse carrying EAT Evidence (teep_eat_sign, with the
 * pd-key claim), runs Update manifests through the SUIT processor
 * (decrypting PD with its PD key), and answers Success or Error with SUIT
 * reports.  Knobs make it misbehave for the negative tests.
 */
#ifndef TEEP_TAM_TEST_PEER_H
#define TEEP_TAM_TEST_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teep/cose.h"
#include "teep/message.h"

#define PEER_MAX_COMPONENTS 16
#define PEER_MAX_TAM_KEYS   2

/* One installed component: its identifier in suit.h's text form and its
 * content (decrypted, for PD). */
typedef struct peer_component {
    char id[256];
    uint8_t *bytes;
    size_t len;
} peer_component_t;

typedef struct tam_peer {
    teep_key_t teep_key;   /* signs TEEP messages; cnf */
    teep_key_t attest_key; /* signs Evidence */
    teep_key_t pd_key;     /* P-256: PD is encrypted to it */
    teep_key_t rogue_key;  /* signs Evidence when bad_evidence */
    size_t n_tam_keys;
    teep_key_t tam_keys[PEER_MAX_TAM_KEYS]; /* TEEP trust anchors */
    bool has_tc_signer;
    teep_key_t tc_signer; /* SUIT trust anchor */
    int profile;          /* teep_profile_t it answers in, or -1: the TAM's */
    /* Misbehaviour. */
    bool bad_evidence; /* Evidence from a key the TAM does not know */
    bool fail_install; /* every component write fails */
    bool no_evidence;  /* a QueryResponse without attestation-payload */
    size_t n_components;
    peer_component_t components[PEER_MAX_COMPONENTS];
} tam_peer_t;

/* What the last tam_peer_handle saw and did. */
typedef struct peer_event {
    teep_msg_type_t received;
    teep_msg_type_t answered; /* 0: no answer */
    bool evidence;            /* the answer carried Evidence */
    uint64_t err_code;        /* an Update's err-code, or 0 */
    size_t n_manifests;       /* in the Update */
    size_t n_installed;       /* components written by it */
    bool pd_delivered;        /* one of them was decrypted PD */
    char detail[200];
} peer_event_t;

/* Fresh keys: teep_type for the TEEP key (P-256 or Ed25519), P-256 for
 * the attestation and PD keys.  Returns 0 or a teep_key code. */
int tam_peer_init(tam_peer_t *p, teep_key_type_t teep_type, int profile);

/* Trust a TAM key (public part is enough) / the TC signer.  Copies. */
int tam_peer_trust_tam(tam_peer_t *p, const teep_key_t *key);
int tam_peer_trust_tc_signer(tam_peer_t *p, const teep_key_t *key);

/* Release keys and components. */
void tam_peer_clear(tam_peer_t *p);

/*
 * Process one TAM message msg[0..len) (COSE_Sign or COSE_Sign1).  *reply
 * is a malloc'd signed message to POST back, or NULL when there is none.
 * ev (may be NULL) says what happened.  Returns 0, or a negative code for
 * a message the peer refuses (bad signature, malformed: ev->detail says
 * why) or cannot handle.
 */
int tam_peer_handle(tam_peer_t *p, const uint8_t *msg, size_t len,
                    uint8_t **reply, size_t *reply_len, peer_event_t *ev);

/* The installed component whose identifier text is id, or NULL. */
const peer_component_t *tam_peer_find(const tam_peer_t *p, const char *id);

/* Save / load the keys and trust anchors as PEM files in dir (for the
 * command-line agent that runs once per message); installed components
 * are written as dir/installed/<id with '/' as '_'>. */
int tam_peer_save(const tam_peer_t *p, const char *dir);
int tam_peer_load(tam_peer_t *p, const char *dir);

#endif
