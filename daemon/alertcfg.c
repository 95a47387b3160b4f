/*
 * alertcfg: loading the `alerts:` block (alertcfg.h).
 */
#include "alertcfg.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlutil.h"

#include "match.h"

#define DEFAULT_ACK_MS (2 * 3600 * 1000LL)
#define MAX_ACK_MS (30LL * 86400 * 1000)

struct alertcfg {
    int cutoff;
    int review_day; /* 1..31, the last day of a month the joint review covers; 0: month end */
    const char *levels[ALERT_LEVELS_MAX];
    size_t nlevels;
    alert_rule_t *rules;
    size_t nrules;
};

static const char *const check_names[ALERT_CHECK_COUNT] = {"match",
                                                           "task_deadline",
                                                           "ledger_approvals",
                                                           "ledger_self_approval",
                                                           "ledger_duplicate",
                                                           "ledger_overdue",
                                                           "visit_quota"};
static const char *const severities[] = {"low", "medium", "high", NULL};
static const char *const subjects[] = {"grid", "by", "event", NULL};

typedef struct {
    const char *file;
    const directory_t *dir;
    char *err;
    size_t errlen;
    alertcfg_t *self;
    char label[96];
} loader_t;

typedef struct {
    const char *name;
    struct fy_node *node;
} field_t;

__attribute__((format(printf, 3, 4))) static int fail(loader_t *ld, struct fy_node *node,
                                                      const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return yamlutil_fail(ld->file, node, ld->err, ld->errlen, "%s: %s", ld->label, msg);
}

static bool text_is(const char *text, size_t len, const char *want)
{
    return text && strlen(want) == len && memcmp(text, want, len) == 0;
}

static int get_fields(loader_t *ld, struct fy_node *map, field_t *fields, size_t n)
{
    if (!map || fy_node_is_alias(map) || !fy_node_is_mapping(map))
        return fail(ld, map, "expected a mapping, got %s", yamlutil_kind(map));
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        struct fy_node *key = fy_node_pair_key(pair);
        size_t len, i;
        const char *text = yamlutil_scalar(key, &len);
        for (i = 0; text && i < n; i++)
            if (text_is(text, len, fields[i].name))
                break;
        if (!text || i == n) {
            char word[64];
            snprintf(word, sizeof word, "%.*s", text ? (int)(len < 63 ? len : 63) : 0,
                     text ? text : "");
            const char *best = yamlutil_suggest(word, &fields[0].name, n, sizeof fields[0]);
            return fail(ld, key, "unknown key '%s'%s%s%s", word, best ? " (did you mean '" : "",
                        best ? best : "", best ? "'?)" : "");
        }
        fields[i].node = fy_node_pair_value(pair);
    }
    return 0;
}

/* The index of the node's text in a NULL-terminated list, or -1 after failing. */
static int get_enum(loader_t *ld, struct fy_node *node, const char *what, const char *const *names)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    for (int i = 0; text && names[i]; i++)
        if (text_is(text, len, names[i]))
            return i;
    char list[200] = "";
    for (int i = 0; names[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    return fail(ld, node, "%s: must be one of %s", what, list);
}

static int get_uint(loader_t *ld, struct fy_node *node, const char *what, int64_t max, int64_t *out)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    int64_t n = 0;
    bool ok = text && len > 0 && len < 19;
    for (size_t i = 0; ok && i < len; i++)
        ok = text[i] >= '0' && text[i] <= '9', n = n * 10 + (text[i] - '0');
    if (!ok || n > max)
        return fail(ld, node, "%s: expected a whole number from 0 to %lld", what, (long long)max);
    *out = n;
    return 0;
}

static const char *get_role(loader_t *ld, struct fy_node *node, const char *what)
{
    size_t n, len;
    const char *const *roles = directory_roles(&n);
    const char *text = yamlutil_scalar(node, &len);
    for (size_t i = 0; text && i < n; i++)
        if (text_is(text, len, roles[i]))
            return roles[i];
    fail(ld, node, "%s: unknown role '%.*s'", what, text ? (int)len : 0, text ? text : "");
    return NULL;
}

/* "2h", "90m", "1d" (24 hours), "1h30m": wall-clock time, not working time, because a
 * clue of a violation does not wait for Monday. */
