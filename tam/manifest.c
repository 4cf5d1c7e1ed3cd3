/* manifest.c: the SUIT envelopes the TAM builds and signs as TC signer:
 * a TA or UA image as an integrated payload, PD as encrypted content
 * written into the TA's component (suit-firmware-encryption), so the
 * ciphertext is what travels and only the TEE's key opens it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teep/pd.h"
#include "teep/suit.h"

#include "internal.h"

#define ID_MAX 512

void tam_manifest_component(const tam_package_t *p, const char *instance_type,
                            const char *ta_name, char *out, size_t cap)
{
    switch (p->kind) {
    case TAM_PKG_TA:
        snprintf(out, cap, "TEE/%s/%s/ta", instance_type, p->name);
        break;
    case TAM_PKG_UA: snprintf(out, cap, "REE/%s/ua", p->name); break;
    default:
        snprintf(out, cap, "TEE/%s/%s/%s", instance_type, ta_name, p->name);
        break;
    }
}

static teep_slice_t text_slice(const char *s)
{
    return (teep_slice_t){(const uint8_t *)s, strlen(s)};
}

int tam_manifest_build(const teep_tam_t *tam, const tam_package_t *p,
                       const char *component, uint8_t **out, size_t *len)
{
    uint8_t id[ID_MAX], manifest_id[ID_MAX];
    size_t id_len, manifest_id_len;
    char manifest_text[ID_MAX];
    *out = NULL;
    snprintf(manifest_text, sizeof(manifest_text), "%s/suit", component);
    int rc =
        teep_suit_component_id_from_text(component, id, sizeof(id), &id_len);
    if (rc == 0)
        rc = teep_suit_component_id_from_text(
            manifest_text, manifest_id, sizeof(manifest_id), &manifest_id_len);
    if (rc != 0)
        return -EINVAL;
    char integrated[8];
    snprintf(integrated, sizeof(integrated), "#%s",
             tam_package_kind_name(p->kind));
    teep_suit_build_t b = {
        .component_id = {id, id_len},
        .manifest_component_id = {manifest_id, manifest_id_len},
        .sequence_number = p->version,
        .vendor_id = {p->vendor_id, p->has_vendor_id ? 16 : 0},
        .class_id = {p->class_id, p->has_class_id ? 16 : 0},
        .payload = {p->content, (size_t)p->size},
        .integrated_name = text_slice(integrated),
    };
    if (p->kind == TAM_PKG_PD) {
        /* The blob was checked on upload; it is parsed again because the
         * builder needs its two halves. */
        rc = teep_pd_blob_parse(p->content, (size_t)p->size, &b.encryption_info,
                                &b.payload, NULL);
        if (rc != 0)
            return -EINVAL;
        b.integrated_name = (teep_slice_t){0};
        b.plaintext_digest = p->plaintext_sha256;
        b.plaintext_size = p->plaintext_size;
    }
    teep_signer_t signer = {&tam->keys.tc_signer, TEEP_ALG_ESP256};
    rc = teep_suit_build(&b, &signer, NULL, 0, len);
    if (rc != 0)
        return rc;
    *out = malloc(*len);
    if (*out == NULL)
        return -ENOMEM;
    rc = teep_suit_build(&b, &signer, *out, *len, len);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int tam_manifest_envelope(const teep_tam_t *tam, tam_store_t *s,
                          const tam_package_t *p, const char *component,
                          uint8_t **out, size_t *len)
{
    int rc = tam_manifest_cache_get(tam->manifests, p, component, out, len);
    if (rc != -ENOENT)
        return rc;
    tam_package_t full;
    rc = tam_package_load(s, p->id, true, &full);
    if (rc == 0)
        rc = tam_manifest_build(tam, &full, component, out, len);
    if (rc == 0)
        tam_manifest_cache_put(tam->manifests, &full, component, *out, *len);
    tam_package_clear(&full);
    return rc;
}
