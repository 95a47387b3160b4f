/*
 * promtext: a strict parser of the Prometheus text format (see promtext.h for what it
 * checks and where it is stricter than Prometheus).
 *
 * Lines are parsed one by one into samples (name, labels but le sorted into a key, le,
 * value) and families (name, type, HELP seen, group closed); the checks that need a whole
 * family (counters, histogram buckets) run once every line is read.
 */
#include "promtext.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_SAMPLES 1024
#define PROM_FAMILIES 256

typedef struct {
    char name[128], key[512], le[64]; /* key: the labels but le, sorted */
    bool has_le;
    double value;
    int family;
} prom_sample_t;

typedef struct {
    char name[128], type[16];
    bool help, closed;
} prom_family_t;

struct promtext {
    prom_sample_t s[PROM_SAMPLES];
    size_t n;
    prom_family_t f[PROM_FAMILIES];
    size_t nf;
    int current;
    char why[300];
};

static int prom_fail(promtext_t *p, const char *line, const char *what)
{
    snprintf(p->why, sizeof p->why, "%s: %.200s", what, line);
    return -1;
}

static size_t name_len(const char *s, bool metric)
{
    size_t n = 0;
    while (s[n] && (isalpha((unsigned char)s[n]) || s[n] == '_' || (metric && s[n] == ':') ||
                    (n > 0 && isdigit((unsigned char)s[n]))))
        n++;
    return n;
}

static bool prom_float(const char *s, double *v)
{
    if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf")) {
        *v = s[0] == 'N' ? NAN : s[0] == '+' ? INFINITY : -INFINITY;
        return true;
    }
    const char *p = s + (*s == '+' || *s == '-');
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        digits += frac, p += 1 + frac;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        size_t exp = strspn(p, "0123456789");
        if (!exp)
            return false;
        p += exp;
    }
    *v = strtod(s, NULL);
    return *p == '\0';
}

typedef struct {
    char name[64], value[256];
} prom_label_t;

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const prom_label_t *)a)->name, ((const prom_label_t *)b)->name);
}

/* Parses {a="b",...} at *c into labels; fills key (sorted, le apart) and le. */
static int parse_labels(promtext_t *p, const char *line, const char **c, prom_sample_t *s)
{
    prom_label_t l[16];
    size_t n = 0;
    for ((*c)++; **c != '}'; n++) {
        size_t k = name_len(*c, false), o = 0;
        if (n == 16 || !k || k >= sizeof l[n].name || (*c)[k] != '=' || (*c)[k + 1] != '"')
            return prom_fail(p, line, "bad label");
        if (k >= 2 && (*c)[0] == '_' && (*c)[1] == '_')
            return prom_fail(p, line, "reserved label name");
        snprintf(l[n].name, sizeof l[n].name, "%.*s", (int)k, *c);
        for (*c += k + 2; **c != '"'; (*c)++) {
            if (!**c || o + 2 >= sizeof l[n].value)
                return prom_fail(p, line, "unterminated label value");
            if (**c == '\\' && !strchr("\\\"n", (*c)[1]))
                return prom_fail(p, line, "bad escape in label value");
            if (**c == '\\')
                l[n].value[o++] = *(*c)++;
            l[n].value[o++] = **c;
        }
        l[n].value[o] = '\0';
        (*c)++;
        if (**c == ',')
            (*c)++;
        else if (**c != '}')
            return prom_fail(p, line, "expected , or } after a label");
        for (size_t i = 0; i < n; i++)
            if (!strcmp(l[i].name, l[n].name))
                return prom_fail(p, line, "duplicate label name");
    }
    (*c)++;
    qsort(l, n, sizeof l[0], label_cmp);
    for (size_t i = 0, o = 0; i < n; i++) {
        if (!strcmp(l[i].name, "le")) {
            s->has_le = true;
            snprintf(s->le, sizeof s->le, "%s", l[i].value);
        } else {
            o += (size_t)snprintf(s->key + o, sizeof s->key - o, "%s%s=\"%s\"", o ? "," : "",
                                  l[i].name, l[i].value);
        }
    }
    return 0;
}

static int family_find(const promtext_t *p, const char *name)
{
    for (size_t i = 0; i < p->nf; i++)
        if (!strcmp(p->f[i].name, name))
            return (int)i;
    return -1;
}

/* Makes family i the current group: a family never comes back once another began. */
static int family_enter(promtext_t *p, const char *line, int i)
{
    if (i == p->current)
        return 0;
    if (p->f[i].closed)
        return prom_fail(p, line, "family not in one group");
    if (p->current >= 0)
        p->f[p->current].closed = true;
    p->current = i;
    return 0;
}

