/*
 * jsonmp: JSON (jansson) to MessagePack and back, for the CLI's JSON lines.
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

/* Packs j: objects as maps with string keys, integers as msgpack ints, reals as float64. */
void jsonmp_pack(msgpack_packer *pk, const json_t *j);

/* A new JSON value for o, or NULL when out of memory. Strings that are not UTF-8 have
 * their bad bytes shown as U+FFFD, non-string map keys are written as JSON text ("1"),
 * binaries become {"$bin": "<base64>"} and extensions {"$ext": type}. */
json_t *jsonmp_from_object(const msgpack_object *o);

/* The same from packed msgpack bytes (decoded by proto's wire_decode_object); NULL when
 * they are not one msgpack value. */
json_t *jsonmp_from_bytes(const void *data, size_t len);

#endif
