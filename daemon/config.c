/*
 * config: gridbusd's settings, declared once in the table `keys` below.
 *
 * A key's default is written as text and parsed by the same code as a value from a file or
 * from --set, so defaults obey the rules they document and there is no second list of them.
 * The file loader walks the YAML mappings building dotted names and looks each one up in
 * the table; a name that is neither a key nor the prefix of one (a section) is an error,
 * with a "did you mean" when it is close to a real one. Loading works on a copy that is
 * swapped in only when the whole file was good, so a bad file never leaves a half-applied
 * configuration behind (which matters once the daemon reloads on SIGHUP).
 */
#include "config.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

#include "yamlutil.h"

typedef enum {
    KT_STRING, /* free text, e.g. an endpoint */
    KT_PATH,   /* a file or folder; relative in a file means relative to the file's folder */
    KT_SIZE64, /* bytes: an integer with an optional K/M/G/T or KiB/MiB/GiB/TiB suffix */
    KT_SIZE32, /* the same, at most 4 GiB - 1 */
    KT_COUNT,  /* a plain integer, at most 2^32 - 1 */
    KT_BOOL,   /* true or false */
    KT_LEVEL,  /* a log level name */
} key_type_t;

typedef struct {
    const char *name; /* dotted: at most one level of section, keys of a section adjacent */
    key_type_t type;
    size_t offset;    /* of the field in config_t */
    const char *dflt; /* parsed like a --set value */
    const char *help; /* one line, printed by config_print */
} config_key_t;

#define KEY(name, type, field, dflt, help)                                                         \
    {                                                                                              \
        name, type, offsetof(config_t, field), dflt, help                                          \
    }