static int get_wall_duration(loader_t *ld, struct fy_node *node, const char *what, int64_t *ms)
{
    size_t len, i = 0;
    const char *text = yamlutil_scalar(node, &len);
    static const char units[] = "dhm";
    static const int64_t unit_ms[] = {86400000, 3600000, 60000};
    int next = 0;
    *ms = 0;
    while (text && i < len) {
        int64_t n = 0;
        size_t start = i;
        while (i < len && text[i] >= '0' && text[i] <= '9' && i - start < 6)
            n = n * 10 + (text[i++] - '0');
        const char *u = i < len && i > start ? strchr(units + next, text[i]) : NULL;
        if (!u || !*u)
            break;
        *ms += n * unit_ms[u - units], next = (int)(u - units) + 1, i++;
    }
    if (!text || i != len || len == 0 || *ms <= 0 || *ms > MAX_ACK_MS)
        return fail(ld, node, "%s: expected a duration such as 2h, 90m, 1d or 1h30m (at most 30d)",
                    what);
    return 0;
}

static int load_cutoff(loader_t *ld, struct fy_node *node)
{
    size_t len;
    const char *t = yamlutil_scalar(node, &len);
    bool ok = t && len == 5 && t[2] == ':';
    for (size_t i = 0; ok && i < 5; i++)
        ok = i == 2 || (t[i] >= '0' && t[i] <= '9');
    int h = ok ? (t[0] - '0') * 10 + (t[1] - '0') : 0,
        m = ok ? (t[3] - '0') * 10 + (t[4] - '0') : 0;
    if (!ok || h > 23 || m > 59)
        return fail(ld, node, "cutoff: expected a local time HH:MM, such as \"17:30\"");
    ld->self->cutoff = h * 60 + m;
    return 0;
}

/* The reimbursement day: the joint review (query what=audit) covers a month's ledger up to
 * it, since entries after it are reviewed with the next month. */
static int load_review_day(loader_t *ld, struct fy_node *node)
{
    size_t len;
    const char *t = yamlutil_scalar(node, &len);
    int d = 0;
    for (size_t i = 0; t && i < len && i < 3; i++)
        d = t[i] >= '0' && t[i] <= '9' ? d * 10 + (t[i] - '0') : -1000;
    if (!t || len == 0 || len > 2 || d < 1 || d > 31)
        return fail(ld, node, "review_day: expected a day of the month, 1 to 31");
    ld->self->review_day = d;
    return 0;
}

static int load_levels(loader_t *ld, struct fy_node *node)
{
    alertcfg_t *c = ld->self;
    if (!node || fy_node_is_alias(node) || !fy_node_is_sequence(node) ||
        fy_node_sequence_item_count(node) < 1 ||
        fy_node_sequence_item_count(node) > ALERT_LEVELS_MAX)
        return fail(ld, node, "levels: expected a list of 1 to %d roles, lowest first",
                    ALERT_LEVELS_MAX);
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
        const char *role = get_role(ld, item, "levels");
        if (!role)
            return -1;
        for (size_t i = 0; i < c->nlevels; i++)
            if (c->levels[i] == role)
                return fail(ld, item, "levels: role '%s' listed twice", role);
        c->levels[c->nlevels++] = role;
    }
    return 0;
}

static int load_match(loader_t *ld, alert_rule_t *r, struct fy_node *node)
{
    r->match = match_load(node, ld->file, ld->dir, ld->label, false, ld->err, ld->errlen);
    return r->match ? 0 : -1;
}

enum {
    F_NAME,
    F_SEVERITY,
    F_NOTIFY,
    F_ACK,
    F_MAXESC,
    F_MATCH,
    F_CHECK,
    F_SUBJECT,
    F_THRESHOLD,
    F_MINAPP,
    F_WINDOW,
    F_MINDAYS,
    F_COUNT
};

/* Parameters of the built-ins: which check each belongs to, and its default (-1: required). */
static const struct {
    int field;
    alert_check_t check;
    int64_t def, max;
} params[] = {
    {F_THRESHOLD, ALERT_LEDGER_APPROVALS, -1, INT64_C(1000000000000)},
    {F_MINAPP, ALERT_LEDGER_APPROVALS, 2, 16},
    {F_WINDOW, ALERT_LEDGER_DUPLICATE, 0, 366},
    {F_MINDAYS, ALERT_VISIT_QUOTA, 3, 7},
};

