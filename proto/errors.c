/* errors.c: names of error codes and their TEEP err-code mapping. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "teep/common.h"
#include "teep/message.h"

int teep_diag_set(teep_diag_t *diag, int code, size_t offset, const char *fmt,
                  ...)
{
    if (diag != NULL) {
        va_list ap;
        va_start(ap, fmt);
        diag->code = code;
        diag->offset = offset;
        vsnprintf(diag->reason, sizeof(diag->reason), fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *teep_strerror(int code)
{
    switch (code) {
    case 0: return "ok";
    case TEEP_E_CBOR: return "malformed CBOR";
    case TEEP_E_TRUNCATED: return "truncated";
    case TEEP_E_TRAILING: return "trailing bytes";
    case TEEP_E_DEPTH: return "nested too deeply";
    case TEEP_E_INDEFINITE: return "indefinite length";
    case TEEP_E_TYPE: return "wrong type";
    case TEEP_E_MISSING: return "missing element";
    case TEEP_E_RANGE: return "out of range";
    case TEEP_E_DUPLICATE: return "duplicate key";
    case TEEP_E_MSG_TYPE: return "unknown message type";
    case TEEP_E_LIMIT: return "too many elements";
    case TEEP_E_COSE: return "not COSE_Sign1 or COSE_Sign";
    case TEEP_E_ALG: return "unsupported algorithm";
    case TEEP_E_SIGNATURE: return "bad signature";
    case TEEP_E_KEY: return "unusable key";
    case TEEP_E_VERSION: return "unsupported version";
    case TEEP_E_CRYPTO: return "crypto failure";
    case TEEP_E_DECRYPT: return "decryption failed";
    default:
        if (code < 0 && code > -4096)
            return strerror(-code);
        return "unknown error";
    }
}

uint64_t teep_error_to_err_code(int code)
{
    switch (code) {
    case TEEP_E_ALG: return TEEP_ERR_UNSUPPORTED_CIPHER_SUITES;
    case TEEP_E_VERSION: return TEEP_ERR_UNSUPPORTED_MSG_VERSION;
    case TEEP_E_LIMIT:
    case -ENOMEM:
    case -ENOSPC:
    case TEEP_E_CRYPTO: return TEEP_ERR_TEMPORARY_ERROR;
    default: return TEEP_ERR_PERMANENT_ERROR;
    }
}
