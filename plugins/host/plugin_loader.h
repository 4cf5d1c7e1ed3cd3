/*
 * plugin_loader.h: the host side of teep/plugin.h, for any plugin class.
 * dlopen()s <dir>/<name>.so from the one directory the host was given,
 * looks up TEEP_PLUGIN_SYMBOL and checks the descriptor before anything of
 * the plugin runs, refusing with a message that says what is wrong.
 */
#ifndef TEEP_PLUGIN_LOADER_H
#define TEEP_PLUGIN_LOADER_H

#include <stddef.h>

#include "teep/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded plugin.  Caller-allocated; filled by teep_plugin_load. */
typedef struct teep_plugin_handle {
    void *dl;                             /* dlopen handle */
    const teep_plugin_descriptor_t *desc; /* checked descriptor */
    char path[4096];                      /* what was loaded */
} teep_plugin_handle_t;

/*
 * Load plugin name (a file name without "/" and without ".so") from dir
 * and check it: the symbol exists, abi_major is TEEP_PLUGIN_ABI_MAJOR,
 * the class is want, the build signature is the host's, name and ops are
 * set.  On failure err[0..err_cap) holds one line saying why (NUL-
 * terminated), the library is closed and *h is zeroed.  Returns 0,
 * -EINVAL (bad name), -ENOENT (no such file), -ELIBBAD (dlopen failed or
 * no descriptor), -EPROTO (ABI, class or signature mismatch).
 */
int teep_plugin_load(const char *dir, const char *name,
                     teep_plugin_class_t want, teep_plugin_handle_t *h,
                     char *err, size_t err_cap);

/* dlclose the plugin; h is zeroed.  Every object the plugin made must be
 * gone first (its fini op called). */
void teep_plugin_unload(teep_plugin_handle_t *h);

/* "transport", "tee", or "unknown". */
const char *teep_plugin_class_name(teep_plugin_class_t cls);

#ifdef __cplusplus
}
#endif
#endif