/* The one list of keys, in the order config_print writes them (docs/CONFIG.md too). */
static const config_key_t keys[] = {
    KEY("state_dir", KT_PATH, state_dir, "var", "folder of the LMDB environment"),
    KEY("directory", KT_PATH, directory, "conf/daidong.yaml",
        "community directory: grids, compounds, members and their roles"),
    KEY("endpoints.ingest", KT_STRING, endpoints.ingest, "tcp://127.0.0.1:7401",
        "ROUTER, bind: publish with ack, replay, query, ping"),
    KEY("endpoints.publish", KT_STRING, endpoints.publish, "tcp://127.0.0.1:7402",
        "SUB, bind: fire-and-forget publishers"),
    KEY("endpoints.tasks", KT_STRING, endpoints.tasks, "tcp://127.0.0.1:7403",
        "PUB, bind: task feed, topics task/<grid>/<assignee>"),
    KEY("endpoints.alerts", KT_STRING, endpoints.alerts, "tcp://127.0.0.1:7404",
        "PUB, bind: alert feed, topics alert/<community>/<rule>"),
    KEY("endpoints.http", KT_STRING, endpoints.http, "127.0.0.1:7480",
        "HOST:PORT of the HTTP health, metrics and query endpoint"),
    KEY("http.token_file", KT_STRING, http.token_file, "none",
        "absolute path of a file holding the bearer token HTTP requests must present; none: "
        "no token (then endpoints.http must be loopback)"),
    KEY("security.enabled", KT_BOOL, security.enabled, "false",
        "CURVE encryption and ZAP key checks on every ZeroMQ endpoint"),
    KEY("security.server_key", KT_STRING, security.server_key, "server.key",
        "the daemon's CURVE key pair (relative: in state_dir), made on first start"),
    KEY("security.keys", KT_PATH, security.keys, "conf/clients.keys",
        "client public keys, one `KEY member.id` a line; reloaded on SIGHUP"),
    KEY("security.allow_insecure_remote", KT_BOOL, security.allow_insecure_remote, "false",
        "with security off, allow endpoints that are not on loopback"),
    KEY("store.map_size", KT_SIZE64, store.map_size, "64MiB", "initial LMDB map size"),
    KEY("store.map_size_max", KT_SIZE64, store.map_size_max, "16GiB",
        "the map grows up to this; past it writes are refused with E_STORAGE"),
    KEY("store.dead_letter_max", KT_COUNT, store.dead_letter_max, "10000",
        "refused inputs kept for inspection; the oldest go first"),
    KEY("store.reader_check_ms", KT_COUNT, store.reader_check_ms, "60000",
        "ms between sweeps of stale LMDB reader slots (0: only at start)"),
    KEY("limits.max_message", KT_SIZE32, limits.max_message, "64KiB",
        "largest request accepted; a bigger one is refused with E_TOO_LARGE"),
    KEY("limits.max_frame", KT_SIZE32, limits.max_frame, "1MiB",
        "largest ZeroMQ message read at all (ZMQ_MAXMSGSIZE)"),
    KEY("limits.batch_max", KT_COUNT, limits.batch_max, "4096",
        "most requests handled in one write transaction (group commit)"),
    KEY("limits.read_budget", KT_COUNT, limits.read_budget, "1024",
        "most messages read from one socket per loop turn"),
    KEY("limits.inflight_max", KT_COUNT, limits.inflight_max, "1024",
        "most requests of one connection in one batch; more are refused with E_BUSY"),
    KEY("limits.heartbeat_ivl_ms", KT_COUNT, limits.heartbeat_ivl_ms, "5000",
        "ms between ZeroMQ heartbeats (PING) on every endpoint; 0: none"),
    KEY("limits.heartbeat_timeout_ms", KT_COUNT, limits.heartbeat_timeout_ms, "15000",
        "a peer silent this long after a PING is disconnected"),
    KEY("log.level", KT_LEVEL, log.level, "info", "debug, info, warning or error"),
    KEY("testing.allow_clock", KT_BOOL, testing.allow_clock, "false",
        "lets tests set the daemon's clock; never in production"),
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* The smallest map LMDB is asked for: catches "map_size: 64" meant as MiB. */
#define MAP_SIZE_MIN (64u << 10)
/* The smallest max_message: an event envelope alone is about 200 bytes. */
#define MAX_MESSAGE_MIN 256u

static const char *const levels[] = {"debug", "info", "warning", "error"};

typedef union {
    char *s;
    uint64_t u;
    bool b;
} value_t;

static bool key_is_string(const config_key_t *k)
{
    return k->type == KT_STRING || k->type == KT_PATH || k->type == KT_LEVEL;
}

static void *field(const config_t *self, const config_key_t *k)
{
    return (char *)self + k->offset;
}

/* The key named by the first len bytes of name, or NULL. */
static const config_key_t *key_find(const char *name, size_t len)
{
    size_t i = yamlutil_index(name, len, &keys[0].name, NKEYS, sizeof keys[0]);
    return i < NKEYS ? &keys[i] : NULL;
}

/* The first key of the section `name` ("store" -> store.map_size), or NULL if it is none. */
static const config_key_t *section_first(const char *name, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strncmp(keys[i].name, name, len) == 0 && keys[i].name[len] == '.')
            return &keys[i];
    return NULL;
}

/* " (did you mean 'x'?)" into buf for a likely intended name, compared at the same depth:
 * "stor" against sections and top-level keys, "store.map_sise" against full names; "" when
 * nothing is close. */
static const char *key_hint(const char *name, char *buf, size_t buflen)
{
    char cand[NKEYS][64];
    const char *ptrs[NKEYS];
    size_t depth = 0;
    for (const char *p = name; *p; p++)
        depth += *p == '.';
    for (size_t i = 0; i < NKEYS; i++) {
        const char *end = keys[i].name;
        for (size_t d = 0; end && d <= depth; d++)
            end = strchr(end + (d > 0), '.');
        size_t len = end ? (size_t)(end - keys[i].name) : strlen(keys[i].name);
        snprintf(cand[i], sizeof cand[i], "%.*s", (int)len, keys[i].name);
        ptrs[i] = cand[i];
    }
    return yamlutil_hint(buf, buflen, name, strlen(name), ptrs, NKEYS, sizeof ptrs[0]);
}

/* ---- values ---- */

/* Digits only (no sign, no leading spaces): 0, -1 when there are none, -2 on overflow. */
static int parse_digits(const char *s, uint64_t *out, const char **end)
{
    uint64_t n = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return -2;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (p == s)
        return -1;
    *out = n;
    *end = p;
    return 0;
}

