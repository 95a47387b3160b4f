/*
 * routes_fixture.h: what the two route test files share: a temp folder per test, a small
 * community (BASE) whose routes a test appends and loads as the daemon does, the shipped
 * Daidong sample, and the assertion that a routes text is refused with a given
 * "FILE:LINE:COL: message". Header-only, like the test files' other fixtures: one Criterion
 * binary per test file.
 */
#ifndef GB_TEST_ROUTES_FIXTURE_H
#define GB_TEST_ROUTES_FIXTURE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "event.h"
#include "routes.h"
#include "wire.h"

#define AT INT64_C(1795737600000) /* 2026-11-27T00:00:00Z */

static char tmpdir[PATH_MAX];
static char path[PATH_MAX + 32];
static char err[1024];
static directory_t *d;
static routes_t *rt;
static wire_decoder_t *dec;
static msgpack_sbuffer sb; /* the last event's bytes: decoded strings point into them */

static inline void setup(void)
{
    char tmpl[] = "/tmp/gb_routes.XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    cr_assert_not_null(realpath(tmpl, tmpdir));
    snprintf(path, sizeof path, "%s/community.yaml", tmpdir);
    err[0] = '\0';
    dec = wire_decoder_new();
    cr_assert_not_null(dec);
    msgpack_sbuffer_init(&sb);
}

static inline int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static inline void teardown(void)
{
    routes_destroy(&rt);
    directory_destroy(&d);
    wire_decoder_destroy(&dec);
    msgpack_sbuffer_destroy(&sb);
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- loading ---- */

static inline void load_sample(void)
{
    const char *env = getenv("GRIDBUS_CONF");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/daidong.yaml", env && *env ? env : "conf");
    d = directory_load(p, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    rt = routes_load(directory_section(d, "routes"), directory_path(d), d, err, sizeof err);
    cr_assert_not_null(rt, "%s", err);
}

/* A small community, lines 1-9; the routes a case appends start at line 10. */
#define BASE                                                                                       \
    "community: {id: test, name: 测试社区, subdistrict: 测试街道}\n" /* 1 */                       \
    "grids: [{id: g1, name: 一网格}, {id: g2, name: 二网格}]\n"      /* 2 */                       \
    "members:\n"                                                     /* 3 */                       \
    "  - {id: hb, name: 乙, roles: [home_helper], grids: [g1]}\n"    /* 4 */                       \
    "  - {id: ha, name: 甲, roles: [home_helper], grids: [g1]}\n"    /* 5 */                       \
    "  - {id: hc, name: 丙, roles: [home_helper], grids: [g2]}\n"    /* 6 */                       \
    "  - {id: lead1, name: 丁, roles: [grid_leader], grids: [g1]}\n" /* 7 */                       \
    "  - {id: boss, name: 戊, roles: [convener, committee]}\n"       /* 8 */                       \
    "routes:\n"                                                      /* 9 */

#define DEFAULT_ROUTE "  - {name: default, match: {}, role: convener}\n"

/* Loads BASE + text; returns the routes or NULL with err set. */
static inline routes_t *load_text(const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(BASE, f);
    fputs(text, f);
    fclose(f);
    directory_destroy(&d);
    routes_destroy(&rt);
    d = directory_load(path, err, sizeof err);
    cr_assert_not_null(d, "test bug: the directory itself is refused: %s", err);
    rt = routes_load(directory_section(d, "routes"), directory_path(d), d, err, sizeof err);
    return rt;
}

static inline void load_ok(const char *text)
{
    cr_assert_not_null(load_text(text), "refused: %s\n%s", err, text);
}

/* routes text must be refused with "PATH:" + expected. */
static inline void expect_error(const char *text, const char *expected)
{
    char want[PATH_MAX + 2048];
    snprintf(want, sizeof want, "%s:%s", path, expected);
    cr_assert_null(load_text(text), "accepted:\n%s", text);
    cr_expect_str_eq(err, want, "for:\n%s got:  %s\nwant: %s", text, err, want);
}

#endif
