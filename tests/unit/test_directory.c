/*
 * test_directory: the community directory: the shipped Daidong sample, lookups, and every
 * refusal with its file:line:column.
 *
 * The sample's counts are the seed report's (DOMAIN.md), so they are asserted one by one:
 * if the file drifts from the report, this test says where. Error cases are small files
 * written into a mkdtemp folder, each a valid base with one thing wrong.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"

static char dir[PATH_MAX];
static char err[1024];
static directory_t *d;

static void setup(void)
{
    char tmpl[] = "/tmp/gb_directory.XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    cr_assert_not_null(realpath(tmpl, dir));
    err[0] = '\0';
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    directory_destroy(&d);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(directory, .init = setup, .fini = teardown);

static void load_sample(void)
{
    const char *env = getenv("GRIDBUS_CONF");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/daidong.yaml", env && *env ? env : "conf");
    d = directory_load(path, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
}

static const char *write_file(const char *text)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/community.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A small valid directory: lines 1-10, members last so cases can append to them. */
#define BASE                                                                                       \
    "community: {id: test, name: 测试社区, subdistrict: 测试街道}\n" /* 1 */                       \
    "grids:\n"                                                       /* 2 */                       \
    "  - {id: g1, name: 一网格}\n"                                   /* 3 */                       \
    "  - {id: g2, name: 二网格}\n"                                   /* 4 */                       \
    "compounds:\n"                                                   /* 5 */                       \
    "  - {id: c1, name: 一小区, grid: g1}\n"                         /* 6 */                       \
    "  - {id: c2, name: 二小区, grid: g2}\n"                         /* 7 */                       \
    "members:\n"                                                     /* 8 */                       \
    "  - {id: a, name: 甲, roles: [grid_leader], grids: [g1]}\n"     /* 9 */                       \
    "  - {id: b, name: 乙, roles: [convener]}\n"                     /* 10 */

/* text must be refused with "PATH:" + expected. */
static void expect_error(const char *text, const char *expected)
{
    const char *path = write_file(text);
    char want[2048];
    snprintf(want, sizeof want, "%s:%s", path, expected);
    d = directory_load(path, err, sizeof err);
    cr_assert_null(d, "accepted:\n%s", text);
    cr_assert_str_eq(err, want);
}

static size_t count_role(const char *role)
{
    size_t n = 0;
    for (size_t i = 0; i < directory_member_count(d); i++)
        n += directory_member_has_role(directory_member_at(d, i), role);
    return n;
}

/* Members with role who work on grid. */
static size_t count_on_grid(const char *role, const char *grid)
{
    size_t n = 0;
    for (size_t i = 0; i < directory_member_count(d); i++) {
        const directory_member_t *m = directory_member_at(d, i);
        n += directory_member_has_role(m, role) && directory_member_serves(m, grid, strlen(grid));
    }
    return n;
}

static const directory_member_t *member(const char *id)
{
    return directory_member(d, id, strlen(id));
}

/* ---- the shipped sample ---- */

Test(directory, sample_community)
{
    load_sample();
    cr_assert_str_eq(directory_community_id(d), "daidong");
    cr_assert_str_eq(directory_community_name(d), "岱东社区");
    cr_assert_str_eq(directory_subdistrict(d), "岱庙街道");
    cr_assert_str_eq(directory_attribute(d, "entrances"), "35");
    cr_assert_str_eq(directory_attribute(d, "workforce"), "120");
    cr_assert_str_eq(directory_attribute(d, "committee_members"), "27");
    cr_assert_str_eq(directory_attribute(d, "local_organisations"), "39");
    cr_assert_str_eq(directory_attribute(d, "double_report_party_members"), "109");
    cr_assert_str_eq(directory_attribute(d, "property_company"), "鸿瑞物业");
    cr_assert_str_eq(directory_attribute(d, "property_fee_fen_per_household_month"), "1500");
    cr_assert_str_eq(directory_attribute(d, "property_fee_exempt_households"), "46");
    cr_assert_str_eq(directory_attribute(d, "property_subsidy_fen_per_year"), "10000000");
    cr_assert_null(directory_attribute(d, "nonexistent"));
}

