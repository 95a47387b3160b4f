/*
 * yamlutil: reading hand-edited YAML with errors that point at the spot to fix.
 *
 * The file is read whole so its bytes can be checked to be UTF-8 before libfyaml sees it
 * (libfyaml accepts some malformed input, and every name ends up in a MessagePack string),
 * then parsed with a parser whose diagnostics are collected, not printed: the loaders turn
 * the first one into "FILE:LINE:COL: message". The parser owns the document, so both live
 * as long as the handle. Positions of nodes come from a throw-away diagnostic object, the
 * only public way libfyaml 0.7 offers for collections; errors are rare, so its cost is not.
 * The helpers at the end are the loaders' common checks (known keys, booleans, texts), kept
 * here so that every file is held to the same rules with the same wording.
 */
#include "yamlutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A configuration file bigger than this is a mistake (a log or a database named by accident). */
#define YAMLUTIL_MAX_FILE (16u << 20)

int yamlutil_errorf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

struct yamlutil {
    char *path;
    char *text; /* the file's bytes; the parser reads from them in place */
    struct fy_diag *diag;
    struct fy_parser *parser;
    struct fy_document *doc;
};

static void diag_quiet(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag, (void)user, (void)buf, (void)len;
}

/* A diagnostic object that keeps errors for us to read and prints nothing. */
static struct fy_diag *diag_new(void)
{
    struct fy_diag_cfg cfg;
    fy_diag_cfg_default(&cfg);
    cfg.output_fn = diag_quiet;
    struct fy_diag *diag = fy_diag_create(&cfg);
    if (diag)
        fy_diag_set_collect_errors(diag, true);
    return diag;
}

static int read_fd(int fd, const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return yamlutil_errorf(err, errlen, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return yamlutil_errorf(err, errlen, "%s: not a regular file", path);
    if (st.st_size > (off_t)YAMLUTIL_MAX_FILE)
        return yamlutil_errorf(err, errlen, "%s: larger than %u MiB", path,
                               YAMLUTIL_MAX_FILE >> 20);
    size_t cap = (size_t)st.st_size, used = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return yamlutil_errorf(err, errlen, "%s: out of memory", path);
    while (used < cap) {
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            return -1;
        }
        if (n == 0)
            break; /* the file shrank meanwhile: parse what is there */
        used += (size_t)n;
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s (n bytes available), 0 if malformed. A NUL
 * byte counts as malformed: it cannot be part of a name or a key. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return s[0] ? 1 : 0;
    size_t len;
    uint32_t cp, min;
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Columns count characters, as libfyaml's do, so both kinds of error agree. */
static int check_utf8(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    int line = 1, column = 1;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len((const unsigned char *)text + i, len - i);
        if (n == 0) {
            snprintf(err, errlen, "%s:%d:%d: %s", path, line, column,
                     text[i] ? "not valid UTF-8" : "NUL byte");
            return -1;
        }
        if (text[i] == '\n')
            line++, column = 1;
        else
            column++;
        i += n;
    }
    return 0;
}

/* The first collected diagnostic as "PATH:LINE:COL: message". */
static int diag_fail(const char *path, struct fy_diag *diag, char *err, size_t errlen)
{
    void *iter = NULL;
    struct fy_diag_error *e;
    while ((e = fy_diag_errors_iterate(diag, &iter)) != NULL) {
        if (e->type < FYET_ERROR)
            continue;
        snprintf(err, errlen, "%s:%d:%d: %s", path, e->line, e->column, e->msg);
        return -1;
    }
    snprintf(err, errlen, "%s: YAML parse error", path);
    return -1;
}

static int parse(yamlutil_t *self, size_t len, char *err, size_t errlen)
{
    self->diag = diag_new();
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET, .diag = self->diag};
    self->parser = self->diag ? fy_parser_create(&cfg) : NULL;
    if (!self->parser || fy_parser_set_string(self->parser, self->text, len) < 0)
        return yamlutil_errorf(err, errlen, "%s: out of memory", self->path);
    self->doc = fy_parse_load_document(self->parser);
    /* A second document would be silently ignored: say so instead. */
    struct fy_document *extra = self->doc ? fy_parse_load_document(self->parser) : NULL;
    int rc = 0;
    if (fy_parser_get_stream_error(self->parser))
        rc = diag_fail(self->path, self->diag, err, errlen);
    else if (extra)
        rc = yamlutil_fail(self->path, fy_document_root(extra), err, errlen,
                           "only one YAML document is allowed in this file");
    if (extra)
        fy_parse_document_destroy(self->parser, extra);
    return rc;
}