/* The shift of a size suffix ("" 0, "K"/"KiB" 10, ...), or -1 for anything else. */
static int size_shift(const char *suffix)
{
    static const struct {
        const char *suffix;
        int shift;
    } units[] = {{"", 0},   {"K", 10},   {"KiB", 10}, {"M", 20},  {"MiB", 20},
                 {"G", 30}, {"GiB", 30}, {"T", 40},   {"TiB", 40}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(suffix, units[i].suffix) == 0)
            return units[i].shift;
    return -1;
}

static int parse_size(const char *s, uint64_t max, value_t *v, char *why, size_t whylen)
{
    uint64_t n = 0;
    const char *end = s;
    int rc = parse_digits(s, &n, &end), shift = -1;
    if (rc == 0) {
        while (*end == ' ')
            end++;
        shift = size_shift(end);
    }
    if (rc == -2 || (shift >= 0 && n > (max >> shift)))
        return yamlutil_errorf(why, whylen, "size '%s' is too large (at most %llu bytes)", s,
                               (unsigned long long)max);
    if (shift < 0)
        return yamlutil_errorf(
            why, whylen,
            "bad size '%s': expected an integer of bytes with an optional K, M, G, T, "
            "KiB, MiB, GiB or TiB suffix (powers of 1024)",
            s);
    v->u = n << shift;
    return 0;
}

static int parse_count(const char *s, value_t *v, char *why, size_t whylen)
{
    uint64_t n;
    const char *end;
    if (parse_digits(s, &n, &end) < 0 || *end != '\0' || n > UINT32_MAX)
        return yamlutil_errorf(why, whylen, "bad number '%s': expected an integer from 0 to %u", s,
                               UINT32_MAX);
    v->u = n;
    return 0;
}

static int parse_bool(const char *s, value_t *v, char *why, size_t whylen)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        v->b = s[0] == 't';
        return 0;
    }
    snprintf(why, whylen, "bad boolean '%s': expected true or false", s);
    return -1;
}

static int dup_string(const char *s, value_t *v, char *why, size_t whylen)
{
    if (!(v->s = strdup(s)))
        return yamlutil_errorf(why, whylen, "out of memory");
    return 0;
}

static int parse_level(const char *s, value_t *v, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(s, levels[i]) == 0)
            return dup_string(s, v, why, whylen);
    snprintf(why, whylen, "bad log level '%s': expected debug, info, warning or error", s);
    return -1;
}

/* base + "/" + rel, where base is canonical (from realpath: no symlinks, no dots), so the
 * leading "./" and "../" of rel can be applied to it as text: "/etc/gridbus" + "../var"
 * is "/etc/var", which is what the kernel would find. */
static char *path_join(const char *base, const char *rel)
{
    char *dir = strdup(base);
    if (!dir)
        return NULL;
    for (;;) {
        if (strncmp(rel, "./", 2) == 0 || strcmp(rel, ".") == 0) {
            rel += rel[1] ? 2 : 1;
        } else if (strncmp(rel, "../", 3) == 0 || strcmp(rel, "..") == 0) {
            char *slash = strrchr(dir, '/');
            if (slash)
                slash[slash == dir] = '\0'; /* "/a" -> "/", "/a/b" -> "/a" */
            rel += rel[2] ? 3 : 2;
        } else {
            break;
        }
    }
    char *out = NULL;
    size_t dlen = strlen(dir);
    const char *sep = !*rel || (dlen && dir[dlen - 1] == '/') ? "" : "/";
    if (asprintf(&out, "%s%s%s", dir, sep, rel) < 0)
        out = NULL;
    free(dir);
    return out;
}

/* base: the folder relative paths are taken from, or NULL to keep them as given. */
static int parse_path(const char *s, const char *base, value_t *v, char *why, size_t whylen)
{
    if (!base || s[0] == '/')
        return dup_string(s, v, why, whylen);
    if (!(v->s = path_join(base, s)))
        return yamlutil_errorf(why, whylen, "out of memory");
    return 0;
}