static void set_param(alert_rule_t *r, int field, int64_t v)
{
    if (field == F_THRESHOLD)
        r->threshold_fen = v;
    else if (field == F_MINAPP)
        r->min_approvals = (uint32_t)v;
    else if (field == F_WINDOW)
        r->window_days = (uint32_t)v;
    else
        r->min_days = (uint32_t)v;
}

static int load_params(loader_t *ld, alert_rule_t *r, field_t *f)
{
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        struct fy_node *node = f[params[i].field].node;
        int64_t v = params[i].def;
        if (node && r->check != params[i].check)
            return fail(ld, node, "%s: only for check %s", f[params[i].field].name,
                        check_names[params[i].check]);
        if (node && get_uint(ld, node, f[params[i].field].name, params[i].max, &v) < 0)
            return -1;
        if (r->check == params[i].check && v < 0)
            return fail(ld, f[F_CHECK].node, "check %s needs %s", check_names[r->check],
                        f[params[i].field].name);
        set_param(r, params[i].field, v);
    }
    return 0;
}

static int load_kind(loader_t *ld, alert_rule_t *r, field_t *f, struct fy_node *item)
{
    if (!f[F_MATCH].node == !f[F_CHECK].node)
        return fail(ld, item, "needs exactly one of match: or check:");
    if (f[F_SUBJECT].node && !f[F_MATCH].node)
        return fail(ld, f[F_SUBJECT].node, "subject: only for match rules");
    if (f[F_MATCH].node) {
        int s = f[F_SUBJECT].node ? get_enum(ld, f[F_SUBJECT].node, "subject", subjects) : 0;
        if (s < 0)
            return -1;
        r->check = ALERT_MATCH, r->subject = (alert_subject_t)s;
        return load_params(ld, r, f) < 0 ? -1 : load_match(ld, r, f[F_MATCH].node);
    }
    static const char *const builtins[] = {"task_deadline",
                                           "ledger_approvals",
                                           "ledger_self_approval",
                                           "ledger_duplicate",
                                           "ledger_overdue",
                                           "visit_quota",
                                           NULL};
    int k = get_enum(ld, f[F_CHECK].node, "check", builtins);
    if (k < 0)
        return -1;
    r->check = (alert_check_t)(k + 1);
    return load_params(ld, r, f);
}

static int load_name(loader_t *ld, alert_rule_t *r, struct fy_node *node, struct fy_node *item)
{
    size_t len;
    const char *t = node ? yamlutil_scalar(node, &len) : NULL;
    if (!t || !len || len >= ALERT_NAME_MAX || !event_id_valid(t, len, ALERT_NAME_MAX - 1) ||
        text_is(t, len, "digest"))
        return fail(ld, node ? node : item,
                    "name: required, 1-%d characters of [A-Za-z0-9._:-], not 'digest'",
                    ALERT_NAME_MAX - 1);
    memcpy(r->name, t, len), r->name[len] = 0;
    if (alertcfg_find(ld->self, r->name))
        return fail(ld, node, "name: rule '%s' defined twice", r->name);
    snprintf(ld->label, sizeof ld->label, "alert rule '%s'", r->name);
    return 0;
}

static int load_notify(loader_t *ld, alert_rule_t *r, struct fy_node *node)
{
    alertcfg_t *c = ld->self;
    r->notify = c->levels[0], r->level = 0;
    if (!node)
        return 0;
    const char *role = get_role(ld, node, "notify");
    if (!role)
        return -1;
    for (uint32_t i = 0; i < c->nlevels; i++)
        if (c->levels[i] == role)
            return r->notify = role, r->level = i, 0;
    return fail(ld, node, "notify: '%s' is not one of the levels", role);
}

static int load_rule(loader_t *ld, struct fy_node *item, alert_rule_t *r)
{
    field_t f[F_COUNT] = {
        {"name", NULL},          {"severity", NULL},        {"notify", NULL},
        {"ack_within", NULL},    {"max_escalations", NULL}, {"match", NULL},
        {"check", NULL},         {"subject", NULL},         {"threshold_fen", NULL},
        {"min_approvals", NULL}, {"window_days", NULL},     {"min_days", NULL}};
    if (get_fields(ld, item, f, F_COUNT) < 0 || load_name(ld, r, f[F_NAME].node, item) < 0)
        return -1;
    int sev = f[F_SEVERITY].node ? get_enum(ld, f[F_SEVERITY].node, "severity", severities) : -2;
    if (sev == -2)
        return fail(ld, item, "severity: required, one of low, medium, high");
    if (sev < 0 || load_notify(ld, r, f[F_NOTIFY].node) < 0)
        return -1;
    r->severity = severities[sev];
    r->ack_within = DEFAULT_ACK_MS;
    if (f[F_ACK].node && get_wall_duration(ld, f[F_ACK].node, "ack_within", &r->ack_within) < 0)
        return -1;
    int64_t max = (int64_t)ld->self->nlevels - 1;
    if (f[F_MAXESC].node && get_uint(ld, f[F_MAXESC].node, "max_escalations", 16, &max) < 0)
        return -1;
    r->max_escalations = (uint32_t)max;
    return load_kind(ld, r, f, item);
}