yamlutil_t *yamlutil_load(const char *path, char *err, size_t errlen)
{
    yamlutil_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(self);
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        yamlutil_destroy(&self);
        return NULL;
    }
    size_t len = 0;
    int rc = read_fd(fd, path, &self->text, &len, err, errlen);
    close(fd);
    if (rc == 0)
        rc = check_utf8(path, self->text, len, err, errlen);
    if (rc == 0)
        rc = parse(self, len, err, errlen);
    if (rc < 0)
        yamlutil_destroy(&self);
    return self;
}

void yamlutil_destroy(yamlutil_t **self_p)
{
    yamlutil_t *self = *self_p;
    if (!self)
        return;
    if (self->doc)
        fy_parse_document_destroy(self->parser, self->doc);
    if (self->parser)
        fy_parser_destroy(self->parser);
    if (self->diag)
        fy_diag_destroy(self->diag);
    free(self->text);
    free(self->path);
    free(self);
    *self_p = NULL;
}

struct fy_node *yamlutil_root(const yamlutil_t *self)
{
    return self->doc ? fy_document_root(self->doc) : NULL;
}

const char *yamlutil_path(const yamlutil_t *self)
{
    return self->path;
}

/* The node's own position, from a silent diagnostic report about it. */
static bool mark_direct(struct fy_node *node, int *line, int *column)
{
    struct fy_diag *diag = diag_new();
    bool found = false;
    if (!diag)
        return false;
    fy_diag_node_report(diag, node, FYET_ERROR, "%s", "here");
    void *iter = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(diag, &iter);
    if (e && e->line > 0) {
        *line = e->line;
        *column = e->column;
        found = true;
    }
    fy_diag_destroy(diag);
    return found;
}

/* The key node of a mapping value, or else the node's parent. */
static struct fy_node *key_or_parent(struct fy_node *node)
{
    struct fy_node *parent = fy_node_get_parent(node);
    void *iter = NULL;
    struct fy_node_pair *pair;
    while (parent && fy_node_is_mapping(parent) &&
           (pair = fy_node_mapping_iterate(parent, &iter)) != NULL)
        if (fy_node_pair_value(pair) == node)
            return fy_node_pair_key(pair);
    return parent;
}

/* Where to look when a node has no position of its own: libfyaml keeps none for an empty
 * value ("key:" and nothing), and not always one for a block collection. A collection
 * starts where its first entry does; an empty value is reported at its key. */
static struct fy_node *mark_fallback(struct fy_node *node)
{
    void *iter = NULL;
    if (fy_node_is_mapping(node)) {
        struct fy_node_pair *pair = fy_node_mapping_iterate(node, &iter);
        if (pair)
            return fy_node_pair_key(pair);
    } else if (fy_node_is_sequence(node)) {
        struct fy_node *item = fy_node_sequence_iterate(node, &iter);
        if (item)
            return item;
    }
    return key_or_parent(node);
}

void yamlutil_mark(struct fy_node *node, int *line, int *column)
{
    *line = *column = 0;
    /* bounded: a key without a mark falls back to its mapping, which may fall back to it */
    for (int hops = 0; node && hops < 8; hops++) {
        if (mark_direct(node, line, column))
            return;
        node = mark_fallback(node);
    }
}