/* Parses the text s for key k; 0, or -1 with why (no position: the caller adds it). */
static int value_parse(const config_key_t *k, const char *s, const char *base, value_t *v,
                       char *why, size_t whylen)
{
    if (*s == '\0')
        return yamlutil_errorf(why, whylen, "missing value");
    switch (k->type) {
    case KT_STRING:
        return dup_string(s, v, why, whylen);
    case KT_PATH:
        return parse_path(s, base, v, why, whylen);
    case KT_SIZE64:
        return parse_size(s, UINT64_MAX, v, why, whylen);
    case KT_SIZE32:
        return parse_size(s, UINT32_MAX, v, why, whylen);
    case KT_COUNT:
        return parse_count(s, v, why, whylen);
    case KT_BOOL:
        return parse_bool(s, v, why, whylen);
    case KT_LEVEL:
        return parse_level(s, v, why, whylen);
    }
    return yamlutil_errorf(why, whylen, "unhandled key type");
}

static void value_store(config_t *self, const config_key_t *k, value_t v)
{
    void *f = field(self, k);
    if (key_is_string(k)) {
        free(*(char **)f);
        *(char **)f = v.s;
    } else if (k->type == KT_SIZE64) {
        *(uint64_t *)f = v.u;
    } else if (k->type == KT_BOOL) {
        *(bool *)f = v.b;
    } else {
        *(uint32_t *)f = (uint32_t)v.u;
    }
}

/* ---- life cycle ---- */

config_t *config_new(void)
{
    config_t *self = calloc(1, sizeof *self);
    if (!self || !(self->source = strdup(CONFIG_SOURCE_DEFAULT))) {
        free(self);
        return NULL;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        value_t v;
        char why[256];
        /* Fails only when out of memory, or for a bad default, which the unit tests catch. */
        if (value_parse(&keys[i], keys[i].dflt, NULL, &v, why, sizeof why) < 0) {
            config_destroy(&self);
            return NULL;
        }
        value_store(self, &keys[i], v);
    }
    return self;
}

void config_destroy(config_t **self_p)
{
    config_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        if (key_is_string(&keys[i]))
            free(*(char **)field(self, &keys[i]));
    free(self->source);
    free(self);
    *self_p = NULL;
}

config_t *config_dup(const config_t *self)
{
    config_t *copy = malloc(sizeof *copy);
    if (!copy)
        return NULL;
    *copy = *self;
    /* First forget the borrowed strings, so a failure half-way frees only our own. */
    copy->source = NULL;
    for (size_t i = 0; i < NKEYS; i++)
        if (key_is_string(&keys[i]))
            *(char **)field(copy, &keys[i]) = NULL;
    bool ok = (copy->source = strdup(self->source)) != NULL;
    for (size_t i = 0; ok && i < NKEYS; i++) {
        if (!key_is_string(&keys[i]))
            continue;
        char **dst = field(copy, &keys[i]);
        ok = (*dst = strdup(*(char **)field(self, &keys[i]))) != NULL;
    }
    if (!ok)
        config_destroy(&copy);
    return copy;
}

/* ---- the file ---- */

typedef struct {
    yamlutil_ctx_t cx; /* no label; path as given */
    config_t *cfg;     /* the copy being loaded into */
    char *base;        /* the file's folder, absolute */
} loader_t;

static int load_value(loader_t *ld, const config_key_t *k, struct fy_node *node)
{
    size_t len;
    if (!yamlutil_scalar(node, &len))
        return yamlutil_error(&ld->cx, node, "%s: expected a single value, got %s", k->name,
                              yamlutil_kind(node));
    if (yamlutil_is_null(node))
        return yamlutil_error(&ld->cx, node, "%s: missing value", k->name);
    const char *bad;
    char *text = yamlutil_strdup(node, &bad);
    if (!text)
        return yamlutil_error(&ld->cx, node, "%s: %s", k->name, bad);
    value_t v;
    char why[256];
    int rc = value_parse(k, text, ld->base, &v, why, sizeof why);
    free(text);
    if (rc < 0)
        return yamlutil_error(&ld->cx, node, "%s: %s", k->name, why);
    value_store(ld->cfg, k, v);
    return 0;
}

