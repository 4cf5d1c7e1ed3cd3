/*
 * component.c: what a component identifier says to the Agent.  The last
 * segment names the kind (docs/agent.md): "ta" an executable Trusted
 * Application, "ua" an Untrusted Application for the REE (named by the
 * segment before it), anything else personalization data for the TA whose
 * identifier has the same segments with "ta" last.  The text form of
 * suit.h (segments joined by '/') is what the rules are written in.
 */
#include <errno.h>
#include <string.h>

#include "agent_internal.h"

#define ID_TEXT_MAX 1024

bool agent__slice_eq(teep_slice_t a, const uint8_t *p, size_t len)
{
    return a.len == len && (len == 0 || memcmp(a.ptr, p, len) == 0);
}

int agent__id_text(teep_slice_t id, char *out, size_t cap)
{
    if (id.ptr == NULL || id.len == 0)
        return -EINVAL;
    return teep_suit_component_id_to_text(id, out, cap);
}

/* The last '/' of text, or NULL for a one-segment identifier. */
static const char *last_sep(const char *text)
{
    return strrchr(text, '/');
}

static const char *last_segment(const char *text)
{
    const char *s = last_sep(text);
    return s != NULL ? s + 1 : text;
}

int teep_agent_component_kind(teep_slice_t component_id,
                              teep_agent_kind_t *kind)
{
    char text[ID_TEXT_MAX];
    int rc = agent__id_text(component_id, text, sizeof(text));
    if (rc != 0)
        return rc < 0 ? rc : -EINVAL;
    const char *last = last_segment(text);
    if (strcmp(last, "ta") == 0)
        *kind = TEEP_AGENT_KIND_TA;
    else if (strcmp(last, "ua") == 0)
        *kind = TEEP_AGENT_KIND_UA;
    else
        *kind = TEEP_AGENT_KIND_PD;
    return 0;
}

int agent__ua_name(teep_slice_t id, char *out, size_t cap)
{
    char text[ID_TEXT_MAX];
    int rc = agent__id_text(id, text, sizeof(text));
    if (rc != 0)
        return -EINVAL;
    char *sep = (char *)last_sep(text);
    if (sep == NULL)
        return -EINVAL;
    *sep = 0;
    const char *name = last_segment(text);
    size_t n = strlen(name);
    /* A file name for the REE: no hidden files, nothing that is not a
     * plain name (the text form writes odd bytes as 0x... anyway). */
    if (n == 0 || n >= cap || name[0] == '.' || strncmp(name, "0x", 2) == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
              name[i] == '_' || name[i] == '.'))
            return -EINVAL;
    memcpy(out, name, n + 1);
    return 0;
}

int agent__pd_ta_id(teep_slice_t pd_id, uint8_t *out, size_t cap,
                    size_t *out_len)
{
    char text[ID_TEXT_MAX + 3];
    int rc = agent__id_text(pd_id, text, ID_TEXT_MAX);
    if (rc != 0)
        return -EINVAL;
    char *sep = (char *)last_sep(text);
    if (sep == NULL)
        return -EINVAL;
    memcpy(sep + 1, "ta", 3);
    return teep_suit_component_id_from_text(text, out, cap, out_len);
}