Test(directory, sample_grids_and_compounds)
{
    load_sample();
    cr_assert_eq(directory_grid_count(d), 3);
    cr_assert_eq(directory_compound_count(d), 6);
    const char *grids[] = {"g1", "g2", "g3"};
    for (size_t i = 0; i < 3; i++) {
        const directory_grid_t *g = directory_grid(d, grids[i], 2);
        cr_assert_not_null(g, "%s", grids[i]);
        cr_assert_eq(g, directory_grid_at(d, i));
        cr_assert_eq(g->ncompounds, 2, "%s has %zu compounds", g->id, g->ncompounds);
        for (size_t c = 0; c < g->ncompounds; c++) {
            const directory_compound_t *cp = directory_compound(d, g->compounds[c], 2);
            cr_assert_not_null(cp);
            cr_assert_str_eq(cp->grid, g->id);
        }
    }
    cr_assert_str_eq(directory_compound(d, "c1", 2)->grid, "g1");
    cr_assert_str_eq(directory_compound(d, "c6", 2)->grid, "g3");
}

/* The "1+2+N" workforce as the report counts it. */
Test(directory, sample_roles)
{
    load_sample();
    cr_assert_eq(count_role("convener"), 1);
    cr_assert_eq(count_role("cadre"), 3);
    cr_assert_eq(count_role("service_hall"), 1);
    cr_assert_eq(count_role("grid_leader") + count_role("grid_member"), 5);
    cr_assert_eq(count_role("grid_leader"), 3);
    cr_assert_eq(count_role("city_management"), 3);
    cr_assert_eq(count_role("police"), 3);
    cr_assert_eq(count_role("firefighter"), 1);
    cr_assert_eq(count_role("home_helper"), 9);
    cr_assert_eq(count_role("property_manager"), 1);
    cr_assert_eq(count_role("finance"), 1);
    cr_assert_eq(count_role("discipline_commissioner"), 1);
    cr_assert_eq(count_role("discipline_secretary"), 1);
    cr_assert_eq(directory_member_count(d), 30);
    /* Every grid has its own cadre, leader, officer, policeman, firefighter and 3 helpers, so
     * routing always finds someone on the spot. */
    const char *grids[] = {"g1", "g2", "g3"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(count_on_grid("cadre", grids[i]), 1, "%s", grids[i]);
        cr_assert_eq(count_on_grid("grid_leader", grids[i]), 1, "%s", grids[i]);
        cr_assert_geq(count_on_grid("grid_member", grids[i]), 1, "%s", grids[i]);
        cr_assert_eq(count_on_grid("city_management", grids[i]), 1, "%s", grids[i]);
        cr_assert_eq(count_on_grid("police", grids[i]), 1, "%s", grids[i]);
        cr_assert_eq(count_on_grid("firefighter", grids[i]), 1, "%s", grids[i]);
        cr_assert_eq(count_on_grid("home_helper", grids[i]), 3, "%s", grids[i]);
        cr_assert_eq(count_on_grid("convener", grids[i]), 1, "%s", grids[i]);
    }
}

