/*
 * config: gridbusd's settings, from embedded defaults, a YAML file and --set overrides.
 *
 * Every key is declared once, in one table in config.c (dotted name, type, field, default,
 * one line of help); the defaults, the file loader, --set and config_print all read that
 * table, so a key can never be known to one and missing from another. Unknown keys are
 * errors, because a typo silently ignored is a setting silently not applied. File errors
 * read "FILE:LINE:COL: message"; see docs/CONFIG.md for the reference.
 */
#ifndef GB_CONFIG_H
#define GB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char *source;    /* config file path, or "(embedded default)" */
    char *state_dir; /* default "var" */
    struct {
        char *ingest, *publish, *tasks, *alerts, *http;
    } endpoints;
    /* defaults tcp://127.0.0.1:7401 (ingest ROUTER), :7402 (publish SUB), :7403 (tasks PUB),
     * :7404 (alerts PUB), http "127.0.0.1:7480" */
    struct {
        char *token_file; /* "none" (default), or an absolute path: the file holds the bearer
                           * token every HTTP request must present (daemon/http.h) */
    } http;
    struct {
        uint64_t map_size;
        uint64_t map_size_max;
        uint32_t dead_letter_max;
        uint32_t reader_check_ms;
    } store; /* defaults 64 MiB, 16 GiB, 10000, 60000 ms (0: stale readers cleared at start only) */
    struct {
        uint32_t max_message;
        uint32_t max_frame;
        uint32_t batch_max;
        uint32_t read_budget;
        uint32_t inflight_max;
        uint32_t heartbeat_ivl_ms, heartbeat_timeout_ms;
    } limits;        /* defaults 65536, 1048576, 4096, 256, 1024, 5000 ms, 15000 ms */
    char *directory; /* community directory file; default "conf/daidong.yaml" */
    struct {
        char *level;
    } log; /* "debug"|"info"|"warning"|"error", default "info" */
    struct {
        bool allow_clock;
    } testing; /* default false: lets tests set the daemon clock; never in production */
    struct {
        bool enabled;               /* CURVE + ZAP on every ZeroMQ endpoint; default false */
        char *server_key;           /* key pair file; relative: inside state_dir ("server.key") */
        char *keys;                 /* client public key -> member file; "conf/clients.keys" */
        bool allow_insecure_remote; /* non-loopback endpoints with security off; false */
    } security;                     /* see daemon/security.h */
} config_t;

#define CONFIG_SOURCE_DEFAULT "(embedded default)"

/* The embedded defaults; NULL only when out of memory. */
config_t *config_new(void);
void config_destroy(config_t **self_p);

/* A deep copy; NULL when out of memory. */
config_t *config_dup(const config_t *self);

/* Loads a YAML file over the current values. Relative paths in a file (state_dir,
 * directory) are resolved against the file's folder (made absolute). Returns 0, or -1 with
 * err = "FILE:LINE:COL: message" (unknown key, wrong type, bad size, YAML syntax error;
 * "FILE: message" when the file cannot be read). All or nothing: on error self is unchanged.
 * An empty file changes nothing but source. */
int config_load_file(config_t *self, const char *path, char *err, size_t errlen);

/* Applies "dotted.key=value" (the --set option); relative paths stay relative to cwd. -1 with
 * err "--set KEY: message" for unknown keys or bad values; self is then unchanged. */
int config_set(config_t *self, const char *assignment, char *err, size_t errlen);

/* Checks cross-field rules (map_size <= map_size_max, max_message <= max_frame, non-empty
 * and distinct endpoints, batch_max >= 1, ...). 0, or -1 with err naming the keys. */
int config_validate(const config_t *self, char *err, size_t errlen);

/* Prints the effective configuration as YAML that config_load_file reads back (for
 * --check-config / debugging), with each key's help as a comment. */
void config_print(const config_t *self, FILE *out);

/* The table of keys, for listings and for tests that check docs and samples: dotted names
 * in print order, index < config_key_count(). */
size_t config_key_count(void);
const char *config_key_name(size_t index);

#endif
