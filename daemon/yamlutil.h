/*
 * yamlutil: the few libfyaml helpers that the config and directory loaders share.
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

#endif
