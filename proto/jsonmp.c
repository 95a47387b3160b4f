/*
 * jsonmp: JSON <-> MessagePack for the daemon's HTTP API, the CLI and the tests (see
 * jsonmp.h for the mapping, why it is generic, and why it is not public API).
 */
#include "jsonmp.h"

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "wire.h"

static void pack_object(msgpack_packer *pk, const json_t *j)
{
    const char *key;
    json_t *v;
    msgpack_pack_map(pk, (uint32_t)json_object_size(j));
    json_object_foreach((json_t *)j, key, v)
    {
        msgpack_pack_str_with_body(pk, key, strlen(key));
        jsonmp_pack(pk, v);
    }
}

void jsonmp_pack(msgpack_packer *pk, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        pack_object(pk, j);
        break;
    case JSON_ARRAY:
        msgpack_pack_array(pk, (uint32_t)json_array_size(j));
        for (size_t i = 0; i < json_array_size(j); i++)
            jsonmp_pack(pk, json_array_get(j, i));
        break;
    case JSON_STRING:
        msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(j));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(j));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

void jsonmp_pack_sbuffer(const json_t *j, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    jsonmp_pack(&pk, j);
}

/* ---- msgpack -> JSON --------------------------------------------------------------- */

/* Length of the UTF-8 sequence a lead byte starts, or 1 for a byte that starts none. */
static size_t utf8_len(unsigned char c)
{
    return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* s with every byte that is not part of well-formed UTF-8 replaced by U+FFFD. */
static json_t *string_lossy(const char *s, size_t n)
{
    char *out = malloc(n * 3 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len((unsigned char)s[i]);
        if (k <= n - i && event_utf8_valid(s + i, k)) {
            memcpy(out + o, s + i, k);
            o += k, i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3, i++;
        }
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

static json_t *string_of(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    return j ? j : string_lossy(s, n);
}

static json_t *base64_of(const char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s;
    char *out = malloc((n + 2) / 3 * 4 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    json_t *j = json_pack("{s:s%}", "$bin", out, o);
    free(out);
    return j;
}

/* A map key as a string: strings as they are, anything else as its JSON text. */
static char *key_of(const msgpack_object *k)
{
    if (k->type == MSGPACK_OBJECT_STR)
        return strndup(k->via.str.ptr, k->via.str.size);
    json_t *j = jsonmp_from_object(k);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return s;
}

static json_t *object_of(const msgpack_object_map *m)
{
    json_t *obj = json_object();
    for (uint32_t i = 0; obj && i < m->size; i++) {
        char *key = key_of(&m->ptr[i].key);
        json_t *v = jsonmp_from_object(&m->ptr[i].val);
        /* json_object_setn_new takes v even when it fails. */
        if (!key || !v || json_object_setn_new(obj, key, strlen(key), v) < 0) {
            json_decref(obj);
            obj = NULL;
        }
        free(key);
    }
    return obj;
}

static json_t *array_of(const msgpack_object_array *a)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < a->size; i++) {
        json_t *v = jsonmp_from_object(&a->ptr[i]);
        if (!v || json_array_append_new(arr, v) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

static json_t *real_of(double d)
{
    json_t *j = json_real(d); /* NULL for NaN and infinities, which JSON has not */
    return j ? j : json_null();
}

json_t *jsonmp_from_object(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return real_of((double)o->via.u64);
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return real_of(o->via.f64);
    case MSGPACK_OBJECT_STR:
        return string_of(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return base64_of(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        return json_pack("{s:i}", "$ext", (int)o->via.ext.type);
    case MSGPACK_OBJECT_ARRAY:
        return array_of(&o->via.array);
    case MSGPACK_OBJECT_MAP:
        return object_of(&o->via.map);
    }
    return json_null();
}

json_t *jsonmp_from_bytes(const void *data, size_t len)
{
    wire_decoder_t *dec = wire_decoder_new();
    const msgpack_object *obj;
    gb_error_t err;
    json_t *j = NULL;
    if (dec && wire_decode_object(dec, data, len, &obj, &err) == 0)
        j = jsonmp_from_object(obj);
    wire_decoder_destroy(&dec);
    return j;
}
