/*
 * state.c: what the Agent keeps across restarts besides its keys, sealed
 * in <state>/state.sealed:
 *
 *   [1, manifests: [* [id, sequence-number, envelope]],
 *       components: [* [id, kind, sha256, size, manifest-id, pd / null]],
 *       requested: [* id], unneeded: [* id]]
 *
 * Manifests give anti-rollback (sequence numbers) and the envelopes that
 * uninstall runs; components are what tc-list reports and what the TEE
 * restarts, with the personalization data of each TA so that a restarted
 * TA gets it again without the data leaving the TEE unsealed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "agent_internal.h"

#define STATE_FILE    "state.sealed"
#define STATE_VERSION 1

uint8_t *agent__dup(const uint8_t *p, size_t len)
{
    uint8_t *d = malloc(len > 0 ? len : 1);
    if (d != NULL && len > 0)
        memcpy(d, p, len);
    return d;
}

static void free_component(teep_agent_component_t *c)
{
    free(c->id);
    free(c->manifest_id);
    if (c->pd != NULL)
        agent__wipe(c->pd, c->pd_len);
    free(c->pd);
    memset(c, 0, sizeof(*c));
}

void agent__drop_component(teep_agent_t *agent, size_t i)
{
    free_component(&agent->components[i]);
    agent->components[i] = agent->components[--agent->n_components];
    memset(&agent->components[agent->n_components], 0,
           sizeof(agent->components[0]));
}

void agent__drop_manifest(teep_agent_t *agent, size_t i)
{
    teep_agent_manifest_t *m = &agent->manifests[i];
    free(m->id);
    free(m->envelope);
    *m = agent->manifests[--agent->n_manifests];
    memset(&agent->manifests[agent->n_manifests], 0, sizeof(*m));
}

void agent__state_clear(teep_agent_t *agent)
{
    while (agent->n_components > 0)
        agent__drop_component(agent, agent->n_components - 1);
    while (agent->n_manifests > 0)
        agent__drop_manifest(agent, agent->n_manifests - 1);
    for (size_t i = 0; i < agent->n_requested; i++)
        free(agent->requested[i].id);
    for (size_t i = 0; i < agent->n_unneeded; i++)
        free(agent->unneeded[i].id);
    agent->n_requested = agent->n_unneeded = 0;
}

teep_agent_manifest_t *agent__find_manifest(teep_agent_t *agent,
                                            teep_slice_t id)
{
    for (size_t i = 0; i < agent->n_manifests; i++)
        if (agent__slice_eq(id, agent->manifests[i].id,
                            agent->manifests[i].id_len))
            return &agent->manifests[i];
    return NULL;
}

teep_agent_component_t *teep_agent_find_component(teep_agent_t *agent,
                                                  teep_slice_t id)
{
    for (size_t i = 0; i < agent->n_components; i++)
        if (agent__slice_eq(id, agent->components[i].id,
                            agent->components[i].id_len))
            return &agent->components[i];
    return NULL;
}

int agent__put_manifest(teep_agent_t *agent, teep_slice_t id, uint64_t seq,
                        teep_slice_t envelope)
{
    teep_agent_manifest_t *m = agent__find_manifest(agent, id);
    uint8_t *env = agent__dup(envelope.ptr, envelope.len);
    if (env == NULL)
        return -ENOMEM;
    if (m == NULL) {
        uint8_t *idc = agent__dup(id.ptr, id.len);
        if (idc == NULL || agent->n_manifests == TEEP_AGENT_MAX_MANIFESTS) {
            free(idc);
            free(env);
            return idc == NULL ? -ENOMEM : -ENOSPC;
        }
        m = &agent->manifests[agent->n_manifests++];
        m->id = idc;
        m->id_len = id.len;
    } else {
        free(m->envelope);
    }
    m->sequence_number = seq;
    m->envelope = env;
    m->envelope_len = envelope.len;
    return 0;
}

int agent__put_component(teep_agent_t *agent, teep_slice_t id,
                         teep_agent_kind_t kind, teep_slice_t content,
                         teep_slice_t manifest_id, teep_agent_component_t **out)
{
    teep_agent_component_t *c = teep_agent_find_component(agent, id);
    uint8_t *mid = agent__dup(manifest_id.ptr, manifest_id.len);
    if (mid == NULL)
        return -ENOMEM;
    if (c == NULL) {
        uint8_t *idc = agent__dup(id.ptr, id.len);
        if (idc == NULL || agent->n_components == TEEP_AGENT_MAX_COMPONENTS) {
            free(idc);
            free(mid);
            return idc == NULL ? -ENOMEM : -ENOSPC;
        }
        c = &agent->components[agent->n_components++];
        c->id = idc;
        c->id_len = id.len;
    } else {
        free(c->manifest_id);
        /* A new TA binary starts without the data of the old one: its
         * PD must come again, after attestation again. */
        if (c->pd != NULL)
            agent__wipe(c->pd, c->pd_len);
        free(c->pd);
        c->pd = NULL;
        c->pd_len = 0;
    }
    c->kind = kind;
    c->size = content.len;
    c->manifest_id = mid;
    c->manifest_id_len = manifest_id.len;
    int rc = teep_sha256(content.ptr, content.len, c->digest);
    if (out != NULL)
        *out = c;
    return rc;
}

