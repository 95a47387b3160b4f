/*
 * jsonmp: JSON (jansson) to MessagePack and back, the project's one converter.
 *
 * It lives in proto/ (the shared codec) so that gridbusd (the JSON of its HTTP API), the
 * CLI (JSON lines in and out) and the tests (events written as JSON, replies read back as
 * JSON) share one implementation without the daemon depending on clients/. It is linked
 * into libgridbus but is not part of its API: not in gridbus.h, not installed, not exported
 * from the shared library (no GB_EXPORT, so -fvisibility=hidden keeps it inside).
 *
 * The conversion is generic, by value kind, never by field name: objects and maps,
 * arrays, strings, integers, reals, booleans and null map one to one, so an event written
 * as JSON reaches the daemon with exactly the types it was written with and the daemon's
 * validator judges it. Going back, what JSON cannot hold is shown rather than dropped.
 */
#ifndef GB_JSONMP_H
#define GB_JSONMP_H

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>

/* Packs j: objects as maps with string keys (in the object's order), integers as msgpack
 * ints in their smallest form, reals as float64. */
void jsonmp_pack(msgpack_packer *pk, const json_t *j);

/* Initialises sb and packs j into it; the caller frees it with msgpack_sbuffer_destroy. */
void jsonmp_pack_sbuffer(const json_t *j, msgpack_sbuffer *sb);

/* A new JSON value for o, or NULL when out of memory. Strings that are not UTF-8 have
 * their bad bytes shown as U+FFFD, non-string map keys are written as JSON text ("1"),
 * binaries become {"$bin": "<base64>"} and extensions {"$ext": type}; an unsigned integer
 * above INT64_MAX becomes a real, NaN and the infinities null. */
json_t *jsonmp_from_object(const msgpack_object *o);

/* The same from packed msgpack bytes (decoded by proto's wire_decode_object); NULL when
 * they are not one msgpack value. */
json_t *jsonmp_from_bytes(const void *data, size_t len);

#endif
