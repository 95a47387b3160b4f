/*
 * test_config: gridbusd's configuration: defaults, files, --set, cross-field checks, output.
 *
 * Each test writes its YAML into a fresh mkdtemp folder and asserts whole error strings,
 * positions included: "FILE:LINE:COL: message" is what an operator reads, so its exact form
 * is part of the contract. The shipped conf/gridbusd.yaml is found through GRIDBUS_CONF
 * (set by tests/run), or "conf" from the working directory.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char dir[PATH_MAX];
static config_t *cfg;
static char err[1024];

static void setup(void)
{
    char tmpl[] = "/tmp/gb_config.XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    cr_assert_not_null(realpath(tmpl, dir));
    cfg = config_new();
    cr_assert_not_null(cfg);
    err[0] = '\0';
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    config_destroy(&cfg);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Writes text to dir/name and returns the path (a static buffer per call site is enough:
 * callers use it before the next call). */
static const char *write_file(const char *name, const char *text)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *conf_dir(void)
{
    const char *env = getenv("GRIDBUS_CONF");
    return env && *env ? env : "conf";
}

/* Loads text as a file that must be refused, and checks the whole message: the file's path,
 * then `expected` ("LINE:COL: message"). The configuration must be left as it was. */
static void expect_file_error(const char *text, const char *expected)
{
    const char *path = write_file("bad.yaml", text);
    char want[2048];
    snprintf(want, sizeof want, "%s:%s", path, expected);
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), -1, "accepted: %s", text);
    cr_assert_str_eq(err, want);
    cr_assert_str_eq(cfg->source, CONFIG_SOURCE_DEFAULT);
    cr_assert_eq(cfg->store.map_size, 64ull << 20);
}

static void expect_set_error(const char *assignment, const char *expected)
{
    cr_assert_eq(config_set(cfg, assignment, err, sizeof err), -1, "accepted: %s", assignment);
    cr_assert_str_eq(err, expected);
}

static void expect_invalid(const char *expected)
{
    cr_assert_eq(config_validate(cfg, err, sizeof err), -1);
    cr_assert_str_eq(err, expected);
}

static void must_set(const char *assignment)
{
    cr_assert_eq(config_set(cfg, assignment, err, sizeof err), 0, "%s: %s", assignment, err);
}

/* ---- defaults ---- */

Test(config, defaults)
{
    cr_assert_str_eq(cfg->source, "(embedded default)");
    cr_assert_str_eq(cfg->state_dir, "var");
    cr_assert_str_eq(cfg->directory, "conf/daidong.yaml");
    cr_assert_str_eq(cfg->endpoints.ingest, "tcp://127.0.0.1:7401");
    cr_assert_str_eq(cfg->endpoints.publish, "tcp://127.0.0.1:7402");
    cr_assert_str_eq(cfg->endpoints.tasks, "tcp://127.0.0.1:7403");
    cr_assert_str_eq(cfg->endpoints.alerts, "tcp://127.0.0.1:7404");
    cr_assert_str_eq(cfg->endpoints.http, "127.0.0.1:7480");
    cr_assert_eq(cfg->store.map_size, 64ull << 20);
    cr_assert_eq(cfg->store.map_size_max, 16ull << 30);
    cr_assert_eq(cfg->store.dead_letter_max, 10000);
    cr_assert_eq(cfg->limits.max_message, 65536);
    cr_assert_eq(cfg->limits.max_frame, 1048576);
    cr_assert_eq(cfg->limits.batch_max, 4096);
    cr_assert_eq(cfg->limits.read_budget, 1024);
    cr_assert_str_eq(cfg->log.level, "info");
    cr_assert_eq(cfg->testing.allow_clock, false);
    cr_assert_eq(cfg->security.enabled, false);
    cr_assert_str_eq(cfg->security.server_key, "server.key");
    cr_assert_str_eq(cfg->security.keys, "conf/clients.keys");
    cr_assert_eq(cfg->security.allow_insecure_remote, false);
    cr_assert_eq(config_validate(cfg, err, sizeof err), 0, "%s", err);
}