/* The message sizes of all failures: a labelled message is cut to MSG_BODY before its label
 * is put in front, so the label always shows. */
#define MSG_MAX 512
#define MSG_BODY 400

static int fail_at(const char *path, struct fy_node *node, char *err, size_t errlen,
                   const char *msg)
{
    int line, column;
    yamlutil_mark(node, &line, &column);
    if (line > 0)
        snprintf(err, errlen, "%s:%d:%d: %s", path, line, column, msg);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
    return -1;
}

int yamlutil_fail(const char *path, struct fy_node *node, char *err, size_t errlen, const char *fmt,
                  ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail_at(path, node, err, errlen, msg);
}

int yamlutil_error(const yamlutil_ctx_t *cx, struct fy_node *node, const char *fmt, ...)
{
    char body[MSG_BODY], msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    if (cx->label) {
        vsnprintf(body, sizeof body, fmt, ap);
        snprintf(msg, sizeof msg, "%s: %s", cx->label, body);
    } else {
        vsnprintf(msg, sizeof msg, fmt, ap);
    }
    va_end(ap);
    return fail_at(cx->path, node, cx->err, cx->errlen, msg);
}

const char *yamlutil_scalar(struct fy_node *node, size_t *len)
{
    *len = 0;
    if (!node || fy_node_get_type(node) != FYNT_SCALAR || fy_node_is_alias(node))
        return NULL;
    const char *text = fy_node_get_scalar(node, len);
    if (!text) {
        *len = 0;
        return "";
    }
    return text;
}

bool yamlutil_is_null(struct fy_node *node)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    if (!node)
        return true;
    if (!text || fy_node_get_style(node) != FYNS_PLAIN)
        return false;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (len == strlen(nulls[i]) && memcmp(text, nulls[i], len) == 0)
            return true;
    return false;
}

const char *yamlutil_kind(struct fy_node *node)
{
    if (!node)
        return "nothing";
    if (fy_node_is_alias(node))
        return "an alias";
    switch (fy_node_get_type(node)) {
    case FYNT_MAPPING:
        return "a mapping";
    case FYNT_SEQUENCE:
        return "a list";
    default:
        return yamlutil_is_null(node) ? "an empty value" : "a single value";
    }
}

char *yamlutil_strdup(struct fy_node *node, const char **why)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    *why = NULL;
    if (!text)
        return *why = "expected a single value", NULL;
    if (memchr(text, '\0', len))
        return *why = "contains a NUL character", NULL;
    char *copy = strndup(text, len);
    if (!copy)
        *why = "out of memory";
    return copy;
}

/* The i-th of the names found `stride` bytes apart from *first on. */
static const char *nth_name(const char *const *first, size_t i, size_t stride)
{
    return *(const char *const *)((const char *)first + i * stride);
}

/* Levenshtein distance, for names of at most 63 bytes (longer ones are never typos of ours). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *yamlutil_suggest(const char *word, const char *const *first, size_t n, size_t stride)
{
    const char *best = NULL;
    size_t best_d = 3, wlen = strlen(word);
    for (size_t i = 0; i < n; i++) {
        const char *cand = nth_name(first, i, stride);
        size_t d = edit_distance(word, cand);
        if (d < best_d && d < wlen) {
            best = cand;
            best_d = d;
        }
    }
    return best;
}

const char *yamlutil_hint(char *buf, size_t size, const char *text, size_t len,
                          const char *const *first, size_t n, size_t stride)
{
    char word[64]; /* longer names are never typos of ours (see edit_distance) */
    snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), text);
    const char *best = yamlutil_suggest(word, first, n, stride);
    if (!best)
        return "";
    snprintf(buf, size, " (did you mean '%s'?)", best);
    return buf;
}