/* The family of a sample name: its own TYPE, or a histogram's _bucket, _sum, _count. */
static int sample_family(const promtext_t *p, const char *name)
{
    int i = family_find(p, name);
    if (i >= 0 && strcmp(p->f[i].type, "histogram") && strcmp(p->f[i].type, "summary"))
        return i;
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(name), m = strlen(sfx[k]);
        char base[128];
        if (n <= m || strcmp(name + n - m, sfx[k]))
            continue;
        snprintf(base, sizeof base, "%.*s", (int)(n - m), name);
        i = family_find(p, base);
        if (i >= 0 &&
            (!strcmp(p->f[i].type, "histogram") || (k > 0 && !strcmp(p->f[i].type, "summary"))))
            return i;
    }
    return -1;
}

static int parse_comment(promtext_t *p, const char *line)
{
    bool help = !strncmp(line, "# HELP ", 7), type = !strncmp(line, "# TYPE ", 7);
    if (!help && !type)
        return 0; /* a plain comment */
    const char *c = line + 7;
    size_t n = name_len(c, true);
    if (!n || n >= 128 || (c[n] != ' ' && (type || c[n] != '\0')))
        return prom_fail(p, line, "bad HELP/TYPE line");
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)n, c);
    int i = family_find(p, name);
    if (i < 0) {
        if (p->nf == PROM_FAMILIES)
            return prom_fail(p, line, "too many families");
        i = (int)p->nf++;
        snprintf(p->f[i].name, sizeof p->f[i].name, "%s", name);
    }
    if (family_enter(p, line, i) < 0)
        return -1;
    const char *rest = c[n] ? c + n + 1 : "";
    if (help) {
        for (const char *q = rest; *q; q++)
            if (*q == '\\' && q[1] != '\\' && q[1] != 'n')
                return prom_fail(p, line, "bad escape in HELP");
            else if (*q == '\\')
                q++;
        if (p->f[i].help)
            return prom_fail(p, line, "second HELP");
        p->f[i].help = true;
        return 0;
    }
    static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
    bool known = false;
    for (size_t k = 0; k < 5; k++)
        known = known || !strcmp(rest, types[k]);
    if (!known || p->f[i].type[0])
        return prom_fail(p, line, known ? "second TYPE" : "unknown TYPE");
    for (size_t k = 0; k < p->n; k++)
        if (p->s[k].family == i)
            return prom_fail(p, line, "TYPE after a sample");
    snprintf(p->f[i].type, sizeof p->f[i].type, "%s", rest);
    return 0;
}

static int parse_sample(promtext_t *p, const char *line)
{
    const char *c = line;
    size_t n = name_len(c, true);
    if (p->n == PROM_SAMPLES)
        return prom_fail(p, line, "too many samples");
    prom_sample_t *s = &p->s[p->n];
    memset(s, 0, sizeof *s);
    if (!n || n >= sizeof s->name)
        return prom_fail(p, line, "bad metric name");
    snprintf(s->name, sizeof s->name, "%.*s", (int)n, c);
    c += n;
    if (*c == '{' && parse_labels(p, line, &c, s) < 0)
        return -1;
    if (*c != ' ')
        return prom_fail(p, line, "expected a space before the value");
    c += strspn(c, " ");
    char value[64];
    size_t vlen = strcspn(c, " ");
    snprintf(value, sizeof value, "%.*s", (int)vlen, c);
    if (!prom_float(value, &s->value))
        return prom_fail(p, line, "bad value");
    c += vlen;
    if (*c) { /* a timestamp: an integer of ms */
        c += strspn(c, " ");
        const char *t = c + (*c == '-');
        size_t digits = strspn(t, "0123456789");
        if (!digits || t[digits])
            return prom_fail(p, line, "bad timestamp");
    }
    int own = family_find(p, s->name);
    if (own >= 0 && !strcmp(p->f[own].type, "histogram"))
        return prom_fail(p, line, "a histogram has only _bucket, _sum and _count");
    s->family = sample_family(p, s->name);
    if (s->family < 0 || !p->f[s->family].help || !p->f[s->family].type[0])
        return prom_fail(p, line, "sample without HELP and TYPE before it");
    for (size_t k = 0; k < p->n; k++)
        if (!strcmp(p->s[k].name, s->name) && !strcmp(p->s[k].key, s->key) &&
            !strcmp(p->s[k].le, s->le))
            return prom_fail(p, line, "duplicate series");
    p->n++;
    return family_enter(p, line, s->family);
}

