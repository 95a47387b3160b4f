/*
 * yamlutil: the libfyaml helpers that every loader of hand-edited YAML shares (config,
 * directory, calendar, routes, match), so that they word their errors alike.
 *
 * Both files are edited by hand, so every error must point at the spot to fix:
 * "FILE:LINE:COLUMN: message", 1-based like compilers print them. libfyaml only exposes the
 * position of a collection node through its diagnostics, so yamlutil_fail asks a private,
 * silent diagnostic object for it; that costs an allocation, but only on the error path.
 * Files are read whole and checked to be UTF-8 first: names go into MessagePack strings.
 */
#ifndef GB_YAMLUTIL_H
#define GB_YAMLUTIL_H

#include <stdbool.h>
#include <stddef.h>

struct fy_node;
struct fy_node_pair;
typedef struct yamlutil yamlutil_t;

/* Reads and parses one YAML file. NULL with err = "FILE: reason" (cannot open, not a
 * regular file, too large) or "FILE:LINE:COL: reason" (bad UTF-8, YAML syntax, duplicate
 * key, more than one document). */
yamlutil_t *yamlutil_load(const char *path, char *err, size_t errlen);
void yamlutil_destroy(yamlutil_t **self_p);

/* The document's root node; NULL when the file holds no document (empty, only comments). */
struct fy_node *yamlutil_root(const yamlutil_t *self);
const char *yamlutil_path(const yamlutil_t *self);

/* Writes "PATH:LINE:COL: message" about node into err ("PATH: message" without a node) and
 * returns -1, so loaders can `return yamlutil_fail(...)`. */
int yamlutil_fail(const char *path, struct fy_node *node, char *err, size_t errlen, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/* snprintf into err, then -1: for errors with no node to point at (and for non-YAML errors of
 * the loaders, such as config's --set), so they too can `return yamlutil_errorf(...)`. */
int yamlutil_errorf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Where one loader's errors go and how they read: each module keeps its own conventions. */
typedef struct {
    const char *path; /* the file, first in every message */
    char *err;        /* receives the message */
    size_t errlen;
    const char *label; /* "route 'fire-hazard'": prefixes every message; NULL for none */
    size_t quote_max;  /* most bytes of an unknown name quoted in a message; 0 for all */
} yamlutil_ctx_t;

/* yamlutil_fail with the context's file and buffer, and "LABEL: " before the message when the
 * context has a label. */
int yamlutil_error(const yamlutil_ctx_t *cx, struct fy_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* " (did you mean 'x'?)" into buf, or "" when no candidate is close to the len bytes at text.
 * The candidates are found as by yamlutil_suggest. */
const char *yamlutil_hint(char *buf, size_t size, const char *text, size_t len,
                          const char *const *first, size_t n, size_t stride);

/* Fails at node with "[WHAT: ]unknown NOUN 'TEXT'" and a hint among the candidates; text NULL
 * (a key that is no scalar) reads as ''. */
int yamlutil_unknown(const yamlutil_ctx_t *cx, struct fy_node *node, const char *what,
                     const char *noun, const char *text, size_t len, const char *const *first,
                     size_t n, size_t stride);

/* 1-based line and column of node; 0 and 0 when unknown. */
void yamlutil_mark(struct fy_node *node, int *line, int *column);

/* The text of a scalar (not NUL-terminated), or NULL for a collection or an alias. */
const char *yamlutil_scalar(struct fy_node *node, size_t *len);

/* True for an absent value: a plain empty scalar, "~" or "null". */
bool yamlutil_is_null(struct fy_node *node);

/* A short name for the node's kind, for "expected X, got Y" messages. */
const char *yamlutil_kind(struct fy_node *node);

/* A malloc'ed NUL-terminated copy of a scalar; NULL if node is no scalar, the text holds a
 * NUL byte, or memory ran out (*why says which). */
char *yamlutil_strdup(struct fy_node *node, const char **why);

/* The candidate closest to word when it is a likely typo of it (edit distance at most 2),
 * else NULL: for "unknown key 'x' (did you mean 'y'?)". The candidates are n names found
 * `stride` bytes apart from *first on, so a table of structs can be searched by its name
 * field as well as a plain array of strings (stride sizeof(char *)). */
const char *yamlutil_suggest(const char *word, const char *const *first, size_t n, size_t stride);

/* Whether the len bytes at text (NULL: none) are want. */
bool yamlutil_text_is(const char *text, size_t len, const char *want);

/* The index of the name that the len bytes at text are, among n names found `stride` bytes
 * apart from *first on (as for yamlutil_suggest); n when none is. */
size_t yamlutil_index(const char *text, size_t len, const char *const *first, size_t n,
                      size_t stride);

/* Kind checks that take NULL, and an alias for what it is (an alias is neither). */
bool yamlutil_is_mapping(struct fy_node *node);
bool yamlutil_is_sequence(struct fy_node *node);

/* The pair of map whose key is the scalar key, or NULL (also when map is no mapping). */
struct fy_node_pair *yamlutil_pair(struct fy_node *map, const char *key);

/* One key a mapping may hold; node is set by yamlutil_get_fields, NULL while absent. */
typedef struct {
    const char *name;
    bool required; /* absent or empty is an error */
    struct fy_node *node;
} yamlutil_field_t;

/* Matches the keys of map against fields, so that a misspelt key is reported (with a "did you
 * mean") instead of silently dropped; a required field left empty is an error too. Messages
 * start with "WHAT: " when what is not NULL. */
int yamlutil_get_fields(const yamlutil_ctx_t *cx, struct fy_node *map, const char *what,
                        yamlutil_field_t *fields, size_t n);

/* A plain true or false into *out; what names the key in messages. */
int yamlutil_get_bool(const yamlutil_ctx_t *cx, struct fy_node *node, const char *what, bool *out);

/* A malloc'ed copy of a non-empty single value into *out (NULL on most errors). */
int yamlutil_get_text(const yamlutil_ctx_t *cx, struct fy_node *node, const char *what, char **out);

#endif
