/*
 * teep/plugin.h: what every teep-broker plugin (transport or TEE) exports,
 * and how the host checks it before calling anything.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * TEEP_PLUGIN_SYMBOL, a const teep_plugin_descriptor_t.  The host dlopen()s
 * the file (from its configured plugin directory only), looks the symbol
 * up, and refuses the plugin with a clear message unless:
 *   - abi_major equals the host's TEEP_PLUGIN_ABI_MAJOR (a minor version
 *     may be older or newer: minors only add members at the end of tables,
 *     and each table starts with its size so both sides see what the other
 *     knows);
 *   - the class is one the host asked for;
 *   - build_signature matches teep_plugin_build_signature() of the host
 *     (same ABI major, same pointer size and byte order: what would make a
 *     struct layout differ).
 * Plugins link with -Wl,--no-undefined and reach the host only through the
 * host table they are given in their init op; they never touch host
 * globals.
 */
#ifndef TEEP_PLUGIN_H
#define TEEP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TEEP_PLUGIN_ABI_MAJOR 1
#define TEEP_PLUGIN_ABI_MINOR 0

/* The one symbol a plugin exports. */
#define TEEP_PLUGIN_SYMBOL "teep_plugin"

typedef enum teep_plugin_class {
    TEEP_PLUGIN_CLASS_TRANSPORT = 1,
    TEEP_PLUGIN_CLASS_TEE = 2,
} teep_plugin_class_t;

#define TEEP_PLUGIN_STR2(x) #x
#define TEEP_PLUGIN_STR(x)  TEEP_PLUGIN_STR2(x)
/* Compiled into both host and plugin; equal strings mean compatible
 * layouts. */
#define TEEP_PLUGIN_BUILD_SIGNATURE                                            \
    "teep-plugin-abi-" TEEP_PLUGIN_STR(                                        \
        TEEP_PLUGIN_ABI_MAJOR) "/ptr" TEEP_PLUGIN_STR(__SIZEOF_POINTER__) "/" TEEP_PLUGIN_STR(__BYTE_ORDER__)

typedef struct teep_plugin_descriptor {
    uint16_t abi_major;
    uint16_t abi_minor;
    teep_plugin_class_t plugin_class;
    const char *name;            /* "http", "coap", "sim", ... */
    const char *description;     /* one line for logs and --help */
    const char *build_signature; /* TEEP_PLUGIN_BUILD_SIGNATURE */
    const void *ops;             /* the class's ops table, see
                                    teep/tee_plugin.h and
                                    teep/transport_plugin.h */
    void *reserved[4];           /* zero; for later minors */
} teep_plugin_descriptor_t;

/* Define the descriptor in a plugin:
 *   TEEP_PLUGIN_DEFINE(TEEP_PLUGIN_CLASS_TEE, "sim", "simulated TEE", &ops);
 */
#define TEEP_PLUGIN_DEFINE(cls, plugin_name, desc, ops_ptr)                    \
    __attribute__((visibility("default")))                                     \
    const teep_plugin_descriptor_t teep_plugin = {                             \
        .abi_major = TEEP_PLUGIN_ABI_MAJOR,                                    \
        .abi_minor = TEEP_PLUGIN_ABI_MINOR,                                    \
        .plugin_class = (cls),                                                 \
        .name = (plugin_name),                                                 \
        .description = (desc),                                                 \
        .build_signature = TEEP_PLUGIN_BUILD_SIGNATURE,                        \
        .ops = (ops_ptr),                                                      \
    }

/* Log levels of the host's logging function. */
typedef enum teep_log_level {
    TEEP_LOG_ERROR = 0,
    TEEP_LOG_WARN = 1,
    TEEP_LOG_INFO = 2,
    TEEP_LOG_DEBUG = 3,
} teep_log_level_t;

#ifdef __cplusplus
}
#endif
#endif