static int load_unknown(loader_t *ld, struct fy_node *key, const char *name)
{
    char buf[96];
    return yamlutil_error(&ld->cx, key, "unknown key '%s'%s", name,
                          key_hint(name, buf, sizeof buf));
}

static int load_mapping(loader_t *ld, struct fy_node *map, const char *prefix);

static int load_pair(loader_t *ld, struct fy_node *key, struct fy_node *value, const char *prefix)
{
    size_t len;
    const char *text = yamlutil_scalar(key, &len);
    if (!text)
        return yamlutil_error(&ld->cx, key, "a key must be a single value, got %s",
                              yamlutil_kind(key));
    char name[128];
    int n = snprintf(name, sizeof name, "%s%s%.*s", prefix, *prefix ? "." : "", (int)len, text);
    if (n < 0 || (size_t)n >= sizeof name || memchr(text, '\0', len))
        return yamlutil_error(&ld->cx, key, "unknown key");
    /* Dotted names are for --set; in a file one spelling per key keeps duplicates visible. */
    if (memchr(text, '.', len))
        return yamlutil_error(&ld->cx, key,
                              "unknown key '%s' (in a file, nest sections instead of dots)", name);
    const config_key_t *k = key_find(name, strlen(name));
    if (k)
        return load_value(ld, k, value);
    if (section_first(name, strlen(name)))
        return yamlutil_is_null(value) ? 0 : load_mapping(ld, value, name);
    return load_unknown(ld, key, name);
}

static int load_mapping(loader_t *ld, struct fy_node *map, const char *prefix)
{
    if (!yamlutil_is_mapping(map)) {
        if (*prefix)
            return yamlutil_error(&ld->cx, map, "%s: expected a mapping of keys, got %s", prefix,
                                  yamlutil_kind(map));
        return yamlutil_error(&ld->cx, map, "expected a mapping of keys at the top level, got %s",
                              yamlutil_kind(map));
    }
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL)
        if (load_pair(ld, fy_node_pair_key(pair), fy_node_pair_value(pair), prefix) < 0)
            return -1;
    return 0;
}

/* The absolute folder of path, or NULL with errno set. */
static char *folder_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *slash = strrchr(copy, '/');
    const char *dir = copy;
    if (!slash)
        dir = ".";
    else if (slash == copy)
        dir = "/";
    else
        *slash = '\0';
    char *abs = realpath(dir, NULL);
    free(copy);
    return abs;
}

/* Moves the loaded copy into self; the copy is left holding the old values. */
static void swap_in(config_t *self, config_t *loaded, char **source)
{
    config_t old = *self;
    *self = *loaded;
    *loaded = old;
    free(self->source);
    self->source = *source;
    *source = NULL;
}

int config_load_file(config_t *self, const char *path, char *err, size_t errlen)
{
    yamlutil_t *yaml = yamlutil_load(path, err, errlen);
    if (!yaml)
        return -1;
    loader_t ld = {.cx = {.path = path, .err = err, .errlen = errlen}};
    char *source = strdup(path);
    ld.base = folder_of(path);
    int rc = -1;
    if (!ld.base)
        snprintf(err, errlen, "%s: cannot resolve its folder: %s", path, strerror(errno));
    else if (!source || !(ld.cfg = config_dup(self)))
        snprintf(err, errlen, "%s: out of memory", path);
    else if (!yamlutil_root(yaml)) /* empty, or only comments: nothing to change */
        rc = 0;
    else
        rc = load_mapping(&ld, yamlutil_root(yaml), "");
    if (rc == 0)
        swap_in(self, ld.cfg, &source);
    config_destroy(&ld.cfg);
    free(ld.base);
    free(source);
    yamlutil_destroy(&yaml);
    return rc;
}

/* ---- --set ---- */

