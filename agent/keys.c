/*
 * keys.c: the Agent's keys and device identity, made on first start and
 * kept sealed in <state>/keys.sealed:
 *
 *   [teep-key, attestation-key, pd-key, ueid, oemid]
 *
 * each key a COSE_Key with its private part.  Three keys, three jobs: the
 * TEEP key signs TEEP messages (and is the cnf of Evidence), the
 * attestation key signs Evidence (a hardware TEE's would be provisioned
 * and endorsed by the manufacturer), and the PD key is the P-256 ECDH key
 * personalization data is encrypted to (bound in Evidence, so a data
 * owner encrypts only to an attested TEE).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "agent_internal.h"

#define KEYS_FILE    "keys.sealed"
#define COSE_KEY_MAX 256
/* ueid type RAND (RFC 9711 section 4.2.1). */
#define UEID_RAND 0x01

static int keys_make(teep_agent_t *agent)
{
    int rc = teep_key_generate(&agent->teep_key, TEEP_KEY_P256);
    if (rc == 0)
        rc = teep_key_generate(&agent->attest_key, TEEP_KEY_P256);
    if (rc == 0)
        rc = teep_key_generate(&agent->pd_key, TEEP_KEY_P256);
    agent->ueid[0] = UEID_RAND;
    if (rc == 0)
        rc = teep_random(agent->ueid + 1, sizeof(agent->ueid) - 1);
    if (rc == 0)
        rc = teep_random(agent->oemid, sizeof(agent->oemid));
    return rc;
}

static void put_key(agent_cbor_t *c, const teep_key_t *key, int *rc)
{
    uint8_t buf[COSE_KEY_MAX];
    size_t len = 0;
    int r = teep_key_to_cose(key, true, buf, sizeof(buf), &len);
    if (r != 0 && *rc == 0)
        *rc = r;
    agent__cbor_bstr(c, buf, r == 0 ? len : 0);
    agent__wipe(buf, sizeof(buf));
}

static int keys_save(teep_agent_t *agent)
{
    agent_cbor_t c;
    int rc = 0;
    agent__cbor_init(&c);
    agent__cbor_array(&c, 5);
    put_key(&c, &agent->teep_key, &rc);
    put_key(&c, &agent->attest_key, &rc);
    put_key(&c, &agent->pd_key, &rc);
    agent__cbor_bstr(&c, agent->ueid, sizeof(agent->ueid));
    agent__cbor_bstr(&c, agent->oemid, sizeof(agent->oemid));
    if (rc == 0)
        rc = c.err;
    if (rc == 0)
        rc = agent__seal_write(agent->sealing_key, agent->cfg.state_dir,
                               KEYS_FILE, c.buf, c.len);
    if (c.buf != NULL)
        agent__wipe(c.buf, c.len);
    agent__cbor_free(&c);
    return rc;
}

static int get_bytes(cbor_item_t *arr, size_t i, size_t want, teep_slice_t *out)
{
    cbor_item_t *it = cbor_array_get(arr, i);
    if (it == NULL)
        return -EIO;
    int rc = cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it) &&
                     (want == 0 || cbor_bytestring_length(it) == want)
                 ? 0
                 : -EIO;
    if (rc == 0)
        *out = (teep_slice_t){cbor_bytestring_handle(it),
                              cbor_bytestring_length(it)};
    /* The array keeps its own reference: the slice stays valid. */
    cbor_decref(&it);
    return rc;
}

static int keys_parse(teep_agent_t *agent, const uint8_t *buf, size_t len)
{
    struct cbor_load_result res;
    cbor_item_t *root = cbor_load(buf, len, &res);
    if (root == NULL)
        return -EIO;
    int rc = cbor_isa_array(root) && cbor_array_size(root) == 5 ? 0 : -EIO;
    teep_slice_t s[5];
    static const size_t sizes[5] = {0, 0, 0, 17, 16};
    for (size_t i = 0; rc == 0 && i < 5; i++)
        rc = get_bytes(root, i, sizes[i], &s[i]);
    if (rc == 0)
        rc = teep_key_from_cose(&agent->teep_key, s[0].ptr, s[0].len);
    if (rc == 0)
        rc = teep_key_from_cose(&agent->attest_key, s[1].ptr, s[1].len);
    if (rc == 0)
        rc = teep_key_from_cose(&agent->pd_key, s[2].ptr, s[2].len);
    if (rc == 0 &&
        (!agent->teep_key.has_private || !agent->attest_key.has_private ||
         !agent->pd_key.has_private))
        rc = -EIO;
    if (rc == 0) {
        memcpy(agent->ueid, s[3].ptr, sizeof(agent->ueid));
        memcpy(agent->oemid, s[4].ptr, sizeof(agent->oemid));
    }
    cbor_decref(&root);
    return rc;
}

/* Write the public half of key as PEM to <state>/<name>, mode 0644: public
 * data a network user registers with the TAM (the TEEP key, which signs the
 * Agent's messages, and the attestation key, which signs its Evidence).  A
 * real TEE would publish these through its provisioning channel; the sim's
 * state directory is that channel. */
static int publish_key(const teep_agent_t *agent, const teep_key_t *key,
                       const char *name)
{
    char pem[512], path[4096];
    size_t len = 0;
    int rc = teep_key_to_pem(key, false, pem, sizeof(pem), &len);
    int n = snprintf(path, sizeof(path), "%s/%s", agent->cfg.state_dir, name);
    if (rc == 0 && (n < 0 || (size_t)n >= sizeof(path)))
        rc = -ENAMETOOLONG;
    if (rc == 0)
        rc = agent__write_file(path, (const uint8_t *)pem, len, 0644);
    return rc;
}

static int keys_publish(const teep_agent_t *agent)
{
    int rc = publish_key(agent, &agent->teep_key, AGENT_PUBLIC_TEEP_KEY);
    if (rc == 0)
        rc = publish_key(agent, &agent->attest_key, AGENT_PUBLIC_ATTEST_KEY);
    return rc;
}

int agent__keys_load(teep_agent_t *agent)
{
    uint8_t *data;
    size_t len;
    int rc = agent__seal_read(agent->sealing_key, agent->cfg.state_dir,
                              KEYS_FILE, &data, &len);
    if (rc == -ENOENT) {
        rc = keys_make(agent);
        if (rc == 0)
            rc = keys_save(agent);
        return rc == 0 ? keys_publish(agent) : rc;
    }
    if (rc != 0)
        return rc;
    rc = keys_parse(agent, data, len);
    agent__wipe(data, len);
    free(data);
    return rc == 0 ? keys_publish(agent) : rc;
}
