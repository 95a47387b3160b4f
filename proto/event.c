/*
 * event: validates a decoded event against the v1 envelope and its type's body rules
 * (schema.c), and packs events canonically for storage and comparison.
 *
 * The validator stops at the first broken rule and names it, so a field worker's client
 * can show "body.category: must be one of water, electric, ..." instead of a bare
 * refusal. Strings are checked for UTF-8 here, once, so nothing downstream has to.
 */
#include "event.h"

#include <stdlib.h>
#include <string.h>

#define CANON_DEPTH_MAX 16

static bool str_eq(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *event_map_get(const msgpack_object *obj, const char *key)
{
    if (!obj || obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < obj->via.map.size; i++)
        if (str_eq(&obj->via.map.ptr[i].key, key))
            return &obj->via.map.ptr[i].val;
    return NULL;
}

bool event_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p++;
        int more;
        unsigned min, cp;
        if (c < 0x80)
            continue;
        if (c >= 0xc2 && c <= 0xdf)
            more = 1, min = 0x80, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            more = 2, min = 0x800, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            more = 3, min = 0x10000, cp = c & 0x07;
        else
            return false;
        if (end - p < more)
            return false;
        while (more--) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*p++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
    }
    return true;
}

bool event_id_valid(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Reads a msgpack integer into *out; false for any other type or an unsigned above
 * INT64_MAX. */
static bool as_int(const msgpack_object *o, int64_t *out)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return true;
    }
    return false;
}

/* Where a rule applies, as "body.approved_by[1]": formatted only when a rule is broken,
 * because building the name of every field checked is a good part of validating it. */
typedef struct {
    const char *prefix, *name;
    int64_t index; /* array item, or -1 */
} path_t;

static const char *path_text(const path_t *p, char *buf)
{
    if (p->index < 0)
        snprintf(buf, 96, "%s%s", p->prefix, p->name);
    else
        snprintf(buf, 96, "%s%s[%lld]", p->prefix, p->name, (long long)p->index);
    return buf;
}

#define PT(p) path_text((p), (char[96]){0})
#define ENVELOPE(name) (&(const path_t){"", name, -1})

static int check_str(const msgpack_object *o, const path_t *path, int64_t min, int64_t max,
                     gb_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be a string", PT(path));
    if ((int64_t)o->via.str.size < min || (int64_t)o->via.str.size > max)
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be %lld to %lld bytes (got %u)", PT(path),
                            (long long)min, (long long)max, o->via.str.size);
    if (!event_utf8_valid(o->via.str.ptr, o->via.str.size))
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be valid UTF-8", PT(path));
    return 0;
}

static int check_id(const msgpack_object *o, const path_t *path, int64_t max, gb_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be a string", PT(path));
    if (!event_id_valid(o->via.str.ptr, o->via.str.size, (size_t)max))
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be 1 to %lld characters of [A-Za-z0-9._:-]",
                            PT(path), (long long)max);
    return 0;
}

static int check_int(const msgpack_object *o, const path_t *path, int64_t min, int64_t max,
                     gb_error_t *err)
{
    int64_t v;
    if (!as_int(o, &v))
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be an integer", PT(path));
    if (v < min)
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be an integer >= %lld", PT(path),
                            (long long)min);
    if (v > max)
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be an integer <= %lld", PT(path),
                            (long long)max);
    return 0;
}

