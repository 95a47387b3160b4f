/*
 * event_build: gridbus_event_t, a v1 event put together from strings.
 *
 * A command line or a form gives every body field as text; what type the value must have
 * on the wire is in proto's schema table, so each value is coerced by its field's kind
 * when it is set (an error then names the key and the text), never by guessing from the
 * text. The values are kept per schema field, in the schema's order, and packed as a
 * msgpack map only when asked, so setting a key twice simply replaces it. Validation
 * reuses proto's event_validate on the packed bytes: the client and the daemon apply the
 * same rules with the same messages.
 */
#include "gridbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "schema.h"
#include "wire.h"

/* More than any v1 type has (the ledger entry has 8). */
#define BODY_MAX 32

typedef enum { VAL_NONE, VAL_INT, VAL_BOOL, VAL_STR, VAL_LIST } val_kind_t;

typedef struct {
    val_kind_t kind;
    int64_t i;
    bool b;
    char *s;      /* VAL_STR */
    char **items; /* VAL_LIST */
    size_t nitems;
} body_val_t;

struct gridbus_event {
    const schema_type_t *type;
    char *id, *by, *grid, *place; /* NULL when not set */
    int64_t at;
    bool at_set;
    body_val_t body[BODY_MAX]; /* indexed like type->fields */
    msgpack_sbuffer buf;
    wire_decoder_t *dec;
    gb_error_t err;
};

gridbus_event_t *gridbus_event_new(void)
{
    gridbus_event_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    msgpack_sbuffer_init(&self->buf);
    return self;
}

static void val_clear(body_val_t *v)
{
    free(v->s);
    for (size_t i = 0; i < v->nitems; i++)
        free(v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static void body_clear(gridbus_event_t *self)
{
    for (int i = 0; i < BODY_MAX; i++)
        val_clear(&self->body[i]);
}

void gridbus_event_destroy(gridbus_event_t **self_p)
{
    gridbus_event_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    body_clear(self);
    free(self->id);
    free(self->by);
    free(self->grid);
    free(self->place);
    msgpack_sbuffer_destroy(&self->buf);
    wire_decoder_destroy(&self->dec);
    free(self);
    *self_p = NULL;
}

const char *gridbus_event_errcode(const gridbus_event_t *self)
{
    return self->err.code == GB_OK ? "" : gb_code_name(self->err.code);
}

const char *gridbus_event_error(const gridbus_event_t *self)
{
    return self->err.msg;
}

static int fail_nomem(gridbus_event_t *self)
{
    return gb_error_set(&self->err, GB_E_SCHEMA, "out of memory");
}

/* Replaces *slot with a copy of s (NULL clears it). */
static int set_copy(gridbus_event_t *self, char **slot, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = strdup(s)))
        return fail_nomem(self);
    free(*slot);
    *slot = copy;
    return 0;
}

int gridbus_event_set_type(gridbus_event_t *self, const char *type)
{
    const schema_type_t *t = type ? schema_type_find(type, strlen(type)) : NULL;
    if (!t)
        return gb_error_set(&self->err, GB_E_TYPE, "type: unknown event type '%s'",
                            type ? type : "");
    if (t != self->type)
        body_clear(self); /* the fields of another type mean nothing here */
    self->type = t;
    return 0;
}

int gridbus_event_set_id(gridbus_event_t *self, const char *id)
{
    if (id && !event_id_valid(id, strlen(id), SCHEMA_ID_MAX))
        return gb_error_set(&self->err, GB_E_SCHEMA,
                            "id: must be 1..%d characters of [A-Za-z0-9._:-]: '%.64s'",
                            SCHEMA_ID_MAX, id);
    return set_copy(self, &self->id, id);
}

int gridbus_event_set_by(gridbus_event_t *self, const char *by)
{
    return set_copy(self, &self->by, by);
}

int gridbus_event_set_grid(gridbus_event_t *self, const char *grid)
{
    return set_copy(self, &self->grid, grid);
}

int gridbus_event_set_place(gridbus_event_t *self, const char *place)
{
    return set_copy(self, &self->place, place);
}

