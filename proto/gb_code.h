/*
 * gb_code: the error codes of the gridbus wire contract (PROTOCOL.md, "Error codes").
 *
 * One table maps each code to its wire name, so the daemon that sends a nack and the
 * client that reads one agree on the spelling. gb_error_t carries a code together with a
 * human message that names the field and the rule, filled where the error is found.
 */
#ifndef GB_CODE_H
#define GB_CODE_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
    GB_OK = 0,
    GB_E_DECODE,    /* not msgpack, not a map, not one frame */
    GB_E_VERSION,   /* v is not a version this daemon speaks */
    GB_E_OP,        /* unknown or missing op */
    GB_E_SCHEMA,    /* missing field, wrong type, out of range, unknown field */
    GB_E_TYPE,      /* unknown event type */
    GB_E_MEMBER,    /* a member id that is not in the directory */
    GB_E_GRID,      /* a grid id that is not in the directory */
    GB_E_TASK,      /* unknown task */
    GB_E_STATE,     /* illegal lifecycle step */
    GB_E_CONFLICT,  /* id already used for different content */
    GB_E_FORBIDDEN, /* the sender may not do this */
    GB_E_TOO_LARGE, /* frame over the size limit */
    GB_E_STORAGE,   /* disk or map full: retry later */
    GB_E_BUSY,      /* back-pressure: retry later */
    GB_E_COUNT_
} gb_code_t;

/* Longest message a gb_error_t holds; longer messages are cut, never overflowed. */
#define GB_ERROR_MSG_MAX 200

typedef struct {
    gb_code_t code;
    char msg[GB_ERROR_MSG_MAX];
} gb_error_t;

/* "E_SCHEMA" for GB_E_SCHEMA, "OK" for GB_OK, "E_UNKNOWN" past the table. */
const char *gb_code_name(gb_code_t code);

/* The code for a wire name of len bytes, or -1 when the name is not a code. */
int gb_code_from_name(const char *name, size_t len);

/* Sets err (when not NULL) to code and a printf-formatted message; returns -1, so a
 * validator can `return gb_error_set(err, GB_E_SCHEMA, "...")`. Messages echo client
 * input (a field name, a type) and may cut it short: the result is made valid UTF-8
 * (malformed or cut sequences become '?') so that every nack decodes as text. */
int gb_error_set(gb_error_t *err, gb_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int gb_error_vset(gb_error_t *err, gb_code_t code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Replaces every byte of s that does not start a well-formed UTF-8 sequence with '?'. */
void gb_text_sanitize(char *s);

/* Copies len bytes of the valid UTF-8 text src (NULL when len is 0) into dst of cap bytes,
 * NUL-terminated; a text cut to fit may split a character, so a cut one is sanitized. */
void gb_text_copy(char *dst, size_t cap, const char *src, size_t len);

#endif