Test(directory, sample_named_people)
{
    load_sample();
    const directory_member_t *m = member("li.qiang");
    cr_assert_not_null(m);
    cr_assert_str_eq(m->name, "李强");
    cr_assert(directory_member_has_role(m, "convener"));
    cr_assert_not(directory_member_has_role(m, "cadre"));
    cr_assert_eq(m->ngrids, 3);
    const char *cadres[][3] = {
        {"gong.xiujuan", "巩秀娟", "g1"}, {"zhang.teng", "张腾", "g2"}, {"li.zhen", "李真", "g3"}};
    for (size_t i = 0; i < 3; i++) {
        m = member(cadres[i][0]);
        cr_assert_not_null(m, "%s", cadres[i][0]);
        cr_assert_str_eq(m->name, cadres[i][1]);
        cr_assert(directory_member_has_role(m, "cadre"));
        cr_assert_eq(m->ngrids, 1);
        cr_assert_str_eq(m->grids[0], cadres[i][2]);
    }
    m = member("su.yuanyuan");
    cr_assert_not_null(m);
    cr_assert_str_eq(m->name, "苏媛媛");
    cr_assert(directory_member_has_role(m, "discipline_secretary"));
    m = member("hongrui.manager");
    cr_assert_not_null(m);
    cr_assert_str_eq(m->org, "鸿瑞物业");
    cr_assert(directory_member_has_role(m, "property_manager"));
    cr_assert(directory_member_has_role(m, "committee"));
    /* The e2e tests publish as li.qiang on g1 and as the helpers. */
    cr_assert_not_null(member("helper.g1.1"));
    cr_assert_not_null(member("helper.g3.3"));
}

/* ---- lookups ---- */

Test(directory, lookups_hit_and_miss)
{
    load_sample();
    const char buf[] = "li.qiangXYZ"; /* ids arrive unterminated, inside a bigger buffer */
    cr_assert_not_null(directory_member(d, buf, 8));
    cr_assert_str_eq(directory_member(d, buf, 8)->id, "li.qiang");
    cr_assert_null(directory_member(d, buf, 7)); /* "li.qian" */
    cr_assert_null(directory_member(d, buf, 9)); /* "li.qiangX" */
    cr_assert_null(directory_member(d, buf, 0));
    cr_assert_null(directory_member(d, "li.qiang\0", 9)); /* an embedded NUL never matches */
    char longid[80];
    memset(longid, 'a', sizeof longid);
    cr_assert_null(directory_member(d, longid, sizeof longid));
    cr_assert_null(directory_member(d, "aaa", 3));      /* before the first */
    cr_assert_null(directory_member(d, "zzz", 3));      /* after the last */
    cr_assert_null(directory_member(d, "LI.QIANG", 8)); /* ids are case-sensitive */
    cr_assert_not_null(directory_grid(d, "g2", 2));
    cr_assert_null(directory_grid(d, "g4", 2));
    cr_assert_null(directory_grid(d, "g", 1));
    cr_assert_null(directory_grid(d, "li.qiang", 8)); /* namespaces are separate */
    cr_assert_null(directory_compound(d, "c7", 2));
}

/* Every member is found by its own id, and the array is strictly ordered. */
Test(directory, every_member_found)
{
    load_sample();
    for (size_t i = 0; i < directory_member_count(d); i++) {
        const directory_member_t *m = directory_member_at(d, i);
        cr_assert_eq(member(m->id), m, "%s", m->id);
        if (i > 0)
            cr_assert_lt(strcmp(directory_member_at(d, i - 1)->id, m->id), 0);
        cr_assert_geq(m->nroles, 1, "%s", m->id);
    }
    cr_assert_null(directory_member_at(d, directory_member_count(d)));
    cr_assert_null(directory_grid_at(d, 3));
    cr_assert_null(directory_compound_at(d, 6));
}