bool agent__request_remove(teep_agent_request_t *list, size_t *n,
                           teep_slice_t id)
{
    for (size_t i = 0; i < *n; i++) {
        if (agent__slice_eq(id, list[i].id, list[i].id_len)) {
            free(list[i].id);
            list[i] = list[--*n];
            memset(&list[*n], 0, sizeof(list[0]));
            return true;
        }
    }
    return false;
}

/* ---- Saving ------------------------------------------------------------ */

static void put_requests(agent_cbor_t *c, const teep_agent_request_t *list,
                         size_t n)
{
    agent__cbor_array(c, n);
    for (size_t i = 0; i < n; i++)
        agent__cbor_bstr(c, list[i].id, list[i].id_len);
}

int agent__state_save(teep_agent_t *agent)
{
    agent_cbor_t c;
    agent__cbor_init(&c);
    agent__cbor_array(&c, 5);
    agent__cbor_uint(&c, STATE_VERSION);
    agent__cbor_array(&c, agent->n_manifests);
    for (size_t i = 0; i < agent->n_manifests; i++) {
        const teep_agent_manifest_t *m = &agent->manifests[i];
        agent__cbor_array(&c, 3);
        agent__cbor_bstr(&c, m->id, m->id_len);
        agent__cbor_uint(&c, m->sequence_number);
        agent__cbor_bstr(&c, m->envelope, m->envelope_len);
    }
    agent__cbor_array(&c, agent->n_components);
    for (size_t i = 0; i < agent->n_components; i++) {
        const teep_agent_component_t *m = &agent->components[i];
        agent__cbor_array(&c, 6);
        agent__cbor_bstr(&c, m->id, m->id_len);
        agent__cbor_uint(&c, m->kind);
        agent__cbor_bstr(&c, m->digest, sizeof(m->digest));
        agent__cbor_uint(&c, m->size);
        agent__cbor_bstr(&c, m->manifest_id, m->manifest_id_len);
        if (m->pd != NULL)
            agent__cbor_bstr(&c, m->pd, m->pd_len);
        else
            agent__cbor_null(&c);
    }
    put_requests(&c, agent->requested, agent->n_requested);
    put_requests(&c, agent->unneeded, agent->n_unneeded);
    int rc = c.err;
    if (rc == 0)
        rc = agent__seal_write(agent->sealing_key, agent->cfg.state_dir,
                               STATE_FILE, c.buf, c.len);
    if (c.buf != NULL)
        agent__wipe(c.buf, c.len);
    agent__cbor_free(&c);
    return rc;
}

/* ---- Loading ----------------------------------------------------------- */

/* The items below belong to the tree; borrowed references only. */
static cbor_item_t *at(cbor_item_t *arr, size_t i)
{
    if (!cbor_isa_array(arr) || i >= cbor_array_size(arr))
        return NULL;
    return cbor_array_handle(arr)[i];
}

static bool bytes_of(cbor_item_t *it, teep_slice_t *out)
{
    if (it == NULL || !cbor_isa_bytestring(it) ||
        !cbor_bytestring_is_definite(it))
        return false;
    *out =
        (teep_slice_t){cbor_bytestring_handle(it), cbor_bytestring_length(it)};
    return true;
}