Test(config, key_table_is_one_level_and_unique)
{
    size_t n = config_key_count();
    cr_assert_eq(n, 25);
    for (size_t i = 0; i < n; i++) {
        const char *name = config_key_name(i), *dot = strchr(name, '.');
        cr_assert(!dot || !strchr(dot + 1, '.'), "%s nests deeper than config_print writes", name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(name, config_key_name(j));
    }
    cr_assert_null(config_key_name(n));
}

/* ---- files ---- */

Test(config, shipped_file_mirrors_the_defaults)
{
    char path[PATH_MAX], folder[PATH_MAX], want[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/gridbusd.yaml", conf_dir());
    cr_assert_not_null(realpath(conf_dir(), folder));
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(cfg->source, path);
    snprintf(want, sizeof want, "%.*s/var", (int)(strrchr(folder, '/') - folder), folder);
    cr_assert_str_eq(cfg->state_dir, want);
    snprintf(want, sizeof want, "%s/daidong.yaml", folder);
    cr_assert_str_eq(cfg->directory, want);
    cr_assert_eq(access(cfg->directory, R_OK), 0, "%s", cfg->directory);

    /* Everything else is the embedded default. */
    config_t *dflt = config_new();
    free(dflt->state_dir), free(dflt->directory), free(dflt->source);
    dflt->state_dir = strdup(cfg->state_dir);
    dflt->directory = strdup(cfg->directory);
    free(dflt->security.keys); /* a path too: relative to the file's folder */
    dflt->security.keys = strdup(cfg->security.keys);
    dflt->source = strdup(cfg->source);
    char *a = NULL, *b = NULL;
    size_t alen, blen;
    FILE *fa = open_memstream(&a, &alen), *fb = open_memstream(&b, &blen);
    config_print(cfg, fa);
    config_print(dflt, fb);
    fclose(fa), fclose(fb);
    cr_assert_str_eq(a, b);
    free(a), free(b);
    config_destroy(&dflt);
}

/* Every key is written out in the shipped file and documented in docs/CONFIG.md. */
Test(config, every_key_in_sample_and_docs)
{
    char path[PATH_MAX];
    const char *files[] = {"%s/gridbusd.yaml", "%s/../docs/CONFIG.md"};
    for (size_t f = 0; f < 2; f++) {
        snprintf(path, sizeof path, files[f], conf_dir());
        FILE *in = fopen(path, "r");
        cr_assert_not_null(in, "%s", path);
        char text[65536];
        size_t len = fread(text, 1, sizeof text - 1, in);
        text[len] = '\0';
        fclose(in);
        for (size_t i = 0; i < config_key_count(); i++) {
            const char *name = config_key_name(i), *dot = strchr(name, '.');
            char want[96];
            if (f == 1)
                snprintf(want, sizeof want, "`%s`", name);
            else if (dot)
                snprintf(want, sizeof want, "\n  %s:", dot + 1);
            else
                snprintf(want, sizeof want, "\n%s:", name);
            cr_assert_not_null(strstr(text, want), "%s lacks %s", path, want);
        }
    }
}

Test(config, file_sets_every_key)
{
    const char *path = write_file("all.yaml", "state_dir: /srv/gridbus\n"
                                              "directory: dir/community.yaml\n"
                                              "endpoints:\n"
                                              "  ingest: ipc:///run/gb/ingest\n"
                                              "  publish: tcp://*:8402\n"
                                              "  tasks: tcp://*:8403\n"
                                              "  alerts: \"tcp://*:8404\"\n"
                                              "  http: 0.0.0.0:8480\n"
                                              "store:\n"
                                              "  map_size: 1GiB\n"
                                              "  map_size_max: 2T\n"
                                              "  dead_letter_max: 5\n"
                                              "limits:\n"
                                              "  max_message: 1024\n"
                                              "  max_frame: 2 MiB\n"
                                              "  batch_max: 1\n"
                                              "  read_budget: 4294967295\n"
                                              "log: {level: debug}\n"
                                              "testing:\n"
                                              "  allow_clock: true\n");
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), 0, "%s", err);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/dir/community.yaml", dir);
    cr_assert_str_eq(cfg->source, path);
    cr_assert_str_eq(cfg->state_dir, "/srv/gridbus");
    cr_assert_str_eq(cfg->directory, want);
    cr_assert_str_eq(cfg->endpoints.ingest, "ipc:///run/gb/ingest");
    cr_assert_str_eq(cfg->endpoints.publish, "tcp://*:8402");
    cr_assert_str_eq(cfg->endpoints.tasks, "tcp://*:8403");
    cr_assert_str_eq(cfg->endpoints.alerts, "tcp://*:8404");
    cr_assert_str_eq(cfg->endpoints.http, "0.0.0.0:8480");
    cr_assert_eq(cfg->store.map_size, 1ull << 30);
    cr_assert_eq(cfg->store.map_size_max, 2ull << 40);
    cr_assert_eq(cfg->store.dead_letter_max, 5);
    cr_assert_eq(cfg->limits.max_message, 1024);
    cr_assert_eq(cfg->limits.max_frame, 2u << 20);
    cr_assert_eq(cfg->limits.batch_max, 1);
    cr_assert_eq(cfg->limits.read_budget, UINT32_MAX);
    cr_assert_str_eq(cfg->log.level, "debug");
    cr_assert_eq(cfg->testing.allow_clock, true);
    cr_assert_eq(config_validate(cfg, err, sizeof err), 0, "%s", err);
}