int config_set(config_t *self, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return yamlutil_errorf(err, errlen, "--set %s: expected KEY=VALUE", assignment);
    size_t len = (size_t)(eq - assignment);
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)len, assignment);
    const config_key_t *k = key_find(assignment, len);
    if (!k) {
        const config_key_t *first = section_first(assignment, len);
        char buf[96];
        if (first)
            return yamlutil_errorf(
                err, errlen, "--set %s: a section, not a key; set its keys one by one, e.g. %s",
                name, first->name);
        return yamlutil_errorf(err, errlen, "--set %s: unknown key%s", name,
                               key_hint(name, buf, sizeof buf));
    }
    value_t v;
    char why[256];
    if (value_parse(k, eq + 1, NULL, &v, why, sizeof why) < 0)
        return yamlutil_errorf(err, errlen, "--set %s: %s", k->name, why);
    value_store(self, k, v);
    return 0;
}

/* ---- checks and output ---- */

/* "64MiB": the largest unit that divides n exactly, the form a file would use. */
static const char *size_text(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
    for (size_t i = 0; i < 4 && n; i++) {
        unsigned shift = 40 - 10 * (unsigned)i;
        if (n % (1ull << shift) == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(n >> shift), units[i]);
            return buf;
        }
    }
    snprintf(buf, len, "%llu", (unsigned long long)n);
    return buf;
}

/* "tcp://host:*" and "tcp://host:0" let the kernel choose a fresh port for each endpoint,
 * so several may be written the same (the end-to-end harness binds all four so). */
static bool ephemeral_port(const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    return colon && (strcmp(colon, ":*") == 0 || strcmp(colon, ":0") == 0);
}

static int check_zmq_endpoints(const config_t *self, char *err, size_t errlen)
{
    const char *names[] = {"ingest", "publish", "tasks", "alerts"};
    const char *vals[] = {self->endpoints.ingest, self->endpoints.publish, self->endpoints.tasks,
                          self->endpoints.alerts};
    for (size_t i = 0; i < 4; i++) {
        if (!vals[i] || !strstr(vals[i], "://"))
            return yamlutil_errorf(err, errlen,
                                   "endpoints.%s: '%s' is not a ZeroMQ endpoint "
                                   "(TRANSPORT://ADDRESS, e.g. tcp://127.0.0.1:7401)",
                                   names[i], vals[i] ? vals[i] : "");
        for (size_t j = 0; j < i && !ephemeral_port(vals[i]); j++)
            if (strcmp(vals[i], vals[j]) == 0)
                return yamlutil_errorf(err, errlen, "endpoints.%s and endpoints.%s are both '%s'",
                                       names[j], names[i], vals[i]);
    }
    return 0;
}

static int check_http(const char *http, char *err, size_t errlen)
{
    const char *colon = http ? strrchr(http, ':') : NULL;
    uint64_t port = 0;
    const char *end = NULL;
    if (!colon || colon == http || parse_digits(colon + 1, &port, &end) < 0 || *end || port > 65535)
        return yamlutil_errorf(err, errlen,
                               "endpoints.http: '%s' is not HOST:PORT (e.g. 127.0.0.1:7480)",
                               http ? http : "");
    return 0;
}

static int check_store(const config_t *self, char *err, size_t errlen)
{
    char a[32], b[32];
    if (self->store.map_size < MAP_SIZE_MIN)
        return yamlutil_errorf(err, errlen, "store.map_size (%s) is below the minimum of %s",
                               size_text(self->store.map_size, a, sizeof a),
                               size_text(MAP_SIZE_MIN, b, sizeof b));
    if (self->store.map_size > self->store.map_size_max)
        return yamlutil_errorf(err, errlen,
                               "store.map_size (%s) is larger than store.map_size_max (%s)",
                               size_text(self->store.map_size, a, sizeof a),
                               size_text(self->store.map_size_max, b, sizeof b));
    if (self->store.dead_letter_max < 1)
        return yamlutil_errorf(err, errlen, "store.dead_letter_max must be at least 1");
    return 0;
}

/* The longest heartbeat time: an hour, below ZeroMQ's TTL limit (16 bits of 0.1 s). */
#define HEARTBEAT_MS_MAX 3600000u

