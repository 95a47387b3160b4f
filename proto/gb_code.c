/*
 * gb_code: wire names of the error codes, and the error setter every validator uses.
 */
#include "gb_code.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[GB_E_COUNT_] = {
    [GB_OK] = "OK",
    [GB_E_DECODE] = "E_DECODE",
    [GB_E_VERSION] = "E_VERSION",
    [GB_E_OP] = "E_OP",
    [GB_E_SCHEMA] = "E_SCHEMA",
    [GB_E_TYPE] = "E_TYPE",
    [GB_E_MEMBER] = "E_MEMBER",
    [GB_E_GRID] = "E_GRID",
    [GB_E_TASK] = "E_TASK",
    [GB_E_STATE] = "E_STATE",
    [GB_E_CONFLICT] = "E_CONFLICT",
    [GB_E_FORBIDDEN] = "E_FORBIDDEN",
    [GB_E_TOO_LARGE] = "E_TOO_LARGE",
    [GB_E_STORAGE] = "E_STORAGE",
    [GB_E_BUSY] = "E_BUSY",
};

const char *gb_code_name(gb_code_t code)
{
    if ((unsigned)code >= GB_E_COUNT_)
        return "E_UNKNOWN";
    return code_names[code];
}

int gb_code_from_name(const char *name, size_t len)
{
    for (int i = 0; i < GB_E_COUNT_; i++)
        if (strlen(code_names[i]) == len && memcmp(code_names[i], name, len) == 0)
            return i;
    return -1;
}

int gb_error_set(gb_error_t *err, gb_code_t code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