Test(config, file_keeps_what_it_does_not_mention)
{
    const char *path = write_file("some.yaml", "# only the level\nlog:\n  level: error\nstore:\n");
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(cfg->log.level, "error");
    cr_assert_str_eq(cfg->state_dir, "var");
    cr_assert_eq(cfg->store.map_size, 64ull << 20);
}

Test(config, empty_file_changes_nothing_but_source)
{
    const char *path = write_file("empty.yaml", "# nothing here yet\n");
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(cfg->source, path);
    cr_assert_str_eq(cfg->endpoints.ingest, "tcp://127.0.0.1:7401");
}

Test(config, relative_paths_follow_the_file)
{
    char etc[PATH_MAX + 8];
    snprintf(etc, sizeof etc, "%s/etc", dir);
    cr_assert_eq(mkdir(etc, 0700), 0);
    write_file("etc/gridbusd.yaml", "state_dir: ../state\ndirectory: community.yaml\n");
    /* A config path relative to the working directory still resolves to an absolute one. */
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(config_load_file(cfg, "etc/gridbusd.yaml", err, sizeof err), 0, "%s", err);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/state", dir);
    cr_assert_str_eq(cfg->state_dir, want);
    snprintf(want, sizeof want, "%s/etc/community.yaml", dir);
    cr_assert_str_eq(cfg->directory, want);
    cr_assert_str_eq(cfg->source, "etc/gridbusd.yaml");

    /* Leading ./ and ../ are applied to the (canonical) folder; inner ones are kept. */
    static const struct {
        const char *rel, *want;
        bool under_dir; /* want follows the test folder; else it is the whole path */
    } cases[] = {
        {"./data", "/etc/data", true},
        {".", "/etc", true},
        {"..", "", true},
        {"./.././a/../b", "/a/../b", true},
        {"../../../../../../../../../../../../../../../../x", "/x", false}, /* stops at / */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "state_dir: \"%s\"\n", cases[i].rel);
        write_file("etc/gridbusd.yaml", text);
        cr_assert_eq(config_load_file(cfg, "etc/gridbusd.yaml", err, sizeof err), 0, "%s", err);
        snprintf(want, sizeof want, "%s%s", cases[i].under_dir ? dir : "", cases[i].want);
        cr_assert_str_eq(cfg->state_dir, want, "%s", cases[i].rel);
    }

    /* --set leaves a relative path relative to the working directory. */
    must_set("state_dir=run/state");
    cr_assert_str_eq(cfg->state_dir, "run/state");
}