int yamlutil_unknown(const yamlutil_ctx_t *cx, struct fy_node *node, const char *what,
                     const char *noun, const char *text, size_t len, const char *const *first,
                     size_t n, size_t stride)
{
    char buf[96]; /* enough: yamlutil_suggest never offers a name longer than 63 bytes */
    if (!text)
        text = "", len = 0;
    size_t shown = cx->quote_max && len > cx->quote_max ? cx->quote_max : len;
    return yamlutil_error(cx, node, "%s%sunknown %s '%.*s'%s", what ? what : "", what ? ": " : "",
                          noun, (int)shown, text,
                          yamlutil_hint(buf, sizeof buf, text, len, first, n, stride));
}

bool yamlutil_text_is(const char *text, size_t len, const char *want)
{
    return text && strlen(want) == len && memcmp(text, want, len) == 0;
}

bool yamlutil_is_mapping(struct fy_node *node)
{
    return node && !fy_node_is_alias(node) && fy_node_is_mapping(node);
}

bool yamlutil_is_sequence(struct fy_node *node)
{
    return node && !fy_node_is_alias(node) && fy_node_is_sequence(node);
}

size_t yamlutil_index(const char *text, size_t len, const char *const *first, size_t n,
                      size_t stride)
{
    size_t i = 0;
    while (i < n && !yamlutil_text_is(text, len, nth_name(first, i, stride)))
        i++;
    return i;
}

struct fy_node_pair *yamlutil_pair(struct fy_node *map, const char *key)
{
    void *iter = NULL;
    struct fy_node_pair *pair;
    while (yamlutil_is_mapping(map) && (pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        size_t len;
        const char *text = yamlutil_scalar(fy_node_pair_key(pair), &len);
        if (yamlutil_text_is(text, len, key))
            return pair;
    }
    return NULL;
}

int yamlutil_get_fields(const yamlutil_ctx_t *cx, struct fy_node *map, const char *what,
                        yamlutil_field_t *fields, size_t n)
{
    const char *pre = what ? what : "", *sep = what ? ": " : "";
    if (!yamlutil_is_mapping(map))
        return yamlutil_error(cx, map, "%s%sexpected a mapping, got %s", pre, sep,
                              yamlutil_kind(map));
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        struct fy_node *key = fy_node_pair_key(pair);
        size_t len;
        const char *text = yamlutil_scalar(key, &len);
        size_t i = yamlutil_index(text, len, &fields[0].name, n, sizeof fields[0]);
        if (i == n)
            return yamlutil_unknown(cx, key, what, "key", text, len, &fields[0].name, n,
                                    sizeof fields[0]);
        fields[i].node = fy_node_pair_value(pair);
    }
    for (size_t i = 0; i < n; i++)
        if (fields[i].required && yamlutil_is_null(fields[i].node))
            return yamlutil_error(cx, map, "%s%smissing '%s'", pre, sep, fields[i].name);
    return 0;
}

int yamlutil_get_bool(const yamlutil_ctx_t *cx, struct fy_node *node, const char *what, bool *out)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    bool plain = text && fy_node_get_style(node) == FYNS_PLAIN;
    if (plain && (yamlutil_text_is(text, len, "true") || yamlutil_text_is(text, len, "false"))) {
        *out = text[0] == 't';
        return 0;
    }
    if (yamlutil_is_null(node))
        return yamlutil_error(cx, node, "%s: missing value", what);
    return yamlutil_error(cx, node, "%s: bad boolean '%.*s': expected true or false", what,
                          text ? (int)len : 0, text ? text : "");
}

int yamlutil_get_text(const yamlutil_ctx_t *cx, struct fy_node *node, const char *what, char **out)
{
    const char *why;
    *out = NULL;
    if (yamlutil_is_null(node))
        return yamlutil_error(cx, node, "%s: missing value", what);
    if (!(*out = yamlutil_strdup(node, &why)))
        return yamlutil_error(cx, node, "%s: %s, got %s", what, why, yamlutil_kind(node));
    if (**out == '\0')
        return yamlutil_error(cx, node, "%s: missing value", what);
    return 0;
}