static int check_heartbeat(const config_t *self, char *err, size_t errlen)
{
    uint32_t ivl = self->limits.heartbeat_ivl_ms, timeout = self->limits.heartbeat_timeout_ms;
    if (ivl > HEARTBEAT_MS_MAX || timeout > HEARTBEAT_MS_MAX)
        return yamlutil_errorf(err, errlen, "limits.heartbeat_*_ms: at most %u (one hour)",
                               HEARTBEAT_MS_MAX);
    if (ivl && timeout < ivl)
        return yamlutil_errorf(
            err, errlen, "limits.heartbeat_timeout_ms (%u) is below limits.heartbeat_ivl_ms (%u)",
            timeout, ivl);
    return 0;
}

static int check_limits(const config_t *self, char *err, size_t errlen)
{
    char a[32], b[32];
    if (self->limits.max_message < MAX_MESSAGE_MIN)
        return yamlutil_errorf(err, errlen, "limits.max_message (%u) is below the minimum of %u",
                               self->limits.max_message, MAX_MESSAGE_MIN);
    if (self->limits.max_message > self->limits.max_frame)
        return yamlutil_errorf(err, errlen,
                               "limits.max_message (%s) is larger than limits.max_frame (%s)",
                               size_text(self->limits.max_message, a, sizeof a),
                               size_text(self->limits.max_frame, b, sizeof b));
    if (self->limits.batch_max < 1)
        return yamlutil_errorf(err, errlen, "limits.batch_max must be at least 1");
    if (self->limits.read_budget < 1)
        return yamlutil_errorf(err, errlen, "limits.read_budget must be at least 1");
    if (self->limits.inflight_max < 1)
        return yamlutil_errorf(err, errlen, "limits.inflight_max must be at least 1");
    return check_heartbeat(self, err, errlen);
}

static int check_strings(const config_t *self, char *err, size_t errlen)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const char *s = key_is_string(&keys[i]) ? *(char **)field(self, &keys[i]) : "x";
        if (!s || !*s)
            return yamlutil_errorf(err, errlen, "%s: missing value", keys[i].name);
    }
    value_t v;
    char why[128];
    if (parse_level(self->log.level, &v, why, sizeof why) < 0)
        return yamlutil_errorf(err, errlen, "log.level: %s", why);
    free(v.s);
    return 0;
}

int config_validate(const config_t *self, char *err, size_t errlen)
{
    if (check_strings(self, err, errlen) < 0 || check_zmq_endpoints(self, err, errlen) < 0 ||
        check_http(self->endpoints.http, err, errlen) < 0 || check_store(self, err, errlen) < 0 ||
        check_limits(self, err, errlen) < 0)
        return -1;
    return 0;
}

/* A YAML double-quoted scalar: always safe, whatever the text holds. */
static void print_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void print_value(FILE *out, const config_t *self, const config_key_t *k)
{
    const void *f = field(self, k);
    char buf[32];
    if (key_is_string(k))
        print_quoted(out, *(char *const *)f ? *(char *const *)f : "");
    else if (k->type == KT_SIZE64)
        fputs(size_text(*(const uint64_t *)f, buf, sizeof buf), out);
    else if (k->type == KT_SIZE32)
        fputs(size_text(*(const uint32_t *)f, buf, sizeof buf), out);
    else if (k->type == KT_BOOL)
        fputs(*(const bool *)f ? "true" : "false", out);
    else
        fprintf(out, "%u", *(const uint32_t *)f);
}

void config_print(const config_t *self, FILE *out)
{
    fputs("# gridbusd configuration in effect; source: ", out);
    fputs(self->source ? self->source : "?", out);
    fputc('\n', out);
    const char *section = "";
    size_t seclen = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const char *name = keys[i].name, *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : 0;
        if (len != seclen || strncmp(name, section, len) != 0) {
            if (len)
                fprintf(out, "%.*s:\n", (int)len, name);
            section = name;
            seclen = len;
        }
        fprintf(out, "%s%s: ", len ? "  " : "", dot ? dot + 1 : name);
        print_value(out, self, &keys[i]);
        fprintf(out, "  # %s\n", keys[i].help);
    }
}

size_t config_key_count(void)
{
    return NKEYS;
}

const char *config_key_name(size_t index)
{
    return index < NKEYS ? keys[index].name : NULL;
}