Test(config, sizes_and_suffixes)
{
    static const struct {
        const char *text;
        uint64_t value;
    } cases[] = {
        {"65536", 65536},   {"64K", 64ull << 10}, {"64KiB", 64ull << 10},
        {"3M", 3ull << 20}, {"3MiB", 3ull << 20}, {"5 GiB", 5ull << 30},
        {"5G", 5ull << 30}, {"1T", 1ull << 40},   {"1TiB", 1ull << 40},
        {"0", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "store.map_size_max=%s", cases[i].text);
        must_set(line);
        cr_assert_eq(cfg->store.map_size_max, cases[i].value, "%s", cases[i].text);
    }
    must_set("limits.max_frame=4294967295");
    cr_assert_eq(cfg->limits.max_frame, UINT32_MAX);
}

/* ---- file errors, each with its position ---- */

Test(config, unknown_keys)
{
    expect_file_error("stat_dir: x\n", "1:1: unknown key 'stat_dir' (did you mean 'state_dir'?)");
    expect_file_error("log:\n  level: info\nstore:\n  map_sise: 1M\n",
                      "4:3: unknown key 'store.map_sise' (did you mean 'store.map_size'?)");
    expect_file_error("stor:\n  map_size: 1M\n", "1:1: unknown key 'stor' (did you mean 'store'?)");
    expect_file_error("frobnicate: 1\n", "1:1: unknown key 'frobnicate'");
    expect_file_error(
        "store.map_size: 1M\n",
        "1:1: unknown key 'store.map_size' (in a file, nest sections instead of dots)");
    expect_file_error("log:\n  level: info\n  colour: true\n", "3:3: unknown key 'log.colour'");
}

Test(config, wrong_types)
{
    expect_file_error("- state_dir\n",
                      "1:1: expected a mapping of keys at the top level, got a list");
    expect_file_error("store: 5\n", "1:8: store: expected a mapping of keys, got a single value");
    expect_file_error("endpoints:\n  - tcp://a:1\n",
                      "2:3: endpoints: expected a mapping of keys, got a list");
    expect_file_error("store:\n  map_size: [1, 2]\n",
                      "2:13: store.map_size: expected a single value, got a list");
    expect_file_error("state_dir: {a: b}\n",
                      "1:12: state_dir: expected a single value, got a mapping");
    expect_file_error("[a]: 1\n", "1:1: a key must be a single value, got a list");
    expect_file_error("endpoints:\n  ingest: &e tcp://a:1\n  publish: *e\n",
                      "3:13: endpoints.publish: expected a single value, got an alias");
}

Test(config, bad_values)
{
    expect_file_error("store:\n  map_size: 12XB\n",
                      "2:13: store.map_size: bad size '12XB': expected an integer of bytes with an "
                      "optional K, M, G, T, KiB, MiB, GiB or TiB suffix (powers of 1024)");
    expect_file_error(
        "limits:\n  max_frame: 4GiB\n",
        "2:14: limits.max_frame: size '4GiB' is too large (at most 4294967295 bytes)");
    expect_file_error("limits:\n  batch_max: 10K\n",
                      "2:14: limits.batch_max: bad number '10K': expected an integer from 0 to "
                      "4294967295");
    expect_file_error("testing:\n  allow_clock: yes\n",
                      "2:16: testing.allow_clock: bad boolean 'yes': expected true or false");
    expect_file_error("log:\n  level: verbose\n",
                      "2:10: log.level: bad log level 'verbose': expected debug, info, warning or "
                      "error");
    expect_file_error("log:\n  level: ~\n", "2:10: log.level: missing value");
    /* an empty value has no position of its own in libfyaml: its key's is used */
    expect_file_error("log:\n  level:\nstore:\n", "2:3: log.level: missing value");
    expect_file_error("endpoints:\n  http: \"\"\n", "2:10: endpoints.http: missing value");
    expect_file_error("state_dir: \"a\\0b\"\n", "1:13: state_dir: contains a NUL character");
}