static int check_enum(const msgpack_object *o, const path_t *path, const char *const *values,
                      gb_error_t *err)
{
    if (o->type == MSGPACK_OBJECT_STR)
        for (const char *const *v = values; *v; v++)
            if (str_eq(o, *v))
                return 0;
    char list[120] = "";
    size_t used = 0;
    for (const char *const *v = values; *v && used < sizeof list; v++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", v == values ? "" : ", ", *v);
    return gb_error_set(err, GB_E_SCHEMA, "%s: must be one of %s", PT(path), list);
}

static int check_array(const msgpack_object *o, const path_t *path, const schema_field_t *f,
                       gb_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be an array", PT(path));
    if ((int64_t)o->via.array.size > f->max)
        return gb_error_set(err, GB_E_SCHEMA, "%s: at most %lld items (got %u)", PT(path),
                            (long long)f->max, o->via.array.size);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        path_t item = {path->prefix, path->name, (int64_t)i};
        int rc = f->kind == SCHEMA_ID_ARRAY
                     ? check_id(&o->via.array.ptr[i], &item, f->item_max, err)
                     : check_str(&o->via.array.ptr[i], &item, 1, f->item_max, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int check_field(const msgpack_object *o, const schema_field_t *f, gb_error_t *err)
{
    const path_t body_field = {"body.", f->name, -1}, *path = &body_field;
    switch (f->kind) {
    case SCHEMA_STR:
        return check_str(o, path, f->min, f->max, err);
    case SCHEMA_ID:
        return check_id(o, path, f->max, err);
    case SCHEMA_INT:
    case SCHEMA_TIME:
        return check_int(o, path, f->min, f->max, err);
    case SCHEMA_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return gb_error_set(err, GB_E_SCHEMA, "%s: must be true or false", PT(path));
        return 0;
    case SCHEMA_ENUM:
        return check_enum(o, path, f->values, err);
    case SCHEMA_STR_ARRAY:
    case SCHEMA_ID_ARRAY:
        return check_array(o, path, f, err);
    }
    return gb_error_set(err, GB_E_SCHEMA, "%s: unsupported rule", PT(path));
}

/* Every key of map must be a string, and unique: a duplicate would let two readers see
 * two different values for the same field. */
static int check_keys(const msgpack_object *map, const char *where, gb_error_t *err)
{
    const msgpack_object_kv *kv = map->via.map.ptr;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        if (kv[i].key.type != MSGPACK_OBJECT_STR)
            return gb_error_set(err, GB_E_SCHEMA, "%s: keys must be strings", where);
        for (uint32_t j = 0; j < i; j++)
            if (kv[j].key.via.str.size == kv[i].key.via.str.size &&
                memcmp(kv[j].key.via.str.ptr, kv[i].key.via.str.ptr, kv[i].key.via.str.size) == 0)
                return gb_error_set(err, GB_E_SCHEMA, "%s%.*s: duplicate field",
                                    where[0] == 'b' ? "body." : "", (int)kv[i].key.via.str.size,
                                    kv[i].key.via.str.ptr);
    }
    return 0;
}

static int check_body(const msgpack_object *body, const schema_type_t *t, gb_error_t *err)
{
    if (!body)
        return gb_error_set(err, GB_E_SCHEMA, "body: required");
    if (body->type != MSGPACK_OBJECT_MAP)
        return gb_error_set(err, GB_E_SCHEMA, "body: must be a map");
    if (check_keys(body, "body", err) < 0)
        return -1;
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object *k = &body->via.map.ptr[i].key;
        if (!schema_field_find(t, k->via.str.ptr, k->via.str.size))
            return gb_error_set(err, GB_E_SCHEMA, "body.%.*s: unknown field for %s",
                                (int)(k->via.str.size > 64 ? 64 : k->via.str.size), k->via.str.ptr,
                                t->name);
    }
    for (const schema_field_t *f = t->fields; f->name; f++) {
        const msgpack_object *v = event_map_get(body, f->name);
        if (!v) {
            if (f->required)
                return gb_error_set(err, GB_E_SCHEMA, "body.%s: required for %s", f->name, t->name);
            continue;
        }
        if (check_field(v, f, err) < 0)
            return -1;
    }
    return 0;
}

static const char *const envelope_keys[] = {"v", "id", "type", "at", "by", "grid", "place", "body",
                                            NULL};

static int check_envelope_keys(const msgpack_object *obj, gb_error_t *err)
{
    if (check_keys(obj, "event", err) < 0)
        return -1;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        const char *const *e = envelope_keys;
        while (*e && !str_eq(k, *e))
            e++;
        if (!*e)
            return gb_error_set(err, GB_E_SCHEMA, "%.*s: unknown field",
                                (int)(k->via.str.size > 64 ? 64 : k->via.str.size), k->via.str.ptr);
    }
    return 0;
}