static int load_rules(loader_t *ld, struct fy_node *node)
{
    alertcfg_t *c = ld->self;
    if (!node)
        return 0;
    if (fy_node_is_alias(node) || !fy_node_is_sequence(node))
        return fail(ld, node, "rules: expected a list of rules");
    c->rules = calloc((size_t)fy_node_sequence_item_count(node) + 1, sizeof *c->rules);
    if (!c->rules)
        return fail(ld, node, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
        snprintf(ld->label, sizeof ld->label, "alert rule #%zu", c->nrules + 1);
        if (load_rule(ld, item, &c->rules[c->nrules]) < 0) {
            c->nrules++; /* so destroy frees its matcher */
            return -1;
        }
        c->nrules++;
    }
    return 0;
}

alertcfg_t *alertcfg_load(struct fy_node *node, const char *file, const directory_t *dir, char *err,
                          size_t errlen)
{
    alertcfg_t *c = calloc(1, sizeof *c);
    loader_t ld = {file, dir, err, errlen, c, "alerts"};
    if (!c)
        return snprintf(err, errlen, "out of memory"), NULL;
    c->cutoff = 17 * 60 + 30;
    if (!node)
        return c;
    field_t f[] = {{"cutoff", NULL}, {"levels", NULL}, {"rules", NULL}, {"review_day", NULL}};
    if (get_fields(&ld, node, f, 4) < 0 || (f[0].node && load_cutoff(&ld, f[0].node) < 0) ||
        (f[3].node && load_review_day(&ld, f[3].node) < 0) || load_levels(&ld, f[1].node) < 0 ||
        load_rules(&ld, f[2].node) < 0)
        alertcfg_destroy(&c);
    return c;
}

void alertcfg_destroy(alertcfg_t **self_p)
{
    alertcfg_t *c = self_p ? *self_p : NULL;
    if (!c)
        return;
    for (size_t i = 0; i < c->nrules; i++)
        match_destroy(&c->rules[i].match);
    free(c->rules);
    free(c);
    *self_p = NULL;
}

int alertcfg_cutoff(const alertcfg_t *self)
{
    return self->cutoff;
}

int alertcfg_review_day(const alertcfg_t *self)
{
    return self->review_day;
}

size_t alertcfg_nlevels(const alertcfg_t *self)
{
    return self->nlevels;
}

const char *alertcfg_level(const alertcfg_t *self, size_t i)
{
    return i < self->nlevels ? self->levels[i] : self->levels[self->nlevels - 1];
}

size_t alertcfg_nrules(const alertcfg_t *self)
{
    return self->nrules;
}

const alert_rule_t *alertcfg_rule(const alertcfg_t *self, size_t i)
{
    return i < self->nrules ? &self->rules[i] : NULL;
}

const alert_rule_t *alertcfg_find(const alertcfg_t *self, const char *name)
{
    for (size_t i = 0; i < self->nrules; i++)
        if (strcmp(self->rules[i].name, name) == 0)
            return &self->rules[i];
    return NULL;
}

bool alertcfg_uses(const alertcfg_t *self, alert_check_t check)
{
    for (size_t i = 0; i < self->nrules; i++)
        if (self->rules[i].check == check)
            return true;
    return false;
}

bool alertcfg_supervises(const alertcfg_t *self, const directory_member_t *m)
{
    for (size_t i = 0; m && i < self->nlevels; i++)
        if (directory_member_has_role(m, self->levels[i]))
            return true;
    return false;
}

const char *alertcfg_check_name(alert_check_t check)
{
    return check < ALERT_CHECK_COUNT ? check_names[check] : "?";
}

bool alertcfg_matches(const alert_rule_t *r, const gb_event_t *ev)
{
    return r->check == ALERT_MATCH && r->match && match_event(r->match, ev);
}