static bool uint_of(cbor_item_t *it, uint64_t *out)
{
    if (it == NULL || !cbor_isa_uint(it))
        return false;
    *out = cbor_get_int(it);
    return true;
}

static int load_manifest(teep_agent_t *agent, cbor_item_t *e)
{
    teep_slice_t id, env;
    uint64_t seq;
    if (!bytes_of(at(e, 0), &id) || !uint_of(at(e, 1), &seq) ||
        !bytes_of(at(e, 2), &env))
        return -EIO;
    return agent__put_manifest(agent, id, seq, env);
}

static int load_component(teep_agent_t *agent, cbor_item_t *e)
{
    teep_slice_t id, digest, mid, pd = {0};
    uint64_t kind, size;
    cbor_item_t *pd_item = at(e, 5);
    if (!bytes_of(at(e, 0), &id) || !uint_of(at(e, 1), &kind) ||
        kind < TEEP_AGENT_KIND_TA || kind > TEEP_AGENT_KIND_PD ||
        !bytes_of(at(e, 2), &digest) || digest.len != 32 ||
        !uint_of(at(e, 3), &size) || !bytes_of(at(e, 4), &mid) ||
        pd_item == NULL || (!cbor_is_null(pd_item) && !bytes_of(pd_item, &pd)))
        return -EIO;
    if (agent->n_components == TEEP_AGENT_MAX_COMPONENTS)
        return -ENOSPC;
    teep_agent_component_t *c = &agent->components[agent->n_components];
    memset(c, 0, sizeof(*c));
    c->id = agent__dup(id.ptr, id.len);
    c->manifest_id = agent__dup(mid.ptr, mid.len);
    c->pd = pd.ptr != NULL ? agent__dup(pd.ptr, pd.len) : NULL;
    agent->n_components++;
    if (c->id == NULL || c->manifest_id == NULL ||
        (pd.ptr != NULL && c->pd == NULL))
        return -ENOMEM;
    c->id_len = id.len;
    c->manifest_id_len = mid.len;
    c->pd_len = pd.len;
    c->kind = (teep_agent_kind_t)kind;
    c->size = size;
    memcpy(c->digest, digest.ptr, 32);
    return 0;
}

static int load_requests(cbor_item_t *arr, teep_agent_request_t *list,
                         size_t *n)
{
    if (arr == NULL || !cbor_isa_array(arr) ||
        cbor_array_size(arr) > TEEP_AGENT_MAX_REQUESTS)
        return -EIO;
    for (size_t i = 0; i < cbor_array_size(arr); i++) {
        teep_slice_t id;
        if (!bytes_of(at(arr, i), &id))
            return -EIO;
        list[*n].id = agent__dup(id.ptr, id.len);
        if (list[*n].id == NULL)
            return -ENOMEM;
        list[(*n)++].id_len = id.len;
    }
    return 0;
}

static int load_tree(teep_agent_t *agent, cbor_item_t *root)
{
    uint64_t version;
    cbor_item_t *ms = at(root, 1), *cs = at(root, 2);
    if (!uint_of(at(root, 0), &version) || version != STATE_VERSION ||
        ms == NULL || !cbor_isa_array(ms) || cs == NULL || !cbor_isa_array(cs))
        return -EIO;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < cbor_array_size(ms); i++)
        rc = load_manifest(agent, at(ms, i));
    for (size_t i = 0; rc == 0 && i < cbor_array_size(cs); i++)
        rc = load_component(agent, at(cs, i));
    if (rc == 0)
        rc = load_requests(at(root, 3), agent->requested, &agent->n_requested);
    if (rc == 0)
        rc = load_requests(at(root, 4), agent->unneeded, &agent->n_unneeded);
    return rc;
}

int agent__state_load(teep_agent_t *agent)
{
    uint8_t *data;
    size_t len;
    int rc = agent__seal_read(agent->sealing_key, agent->cfg.state_dir,
                              STATE_FILE, &data, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    struct cbor_load_result res;
    cbor_item_t *root = cbor_load(data, len, &res);
    agent__wipe(data, len);
    free(data);
    if (root == NULL)
        return -EIO;
    rc = load_tree(agent, root);
    cbor_decref(&root);
    if (rc != 0)
        agent__state_clear(agent);
    return rc;
}