static gb_str_t view(const msgpack_object *o)
{
    gb_str_t s = {NULL, 0};
    if (o && o->type == MSGPACK_OBJECT_STR)
        s.ptr = o->via.str.ptr, s.len = o->via.str.size;
    return s;
}

static int check_version(const msgpack_object *obj, gb_error_t *err)
{
    const msgpack_object *v = event_map_get(obj, "v");
    int64_t n;
    if (!v)
        return gb_error_set(err, GB_E_SCHEMA, "v: required");
    if (!as_int(v, &n))
        return gb_error_set(err, GB_E_SCHEMA, "v: must be an integer");
    if (n != SCHEMA_VERSION)
        return gb_error_set(err, GB_E_VERSION, "v: version %lld is not spoken here (only %d)",
                            (long long)n, SCHEMA_VERSION);
    return 0;
}

static int check_type(const msgpack_object *obj, gb_event_t *ev, gb_error_t *err)
{
    const msgpack_object *t = event_map_get(obj, "type");
    if (!t)
        return gb_error_set(err, GB_E_SCHEMA, "type: required");
    if (t->type != MSGPACK_OBJECT_STR)
        return gb_error_set(err, GB_E_SCHEMA, "type: must be a string");
    ev->type = schema_type_find(t->via.str.ptr, t->via.str.size);
    if (!ev->type)
        return gb_error_set(err, GB_E_TYPE, "type: unknown event type '%.*s'",
                            (int)(t->via.str.size > 64 ? 64 : t->via.str.size), t->via.str.ptr);
    return 0;
}

static int check_envelope(const msgpack_object *obj, gb_event_t *ev, gb_error_t *err)
{
    const msgpack_object *id = event_map_get(obj, "id"), *at = event_map_get(obj, "at"),
                         *by = event_map_get(obj, "by"), *grid = event_map_get(obj, "grid"),
                         *place = event_map_get(obj, "place");
    if (!id)
        return gb_error_set(err, GB_E_SCHEMA, "id: required");
    if (check_id(id, ENVELOPE("id"), SCHEMA_ID_MAX, err) < 0)
        return -1;
    ev->id = view(id); /* from here on a refusal can name the event */
    if (!at)
        return gb_error_set(err, GB_E_SCHEMA, "at: required");
    if (check_int(at, ENVELOPE("at"), SCHEMA_TIME_MIN, SCHEMA_TIME_MAX, err) < 0)
        return -1;
    as_int(at, &ev->at);
    if (!by)
        return gb_error_set(err, GB_E_SCHEMA, "by: required");
    if (check_id(by, ENVELOPE("by"), SCHEMA_MEMBER_MAX, err) < 0)
        return -1;
    if (!grid && ev->type->grid_required)
        return gb_error_set(err, GB_E_SCHEMA, "grid: required for %s", ev->type->name);
    if (grid && check_id(grid, ENVELOPE("grid"), SCHEMA_GRID_MAX, err) < 0)
        return -1;
    if (place && check_str(place, ENVELOPE("place"), 0, SCHEMA_PLACE_MAX, err) < 0)
        return -1;
    ev->by = view(by), ev->grid = view(grid), ev->place = view(place);
    return 0;
}

static int check_refs(const gb_event_t *ev, const event_refs_t *refs, gb_error_t *err)
{
    if (refs->member && !refs->member(refs->arg, ev->by.ptr, ev->by.len))
        return gb_error_set(err, GB_E_MEMBER, "by: no member '%.*s' in the directory",
                            (int)ev->by.len, ev->by.ptr);
    if (refs->grid && ev->grid.len && !refs->grid(refs->arg, ev->grid.ptr, ev->grid.len))
        return gb_error_set(err, GB_E_GRID, "grid: no grid '%.*s' in the directory",
                            (int)ev->grid.len, ev->grid.ptr);
    if (!refs->member)
        return 0;
    for (const schema_field_t *f = ev->type->fields; f->name; f++) {
        const msgpack_object *v = (f->flags & SCHEMA_MEMBER_REF) ? event_map_get(ev->body, f->name)
                                                                  : NULL;
        for (uint32_t i = 0; v && i < v->via.array.size; i++) {
            const msgpack_object *m = &v->via.array.ptr[i];
            if (!refs->member(refs->arg, m->via.str.ptr, m->via.str.size))
                return gb_error_set(err, GB_E_MEMBER, "body.%s[%u]: no member '%.*s' in the directory",
                                    f->name, i, (int)m->via.str.size, m->via.str.ptr);
        }
    }
    return 0;
}