int gridbus_event_set_at(gridbus_event_t *self, int64_t at_ms)
{
    self->at = at_ms;
    self->at_set = true;
    return 0;
}

const char *gridbus_event_id(const gridbus_event_t *self)
{
    return self->id;
}

/* ---- coercion of one body value ---------------------------------------------------- */

static int coerce_int(gridbus_event_t *self, const char *key, const char *text, body_val_t *v)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return gb_error_set(&self->err, GB_E_SCHEMA, "body.%s: not an integer: '%.80s'", key, text);
    v->kind = VAL_INT;
    v->i = n;
    return 0;
}

static int coerce_bool(gridbus_event_t *self, const char *key, const char *text, body_val_t *v)
{
    static const char *const yes[] = {"true", "yes", "1", NULL};
    static const char *const no[] = {"false", "no", "0", NULL};
    for (int i = 0; yes[i]; i++) {
        if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
            v->kind = VAL_BOOL;
            v->b = strcmp(text, yes[i]) == 0;
            return 0;
        }
    }
    return gb_error_set(&self->err, GB_E_SCHEMA, "body.%s: not a boolean (true or false): '%.80s'",
                        key, text);
}

/* A copy of the n bytes at s without the blanks around them. */
static char *trimmed_copy(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return strndup(s, n);
}

/* Splits "a, b,c" into items; "" is the empty list. */
static int coerce_list(gridbus_event_t *self, const char *key, const char *text, body_val_t *v)
{
    v->kind = VAL_LIST;
    if (*text == '\0')
        return 0;
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    if (!(v->items = calloc(n, sizeof *v->items)))
        return fail_nomem(self);
    for (const char *p = text;; p++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *item = trimmed_copy(p, len);
        if (!item)
            return fail_nomem(self);
        v->items[v->nitems++] = item;
        if (*item == '\0')
            return gb_error_set(&self->err, GB_E_SCHEMA, "body.%s: empty item %zu in list: '%.80s'",
                                key, v->nitems, text);
        if (!comma)
            return 0;
        p = comma;
    }
}

static int coerce(gridbus_event_t *self, const schema_field_t *f, const char *text, body_val_t *v)
{
    switch (f->kind) {
    case SCHEMA_INT:
    case SCHEMA_TIME:
        return coerce_int(self, f->name, text, v);
    case SCHEMA_BOOL:
        return coerce_bool(self, f->name, text, v);
    case SCHEMA_STR_ARRAY:
    case SCHEMA_ID_ARRAY:
        return coerce_list(self, f->name, text, v);
    case SCHEMA_STR:
    case SCHEMA_ID:
    case SCHEMA_ENUM:
        break;
    }
    v->kind = VAL_STR;
    return (v->s = strdup(text)) ? 0 : fail_nomem(self);
}

