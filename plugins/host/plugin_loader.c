/*
 * plugin_loader.c: load a plugin and check its descriptor (teep/plugin.h)
 * before calling anything in it.  RTLD_LOCAL keeps each plugin's symbols
 * to itself (two plugins may embed the same static libraries);
 * RTLD_NOW makes a missing symbol fail here, not at the first call.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin_loader.h"

const char *teep_plugin_class_name(teep_plugin_class_t cls)
{
    switch (cls) {
    case TEEP_PLUGIN_CLASS_TRANSPORT: return "transport";
    case TEEP_PLUGIN_CLASS_TEE: return "tee";
    }
    return "unknown";
}

static int refuse(teep_plugin_handle_t *h, int code, char *err, size_t cap,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int refuse(teep_plugin_handle_t *h, int code, char *err, size_t cap,
                  const char *fmt, ...)
{
    if (err != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    if (h->dl != NULL)
        dlclose(h->dl);
    memset(h, 0, sizeof(*h));
    return code;
}

static int check(teep_plugin_handle_t *h, const teep_plugin_descriptor_t *d,
                 teep_plugin_class_t want, char *err, size_t cap)
{
    if (d->abi_major != TEEP_PLUGIN_ABI_MAJOR)
        return refuse(h, -EPROTO, err, cap,
                      "plugin %s: ABI %u.%u, this host speaks %u.x", h->path,
                      d->abi_major, d->abi_minor, TEEP_PLUGIN_ABI_MAJOR);
    if (d->plugin_class != want)
        return refuse(h, -EPROTO, err, cap,
                      "plugin %s: class %s, a %s plugin was expected", h->path,
                      teep_plugin_class_name(d->plugin_class),
                      teep_plugin_class_name(want));
    if (d->build_signature == NULL ||
        strcmp(d->build_signature, TEEP_PLUGIN_BUILD_SIGNATURE) != 0)
        return refuse(h, -EPROTO, err, cap,
                      "plugin %s: built as \"%s\", this host is \"%s\"",
                      h->path,
                      d->build_signature != NULL ? d->build_signature : "?",
                      TEEP_PLUGIN_BUILD_SIGNATURE);
    if (d->name == NULL || d->ops == NULL)
        return refuse(h, -EPROTO, err, cap,
                      "plugin %s: descriptor without name or ops", h->path);
    return 0;
}

int teep_plugin_load(const char *dir, const char *name,
                     teep_plugin_class_t want, teep_plugin_handle_t *h,
                     char *err, size_t err_cap)
{
    memset(h, 0, sizeof(*h));
    if (err != NULL && err_cap > 0)
        err[0] = 0;
    if (dir == NULL || name == NULL || name[0] == 0 || name[0] == '.' ||
        strchr(name, '/') != NULL)
        return refuse(h, -EINVAL, err, err_cap,
                      "plugin name \"%s\": a plain name is expected",
                      name != NULL ? name : "");
    int n = snprintf(h->path, sizeof(h->path), "%s/%s.so", dir, name);
    if (n < 0 || (size_t)n >= sizeof(h->path))
        return refuse(h, -EINVAL, err, err_cap, "plugin path too long");
    struct stat st;
    if (stat(h->path, &st) != 0 || !S_ISREG(st.st_mode))
        return refuse(h, -ENOENT, err, err_cap, "plugin %s: no such file",
                      h->path);
    h->dl = dlopen(h->path, RTLD_NOW | RTLD_LOCAL);
    if (h->dl == NULL)
        return refuse(h, -ELIBBAD, err, err_cap, "plugin %s: %s", h->path,
                      dlerror());
    const teep_plugin_descriptor_t *d = dlsym(h->dl, TEEP_PLUGIN_SYMBOL);
    if (d == NULL)
        return refuse(h, -ELIBBAD, err, err_cap,
                      "plugin %s: no \"%s\" descriptor: not a teep-broker "
                      "plugin",
                      h->path, TEEP_PLUGIN_SYMBOL);
    int rc = check(h, d, want, err, err_cap);
    if (rc == 0)
        h->desc = d;
    return rc;
}

void teep_plugin_unload(teep_plugin_handle_t *h)
{
    if (h->dl != NULL)
        dlclose(h->dl);
    memset(h, 0, sizeof(*h));
}
