/*
 * gb_code: wire names of the error codes, and the error setter every validator uses.
 */
#include "gb_code.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
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

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0 when it is not
 * one: overlongs, surrogates and code points past U+10FFFF count as malformed. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    static const struct {
        unsigned char lo, hi, len, min2, max2;
    } lead[] = {{0xc2, 0xdf, 2, 0x80, 0xbf}, {0xe0, 0xe0, 3, 0xa0, 0xbf},
                {0xe1, 0xec, 3, 0x80, 0xbf}, {0xed, 0xed, 3, 0x80, 0x9f},
                {0xee, 0xef, 3, 0x80, 0xbf}, {0xf0, 0xf0, 4, 0x90, 0xbf},
                {0xf1, 0xf3, 4, 0x80, 0xbf}, {0xf4, 0xf4, 4, 0x80, 0x8f}};
    if (p[0] < 0x80)
        return 1;
    for (size_t i = 0; i < sizeof lead / sizeof lead[0]; i++) {
        if (p[0] < lead[i].lo || p[0] > lead[i].hi)
            continue;
        if (n < lead[i].len || p[1] < lead[i].min2 || p[1] > lead[i].max2)
            return 0;
        for (size_t k = 2; k < lead[i].len; k++)
            if ((p[k] & 0xc0) != 0x80)
                return 0;
        return lead[i].len;
    }
    return 0;
}

void gb_text_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        size_t k = utf8_seq(p, n);
        if (k == 0)
            *p = '?', k = 1;
        p += k, n -= k;
    }
}

void gb_text_copy(char *dst, size_t cap, const char *src, size_t len)
{
    bool cut = len > cap - 1;
    if (cut)
        len = cap - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = 0;
    if (cut)
        gb_text_sanitize(dst);
}

int gb_error_vset(gb_error_t *err, gb_code_t code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        gb_text_sanitize(err->msg);
    }
    return -1;
}

int gb_error_set(gb_error_t *err, gb_code_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gb_error_vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}