Test(config, syntax_errors)
{
    expect_file_error("store:\n  map_size: 1M\n  map_size: 2M\n", "3:3: duplicate key");
    expect_file_error("log: {level: info\n", "2:1: missing comma in flow mapping");
    expect_file_error("log:\n  level: info\n---\nlog:\n  level: debug\n",
                      "4:1: only one YAML document is allowed in this file");
    expect_file_error("state_dir: caf\xc3\n", "1:15: not valid UTF-8");
    expect_file_error("state_dir: 岱东\xff\n", "1:14: not valid UTF-8");
}

Test(config, unreadable_files)
{
    char path[PATH_MAX + 32], want[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    cr_assert_str_eq(err, want);
    cr_assert_eq(config_load_file(cfg, dir, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: not a regular file", dir);
    cr_assert_str_eq(err, want);
    cr_assert_str_eq(cfg->source, CONFIG_SOURCE_DEFAULT);
}

/* A bad key late in the file leaves nothing of the good ones before it applied. */
Test(config, load_is_all_or_nothing)
{
    const char *path = write_file("half.yaml", "state_dir: /elsewhere\nlog:\n  level: debug\n"
                                               "store:\n  map_size: lots\n");
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), -1);
    cr_assert_str_eq(cfg->state_dir, "var");
    cr_assert_str_eq(cfg->log.level, "info");
    cr_assert_str_eq(cfg->source, CONFIG_SOURCE_DEFAULT);
}

/* ---- --set ---- */

Test(config, set_every_kind_of_key)
{
    must_set("endpoints.ingest=tcp://0.0.0.0:9401");
    cr_assert_str_eq(cfg->endpoints.ingest, "tcp://0.0.0.0:9401");
    must_set("directory=/etc/gridbus/daidong.yaml");
    cr_assert_str_eq(cfg->directory, "/etc/gridbus/daidong.yaml");
    must_set("store.map_size=256MiB");
    cr_assert_eq(cfg->store.map_size, 256ull << 20);
    must_set("limits.max_message=128K");
    cr_assert_eq(cfg->limits.max_message, 128u << 10);
    must_set("store.dead_letter_max=42");
    cr_assert_eq(cfg->store.dead_letter_max, 42);
    must_set("testing.allow_clock=true");
    cr_assert_eq(cfg->testing.allow_clock, true);
    must_set("testing.allow_clock=false");
    cr_assert_eq(cfg->testing.allow_clock, false);
    must_set("log.level=warning");
    cr_assert_str_eq(cfg->log.level, "warning");
    must_set("endpoints.http=[::1]:7480"); /* only the first '=' splits */
    must_set("state_dir=a=b");
    cr_assert_str_eq(cfg->state_dir, "a=b");
    cr_assert_str_eq(cfg->source, CONFIG_SOURCE_DEFAULT);
}

Test(config, set_errors)
{
    expect_set_error("store.map_sise=1M",
                     "--set store.map_sise: unknown key (did you mean 'store.map_size'?)");
    expect_set_error("nonsense=1", "--set nonsense: unknown key");
    expect_set_error("store=1M", "--set store: a section, not a key; set its keys one by one, e.g. "
                                 "store.map_size");
    expect_set_error("log.level", "--set log.level: expected KEY=VALUE");
    expect_set_error("=debug", "--set =debug: expected KEY=VALUE");
    expect_set_error("log.level=", "--set log.level: missing value");
    expect_set_error("log.level=loud",
                     "--set log.level: bad log level 'loud': expected debug, info, warning or "
                     "error");
    expect_set_error("store.map_size=-1",
                     "--set store.map_size: bad size '-1': expected an integer of bytes with an "
                     "optional K, M, G, T, KiB, MiB, GiB or TiB suffix (powers of 1024)");
    expect_set_error("store.map_size=1.5G",
                     "--set store.map_size: bad size '1.5G': expected an integer of bytes with an "
                     "optional K, M, G, T, KiB, MiB, GiB or TiB suffix (powers of 1024)");
    expect_set_error("store.map_size_max=99999999999999999999",
                     "--set store.map_size_max: size '99999999999999999999' is too large (at most "
                     "18446744073709551615 bytes)");
    expect_set_error("store.map_size_max=16777216T",
                     "--set store.map_size_max: size '16777216T' is too large (at most "
                     "18446744073709551615 bytes)");
    expect_set_error("limits.read_budget=4294967296",
                     "--set limits.read_budget: bad number '4294967296': expected an integer from "
                     "0 to 4294967295");
    expect_set_error("testing.allow_clock=1",
                     "--set testing.allow_clock: bad boolean '1': expected true or false");
    /* Nothing of the refused assignments stuck. */
    cr_assert_str_eq(cfg->log.level, "info");
    cr_assert_eq(cfg->store.map_size, 64ull << 20);
    cr_assert_eq(cfg->testing.allow_clock, false);
}

/* --set applies over a file, as the command line does after -c. */
Test(config, set_after_file)
{
    const char *path = write_file("c.yaml", "log:\n  level: error\n");
    cr_assert_eq(config_load_file(cfg, path, err, sizeof err), 0, "%s", err);
    must_set("log.level=debug");
    cr_assert_str_eq(cfg->log.level, "debug");
    cr_assert_str_eq(cfg->source, path);
}

/* ---- cross-field checks ---- */

Test(config, validate_sizes)
{
    must_set("store.map_size=32K");
    expect_invalid("store.map_size (32KiB) is below the minimum of 64KiB");
    must_set("store.map_size=32GiB");
    expect_invalid("store.map_size (32GiB) is larger than store.map_size_max (16GiB)");
    must_set("store.map_size_max=32GiB");
    cr_assert_eq(config_validate(cfg, err, sizeof err), 0, "%s", err);
    must_set("store.dead_letter_max=0");
    expect_invalid("store.dead_letter_max must be at least 1");
}

Test(config, validate_limits)
{
    must_set("limits.max_message=2MiB");
    expect_invalid("limits.max_message (2MiB) is larger than limits.max_frame (1MiB)");
    must_set("limits.max_message=100");
    expect_invalid("limits.max_message (100) is below the minimum of 256");
    must_set("limits.max_message=256");
    must_set("limits.batch_max=0");
    expect_invalid("limits.batch_max must be at least 1");
    must_set("limits.batch_max=1");
    must_set("limits.read_budget=0");
    expect_invalid("limits.read_budget must be at least 1");
    must_set("limits.read_budget=1");
    cr_assert_eq(config_validate(cfg, err, sizeof err), 0, "%s", err);
}

Test(config, validate_endpoints)
{
    must_set("endpoints.tasks=127.0.0.1:7403");
    expect_invalid("endpoints.tasks: '127.0.0.1:7403' is not a ZeroMQ endpoint "
                   "(TRANSPORT://ADDRESS, e.g. tcp://127.0.0.1:7401)");
    must_set("endpoints.tasks=tcp://127.0.0.1:7401");
    expect_invalid("endpoints.ingest and endpoints.tasks are both 'tcp://127.0.0.1:7401'");
    must_set("endpoints.tasks=tcp://127.0.0.1:7403");
    /* Ports chosen by the kernel may repeat: the end-to-end harness binds all four so. */
    const char *names[] = {"ingest", "publish", "tasks", "alerts"};
    for (size_t i = 0; i < 4; i++) {
        char set[64];
        snprintf(set, sizeof set, "endpoints.%s=tcp://127.0.0.1:%s", names[i], i < 2 ? "*" : "0");
        must_set(set);
    }
    cr_assert_eq(config_validate(cfg, err, sizeof err), 0, "%s", err);
    must_set("endpoints.alerts=tcp://127.0.0.1:*");
    cr_assert_eq(config_validate(cfg, err, sizeof err), 0, "%s", err);
    must_set("endpoints.http=localhost");
    expect_invalid("endpoints.http: 'localhost' is not HOST:PORT (e.g. 127.0.0.1:7480)");
    must_set("endpoints.http=:7480");
    expect_invalid("endpoints.http: ':7480' is not HOST:PORT (e.g. 127.0.0.1:7480)");
    must_set("endpoints.http=localhost:65536");
    expect_invalid("endpoints.http: 'localhost:65536' is not HOST:PORT (e.g. 127.0.0.1:7480)");
    must_set("endpoints.http=localhost:0");
    cr_assert_eq(config_validate(cfg, err, sizeof err), 0, "%s", err);
}

Test(config, validate_fields_set_directly)
{
    free(cfg->log.level);
    cfg->log.level = strdup("chatty");
    expect_invalid("log.level: bad log level 'chatty': expected debug, info, warning or error");
    free(cfg->state_dir);
    cfg->state_dir = strdup("");
    expect_invalid("state_dir: missing value");
}

/* ---- output ---- */

Test(config, print_defaults)
{
    char *text = NULL;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    config_print(cfg, out);
    fclose(out);
    cr_assert_not_null(strstr(text, "# gridbusd configuration in effect; source: (embedded "
                                    "default)\n"));
    cr_assert_not_null(strstr(text, "\nstate_dir: \"var\"  # "));
    cr_assert_not_null(strstr(text, "\nendpoints:\n  ingest: \"tcp://127.0.0.1:7401\"  # "));
    cr_assert_not_null(strstr(text, "\nstore:\n  map_size: 64MiB  # "));
    cr_assert_not_null(strstr(text, "\n  map_size_max: 16GiB  # "));
    cr_assert_not_null(strstr(text, "\n  dead_letter_max: 10000  # "));
    cr_assert_not_null(strstr(text, "\nlimits:\n  max_message: 64KiB  # "));
    cr_assert_not_null(strstr(text, "\n  max_frame: 1MiB  # "));
    cr_assert_not_null(strstr(text, "\nlog:\n  level: \"info\"  # "));
    cr_assert_not_null(strstr(text, "\ntesting:\n  allow_clock: false  # "));
    free(text);
}

/* What config_print writes, config_load_file reads back to the same values. */
Test(config, print_reads_back)
{
    must_set("state_dir=/srv/\"quoted\" \\dir\t岱东");
    must_set("directory=/etc/gridbus/daidong.yaml");
    must_set("store.map_size=1000000");
    must_set("store.map_size_max=3GiB");
    must_set("limits.max_message=1536");
    must_set("log.level=debug");
    must_set("testing.allow_clock=true");
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/printed.yaml", dir);
    FILE *out = fopen(path, "w");
    cr_assert_not_null(out);
    config_print(cfg, out);
    fclose(out);

    config_t *back = config_new();
    cr_assert_eq(config_load_file(back, path, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(back->state_dir, cfg->state_dir);
    cr_assert_str_eq(back->directory, cfg->directory);
    cr_assert_str_eq(back->endpoints.alerts, cfg->endpoints.alerts);
    cr_assert_eq(back->store.map_size, 1000000);
    cr_assert_eq(back->store.map_size_max, 3ull << 30);
    cr_assert_eq(back->limits.max_message, 1536);
    cr_assert_str_eq(back->log.level, "debug");
    cr_assert_eq(back->testing.allow_clock, true);
    config_destroy(&back);
}

Test(config, dup_is_deep)
{
    must_set("log.level=error");
    config_t *copy = config_dup(cfg);
    cr_assert_not_null(copy);
    cr_assert_str_eq(copy->log.level, "error");
    cr_assert_neq(copy->log.level, cfg->log.level);
    must_set("log.level=debug");
    cr_assert_str_eq(copy->log.level, "error");
    config_destroy(&copy);
    cr_assert_null(copy);
    config_destroy(&copy); /* destroying NULL is harmless */
}