Test(directory, serves)
{
    d = directory_load(write_file(BASE), err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    const directory_member_t *a = member("a"), *b = member("b");
    cr_assert(directory_member_serves(a, "g1", 2));
    cr_assert_not(directory_member_serves(a, "g2", 2));
    cr_assert_not(directory_member_serves(a, "g10", 2 + 1));
    /* no grids: community-wide */
    cr_assert_eq(b->ngrids, 0);
    cr_assert(directory_member_serves(b, "g2", 2));
    cr_assert_null(b->org);
    size_t n;
    const char *const *roles = directory_roles(&n);
    cr_assert_eq(n, 14);
    cr_assert_str_eq(roles[0], "convener");
}

Test(directory, sections_kept_for_routing)
{
    d = directory_load(write_file(BASE "calendar:\n  time_zone: Asia/Shanghai\n"
                                       "routes:\n  - {match: {type: repair.requested}}\n"),
                       err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    cr_assert_not_null(directory_section(d, "calendar"));
    cr_assert_not_null(directory_section(d, "routes"));
    cr_assert_null(directory_section(d, "members"));
    cr_assert_str_eq(directory_path(d), write_file(BASE));
    directory_destroy(&d);
    cr_assert_null(d);
    directory_destroy(&d);

    d = directory_load(write_file(BASE), err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    cr_assert_null(directory_section(d, "calendar"));
}

/* ---- refusals ---- */

Test(directory, duplicate_ids)
{
    expect_error(BASE "  - {id: a, name: 丙, roles: [police]}\n",
                 "11:10: duplicate member id 'a' (first defined at line 9)");
    expect_error("community: {id: t, name: t, subdistrict: s}\n"
                 "grids:\n"
                 "  - id: g1\n"
                 "    name: 一\n"
                 "  - id: g1\n"
                 "    name: 二\n"
                 "members: []\n",
                 "5:9: duplicate grid id 'g1' (first defined at line 3)");
    expect_error("community: {id: t, name: t, subdistrict: s}\n"
                 "grids: [{id: g1, name: 一}]\n"
                 "compounds:\n"
                 "  - {id: c1, name: 一, grid: g1}\n"
                 "  - {id: c1, name: 二, grid: g1}\n"
                 "members: []\n",
                 "5:10: duplicate compound id 'c1' (first defined at line 4)");
}

Test(directory, unknown_grid_references)
{
    expect_error(BASE "  - {id: c, name: 丙, roles: [police], grids: [g1, g9]}\n",
                 "11:51: member 'c': unknown grid 'g9'");
    expect_error("community: {id: t, name: t, subdistrict: s}\n"
                 "grids: [{id: g1, name: 一}]\n"
                 "compounds:\n"
                 "  - {id: c1, name: 一, grid: g3}\n"
                 "members: []\n",
                 "4:29: compound 'c1': unknown grid 'g3'");
    expect_error(BASE "  - {id: c, name: 丙, roles: [police], grids: [g1, g1]}\n",
                 "11:51: member 'c': grid 'g1' listed twice");
}

Test(directory, roles_checked)
{
    expect_error(BASE "  - {id: c, name: 丙, roles: [grid_leder]}\n",
                 "11:30: member 'c': unknown role 'grid_leder' (did you mean 'grid_leader'?)");
    expect_error(BASE "  - {id: c, name: 丙, roles: [mayor]}\n",
                 "11:30: member 'c': unknown role 'mayor'");
    expect_error(BASE "  - {id: c, name: 丙, roles: [police, police]}\n",
                 "11:38: member 'c': role 'police' listed twice");
    expect_error(BASE "  - {id: c, name: 丙, roles: []}\n",
                 "11:29: member 'c': roles: at least one role is needed");
    expect_error(BASE "  - {id: c, name: 丙, roles: police}\n",
                 "11:29: member 'c': roles: expected a list, got a single value");
    expect_error(BASE "  - {id: c, name: 丙}\n", "11:5: member: missing 'roles'");
}

Test(directory, ids_checked)
{
    expect_error(BASE "  - {id: li qiang, name: 丙, roles: [police]}\n",
                 "11:10: bad member id 'li qiang': expected 1 to 64 of A-Z a-z 0-9 . _ : -");
    expect_error(BASE "  - {id: 李强, name: 丙, roles: [police]}\n",
                 "11:10: bad member id '李强': expected 1 to 64 of A-Z a-z 0-9 . _ : -");
    expect_error(BASE "  - {id: task/g1, name: 丙, roles: [police]}\n",
                 "11:10: bad member id 'task/g1': expected 1 to 64 of A-Z a-z 0-9 . _ : -");
    expect_error(BASE
                 "  - {id: "
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, name: 丙, "
                 "roles: [police]}\n",
                 "11:10: bad member id "
                 "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': expected 1 "
                 "to 64 of A-Z a-z 0-9 . _ : -");
    expect_error(BASE "  - {id: '', name: 丙, roles: [police]}\n",
                 "11:11: member id: missing value");
    /* "-" alone stands for nobody in task topics and loads (parked, grid-less tasks) */
    expect_error(BASE "  - {id: '-', name: 丙, roles: [police]}\n",
                 "11:11: bad member id '-': reserved, it stands for none in task topics");
    expect_error("community: {id: c, name: t, subdistrict: s}\ngrids: [{id: '-', name: "
                 "一}]\nmembers: []\n",
                 "2:15: bad grid id '-': reserved, it stands for none in task topics");
    expect_error("community: {id: 'a b', name: t, subdistrict: s}\ngrids: [{id: g1, name: "
                 "一}]\nmembers: []\n",
                 "1:18: bad community id 'a b': expected 1 to 64 of A-Z a-z 0-9 . _ : -");
    /* The longest id allowed is 64 bytes, and ':' '-' '_' '.' are fine. */
    d = directory_load(write_file(BASE "  - {id: "
                                       "a:b-c_d.eaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                       "aaaaaaaaaaaaaa, name: 丙, roles: [police]}\n"),
                       err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    const char *id64 = "a:b-c_d.eaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    cr_assert_eq(strlen(id64), 64);
    cr_assert_not_null(directory_member(d, id64, 64));
}

Test(directory, keys_checked)
{
    expect_error(BASE "calender: {}\n",
                 "11:1: directory: unknown key 'calender' (did you mean 'calendar'?)");
    expect_error(BASE "  - {id: c, name: 丙, rolse: [police]}\n",
                 "11:22: member: unknown key 'rolse' (did you mean 'roles'?)");
    expect_error("community: {id: t, name: t, subdistrict: s, town: x}\ngrids: [{id: g1, name: "
                 "一}]\nmembers: []\n",
                 "1:45: community: unknown key 'town'");
    expect_error(BASE "  - {id: c, roles: [police]}\n", "11:5: member: missing 'name'");
    expect_error("grids: [{id: g1, name: 一}]\nmembers: []\n",
                 "1:1: directory: missing 'community'");
    expect_error("community: {id: t, name: t, subdistrict: s}\ngrids: [{id: g1, name: 一}]\n"
                 "members:\n",
                 "1:1: directory: missing 'members'");
    expect_error("community:\n  id: t\n  name: t\n  subdistrict: s\n  attributes:\n"
                 "    entrances: 35\n    fee:\ngrids: [{id: g1, name: 一}]\nmembers: []\n",
                 "7:5: community.attributes.fee: missing value");
    expect_error("community: {id: t, name: t, subdistrict: s}\ngrids: []\nmembers: []\n",
                 "2:8: grids: at least one grid is needed");
    expect_error("community: {id: t, name: t, subdistrict: s, attributes: {a: {b: 1}}}\ngrids: "
                 "[{id: g1, name: 一}]\nmembers: []\n",
                 "1:61: community.attributes.a: expected a single value");
    expect_error(BASE "  - {id: c, name: \"丙\\n丁\", roles: [police]}\n",
                 "11:20: member 'c': name: contains a control character");
}

Test(directory, files_checked)
{
    expect_error("# nothing yet\n", " empty file: expected community, grids and members");
    expect_error("- a\n- b\n", "1:1: directory: expected a mapping, got a list");
    expect_error(BASE "  - {id: c, name: 丙, roles: [police]\n",
                 "12:1: missing comma in flow mapping");
    expect_error(BASE "  - {id: c, name: \xe4\xb8, roles: [police]}\n", "11:19: not valid UTF-8");

    char path[PATH_MAX + 32], want[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/none.yaml", dir);
    cr_assert_null(directory_load(path, err, sizeof err));
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    cr_assert_str_eq(err, want);
}