static int check_counter(promtext_t *p, const prom_family_t *f, const prom_sample_t *s)
{
    size_t n = strlen(f->name);
    if (n < 6 || strcmp(f->name + n - 6, "_total"))
        return prom_fail(p, f->name, "a counter's name must end in _total");
    if (isnan(s->value) || s->value < 0)
        return prom_fail(p, s->name, "a counter must be >= 0");
    return 0;
}

/* Buckets of one label set: le increasing, counts cumulative, +Inf last, = _count. */
static int check_histogram(promtext_t *p, int fam, const char *key)
{
    char bucket[140], count[140], sum[140];
    double last_le = -INFINITY, last = 0, count_v = NAN;
    bool inf = false, has_sum = false;
    snprintf(bucket, sizeof bucket, "%s_bucket", p->f[fam].name);
    snprintf(count, sizeof count, "%s_count", p->f[fam].name);
    snprintf(sum, sizeof sum, "%s_sum", p->f[fam].name);
    for (size_t k = 0; k < p->n; k++) {
        const prom_sample_t *s = &p->s[k];
        double le;
        if (s->family != fam || strcmp(s->key, key))
            continue;
        if (!strcmp(s->name, count))
            count_v = s->value;
        has_sum = has_sum || !strcmp(s->name, sum);
        if (strcmp(s->name, bucket))
            continue;
        if (!s->has_le || !prom_float(s->le, &le) || le <= last_le || inf)
            return prom_fail(p, s->name, "buckets need increasing le values, +Inf last");
        if (s->value < last)
            return prom_fail(p, s->name, "buckets are not cumulative");
        last_le = le, last = s->value, inf = isinf(le) && le > 0;
    }
    if (!inf || !has_sum || count_v != last)
        return prom_fail(p, p->f[fam].name, "no +Inf bucket, no _sum, or _count != +Inf bucket");
    return 0;
}

static int check_families(promtext_t *p)
{
    for (size_t k = 0; k < p->n; k++) {
        prom_sample_t *s = &p->s[k];
        const prom_family_t *f = &p->f[s->family];
        if (!strcmp(f->type, "counter") && check_counter(p, f, s) < 0)
            return -1;
        if (strcmp(f->type, "histogram"))
            continue;
        if (!strcmp(s->name, f->name) || (s->has_le && strstr(s->name, "_bucket") == NULL))
            return prom_fail(p, s->name, "a histogram has only _bucket, _sum and _count");
        if (check_histogram(p, s->family, s->key) < 0)
            return -1;
    }
    return 0;
}

/* Parses text strictly into p; 0, or -1 with p->why. */
static int parse_all(promtext_t *p, const char *text)
{
    p->current = -1;
    size_t len = strlen(text);
    if (!len || text[len - 1] != '\n' || strchr(text, '\r'))
        return prom_fail(p, "", "text must be lines ending in \\n, without \\r");
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        char buf[1024];
        if (n >= sizeof buf)
            return prom_fail(p, line, "line too long");
        snprintf(buf, sizeof buf, "%.*s", (int)n, line);
        int rc = !buf[0] ? 0 : buf[0] == '#' ? parse_comment(p, buf) : parse_sample(p, buf);
        if (rc < 0)
            return -1;
        line += n + 1;
    }
    return check_families(p);
}

promtext_t *promtext_parse(const char *text, char *why, size_t whylen)
{
    promtext_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (parse_all(p, text) < 0) {
        snprintf(why, whylen, "%s", p->why);
        promtext_free(&p);
    }
    return p;
}

void promtext_free(promtext_t **p_p)
{
    free(*p_p);
    *p_p = NULL;
}

double promtext_get(const promtext_t *p, const char *name, const char *labels)
{
    promtext_t *scratch = calloc(1, sizeof *scratch);
    char line[600];
    const char *c = line;
    double v = NAN;
    snprintf(line, sizeof line, "{%s}", labels);
    if (!scratch || parse_labels(scratch, line, &c, &scratch->s[0]) < 0) {
        free(scratch);
        return NAN;
    }
    for (size_t k = 0; k < p->n; k++)
        if (!strcmp(p->s[k].name, name) && !strcmp(p->s[k].key, scratch->s[0].key) &&
            !strcmp(p->s[k].le, scratch->s[0].le))
            v = p->s[k].value;
    free(scratch);
    return v;
}