/* "household, summary, ..." for the unknown-key message. */
static void field_names(const schema_type_t *t, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const schema_field_t *f = t->fields; f->name && used < size; f++) {
        int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", f->name);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

int gridbus_event_set(gridbus_event_t *self, const char *key, const char *value)
{
    if (!self->type)
        return gb_error_set(&self->err, GB_E_SCHEMA, "body.%s: set the event type first", key);
    if (strncmp(key, "body.", 5) == 0)
        key += 5;
    const schema_field_t *f = schema_field_find(self->type, key, strlen(key));
    if (!f) {
        char names[160];
        field_names(self->type, names, sizeof names);
        return gb_error_set(&self->err, GB_E_SCHEMA, "body.%.40s: no such field in %s (%s)", key,
                            self->type->name, names);
    }
    body_val_t v = {0};
    if (coerce(self, f, value, &v) < 0) {
        val_clear(&v);
        return -1;
    }
    body_val_t *slot = &self->body[f - self->type->fields];
    val_clear(slot);
    *slot = v;
    return 0;
}

int gridbus_event_set_kv(gridbus_event_t *self, const char *key_value)
{
    const char *eq = strchr(key_value, '=');
    if (!eq || eq == key_value)
        return gb_error_set(&self->err, GB_E_SCHEMA, "'%.80s': expected key=value", key_value);
    char key[64];
    size_t klen = (size_t)(eq - key_value);
    if (klen >= sizeof key)
        return gb_error_set(&self->err, GB_E_SCHEMA, "body.%.40s...: key too long", key_value);
    memcpy(key, key_value, klen);
    key[klen] = '\0';
    return gridbus_event_set(self, key, eq + 1);
}

/* ---- packing and validation -------------------------------------------------------- */

static void pack_val(msgpack_packer *pk, const body_val_t *v)
{
    switch (v->kind) {
    case VAL_INT:
        msgpack_pack_int64(pk, v->i);
        break;
    case VAL_BOOL:
        v->b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        break;
    case VAL_STR:
        wire_pack_cstr(pk, v->s);
        break;
    case VAL_LIST:
        msgpack_pack_array(pk, (uint32_t)v->nitems);
        for (size_t i = 0; i < v->nitems; i++)
            wire_pack_cstr(pk, v->items[i]);
        break;
    case VAL_NONE:
        msgpack_pack_nil(pk);
        break;
    }
}

static void pack_body(gridbus_event_t *self, msgpack_packer *pk)
{
    uint32_t n = 0;
    for (int i = 0; i < BODY_MAX; i++)
        n += self->body[i].kind != VAL_NONE;
    msgpack_pack_map(pk, n);
    for (int i = 0; i < BODY_MAX; i++) {
        if (self->body[i].kind == VAL_NONE)
            continue;
        wire_pack_cstr(pk, self->type->fields[i].name);
        pack_val(pk, &self->body[i]);
    }
}

static void pack_kv_str(msgpack_packer *pk, const char *key, const char *value)
{
    wire_pack_cstr(pk, key);
    wire_pack_cstr(pk, value);
}

static void pack_envelope(gridbus_event_t *self, msgpack_packer *pk)
{
    uint32_t n = 5 + !!self->by + !!self->grid + !!self->place;
    msgpack_pack_map(pk, n);
    wire_pack_cstr(pk, "v");
    msgpack_pack_int(pk, SCHEMA_VERSION);
    pack_kv_str(pk, "id", self->id);
    pack_kv_str(pk, "type", self->type->name);
    wire_pack_cstr(pk, "at");
    msgpack_pack_int64(pk, self->at);
    if (self->by)
        pack_kv_str(pk, "by", self->by);
    if (self->grid)
        pack_kv_str(pk, "grid", self->grid);
    if (self->place)
        pack_kv_str(pk, "place", self->place);
    wire_pack_cstr(pk, "body");
    pack_body(self, pk);
}

int gridbus_event_pack(gridbus_event_t *self, const void **data, size_t *len)
{
    if (!self->type)
        return gb_error_set(&self->err, GB_E_SCHEMA, "type: missing");
    if (!self->id) {
        /* Made once and kept, so packing again (a retry) publishes the same id. */
        char id[GRIDBUS_ID_BUF];
        if (gridbus_id_new(id) < 0)
            return gb_error_set(&self->err, GB_E_SCHEMA, "id: no random bytes for a new id");
        if (set_copy(self, &self->id, id) < 0)
            return -1;
    }
    if (!self->at_set)
        gridbus_event_set_at(self, gridbus_now_ms());
    msgpack_sbuffer_clear(&self->buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->buf, msgpack_sbuffer_write);
    pack_envelope(self, &pk);
    *data = self->buf.data;
    *len = self->buf.size;
    return 0;
}

int gridbus_event_validate(gridbus_event_t *self)
{
    const void *data;
    size_t len;
    if (gridbus_event_pack(self, &data, &len) < 0)
        return -1;
    if (!self->dec && !(self->dec = wire_decoder_new()))
        return fail_nomem(self);
    const msgpack_object *obj;
    if (wire_decode_object(self->dec, data, len, &obj, &self->err) < 0)
        return -1;
    gb_event_t ev;
    return event_validate(obj, NULL, &ev, &self->err);
}