int event_validate(const msgpack_object *obj, const event_refs_t *refs, gb_event_t *ev,
                   gb_error_t *err)
{
    memset(ev, 0, sizeof *ev);
    if (!obj || obj->type != MSGPACK_OBJECT_MAP)
        return gb_error_set(err, GB_E_SCHEMA, "event: must be a map");
    /* The version first: a newer client's event is refused as E_VERSION, not as an
     * unknown field of this version. */
    if (check_version(obj, err) < 0 || check_envelope_keys(obj, err) < 0 ||
        check_type(obj, ev, err) < 0 || check_envelope(obj, ev, err) < 0)
        return -1;
    ev->body = event_map_get(obj, "body");
    if (check_body(ev->body, ev->type, err) < 0)
        return -1;
    return refs ? check_refs(ev, refs, err) : 0;
}

static int kv_cmp(const void *a, const void *b)
{
    const msgpack_object *ka = &((const msgpack_object_kv *)a)->key;
    const msgpack_object *kb = &((const msgpack_object_kv *)b)->key;
    if (ka->type != MSGPACK_OBJECT_STR || kb->type != MSGPACK_OBJECT_STR)
        return (int)ka->type - (int)kb->type;
    uint32_t n = ka->via.str.size < kb->via.str.size ? ka->via.str.size : kb->via.str.size;
    int c = memcmp(ka->via.str.ptr, kb->via.str.ptr, n);
    if (c)
        return c;
    return ka->via.str.size < kb->via.str.size ? -1 : ka->via.str.size > kb->via.str.size;
}

/* Events have a handful of keys, mostly already in order: insertion sort beats qsort's
 * set-up there; large maps (rare, bounded by the frame size) take qsort. */
static void sort_keys(msgpack_object_kv *kv, uint32_t n)
{
    if (n > 16) {
        qsort(kv, n, sizeof *kv, kv_cmp);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        msgpack_object_kv x = kv[i];
        uint32_t j = i;
        for (; j > 0 && kv_cmp(&kv[j - 1], &x) > 0; j--)
            kv[j] = kv[j - 1];
        kv[j] = x;
    }
}

static int pack_canonical(msgpack_packer *pk, const msgpack_object *obj, int depth)
{
    if (depth > CANON_DEPTH_MAX)
        return -1;
    if (obj->type == MSGPACK_OBJECT_ARRAY) {
        msgpack_pack_array(pk, obj->via.array.size);
        for (uint32_t i = 0; i < obj->via.array.size; i++)
            if (pack_canonical(pk, &obj->via.array.ptr[i], depth + 1) < 0)
                return -1;
        return 0;
    }
    if (obj->type != MSGPACK_OBJECT_MAP) {
        msgpack_pack_object(pk, *obj);
        return 0;
    }
    uint32_t n = obj->via.map.size;
    msgpack_object_kv small[32], *kv = n <= 32 ? small : malloc(n * sizeof *kv);
    if (!kv)
        return -1;
    memcpy(kv, obj->via.map.ptr, n * sizeof *kv);
    sort_keys(kv, n);
    msgpack_pack_map(pk, n);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        msgpack_pack_object(pk, kv[i].key);
        rc = pack_canonical(pk, &kv[i].val, depth + 1);
    }
    if (kv != small)
        free(kv);
    return rc;
}

int event_pack_canonical(msgpack_packer *pk, const msgpack_object *obj)
{
    return pack_canonical(pk, obj, 0);
}
