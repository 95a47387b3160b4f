/*
 * bench_events.h: the event mix every gridbus benchmark sends or stores, so the daemon
 * runs and the ceilings beside them handle the same bytes.
 *
 * A realistic day in the Daidong sample: half the events are door-to-door visits (常叩门),
 * a quarter patrol findings, then repair requests and ledger entries; the reporters are
 * the directory's people in the roles that file each kind, spread over the three grids;
 * texts vary in length as field notes do. Canonically encoded (as the daemon logs them)
 * the mix averages about 250 bytes an event (with the 8-byte receive time of a log record). Event
 * number i of publisher p in run tag has the id "b<tag>-<p>-<i>", unique per run, so runs on one
 * daemon never collide.
 */
#ifndef GB_BENCH_EVENTS_H
#define GB_BENCH_EVENTS_H

#include <inttypes.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>

#include "wire.h"

enum { BENCH_VISIT, BENCH_PATROL, BENCH_REPAIR, BENCH_LEDGER };

/* 20 slots: 10 visits, 5 patrol findings, 3 repair requests, 2 ledger entries. */
static const unsigned char bench_mix[20] = {0, 0, 1, 0, 2, 0, 1, 0, 3, 0,
                                            0, 1, 0, 2, 0, 1, 0, 2, 0, 3};

static const char *const bench_type_names[] = {"visit.logged", "patrol.issue_found",
                                               "repair.requested", "ledger.entry_submitted"};

/* Per grid (g1, g2, g3): who visits, who files repairs, who patrols. */
static const char *const bench_visitors[3][3] = {{"chen.jing", "zhou.yang", "gong.xiujuan"},
                                                 {"zhao.lei", "zhou.yang", "zhang.teng"},
                                                 {"sun.fang", "wu.ting", "li.zhen"}};
static const char *const bench_helpers[3][3] = {{"helper.g1.1", "helper.g1.2", "helper.g1.3"},
                                                {"helper.g2.1", "helper.g2.2", "helper.g2.3"},
                                                {"helper.g3.1", "helper.g3.2", "helper.g3.3"}};
static const char *const bench_patrols[3][3] = {{"citymgmt.g1", "police.g1", "fire.1"},
                                                {"citymgmt.g2", "police.g2", "fire.1"},
                                                {"citymgmt.g3", "police.g3", "fire.1"}};
static const char *const bench_grids[3] = {"g1", "g2", "g3"};
static const char *const bench_compounds[3][2] = {
    {"第一小区", "第二小区"}, {"第三小区", "第四小区"}, {"第五小区", "第六小区"}};

static const char *const bench_summaries[4] = {
    "常叩门: 独居老人, 身体尚可",
    "常叩门: 独居老人, 身体尚可, 需要换灯泡, 已约周六上门",
    "入户走访: 家中两位老人, 子女在外地, 血压偏高, 已提醒按时服药并登记随访",
    "走访困难家庭: 物业费减免已落实, 孩子上学交通不便, 希望社区协调校车站点, 下周回访",
};
static const char *const bench_repairs[3] = {
    "厨房水管漏水, 需要上门维修",
    "楼道灯不亮, 老人夜里上下楼不便",
    "燃气灶打不着火, 住户为独居老人, 请尽快安排",
};
static const char *const bench_findings[3] = {
    "楼道堆放杂物, 堵塞消防通道",
    "电动车在楼道内充电",
    "小区东门外占道经营, 影响通行, 已劝离一次",
};
static const char *const bench_repair_cats[3] = {"water", "electric", "gas"};
static const char *const bench_patrol_cats[3] = {"fire_hazard", "fire_hazard", "city_appearance"};
static const char *const bench_severities[3] = {"medium", "high", "low"};

static inline void bench_event_id(char *buf, size_t len, unsigned tag, uint32_t pub, uint64_t i)
{
    snprintf(buf, len, "b%u-%u-%" PRIu64, tag, pub, i);
}

static inline void bench_kv(msgpack_packer *pk, const char *k, const char *v)
{
    wire_pack_cstr(pk, k), wire_pack_cstr(pk, v);
}

static inline void bench_pack_visit(msgpack_packer *pk, int g, uint64_t n, const char *household)
{
    bool followup = n % 3 == 0;
    msgpack_pack_map(pk, followup ? 4 : 2);
    bench_kv(pk, "household", household);
    bench_kv(pk, "summary", bench_summaries[n % 4]);
    if (followup) {
        wire_pack_cstr(pk, "concerns"), msgpack_pack_array(pk, 2);
        wire_pack_cstr(pk, "health"), wire_pack_cstr(pk, g == 0 ? "housing" : "income");
        wire_pack_cstr(pk, "needs_followup"), msgpack_pack_true(pk);
    }
}

static inline void bench_pack_repair(msgpack_packer *pk, uint64_t n, const char *household)
{
    msgpack_pack_map(pk, 5);
    bench_kv(pk, "household", household);
    bench_kv(pk, "category", bench_repair_cats[n % 3]);
    bench_kv(pk, "urgency", n % 2 ? "normal" : "high");
    bench_kv(pk, "description", bench_repairs[n % 3]);
    wire_pack_cstr(pk, "fee_waived"), msgpack_pack_true(pk);
}

static inline void bench_pack_patrol(msgpack_packer *pk, uint64_t n)
{
    msgpack_pack_map(pk, n % 2 ? 3 : 4);
    bench_kv(pk, "category", bench_patrol_cats[n % 3]);
    bench_kv(pk, "severity", bench_severities[n % 3]);
    bench_kv(pk, "description", bench_findings[n % 3]);
    if (n % 2 == 0)
        bench_kv(pk, "photo", "photos/2026/11/27/patrol-0417.jpg");
}

static inline void bench_pack_ledger(msgpack_packer *pk, const char *id, uint64_t n)
{
    msgpack_pack_map(pk, 6);
    bench_kv(pk, "entry", id);
    bench_kv(pk, "direction", "expense");
    wire_pack_cstr(pk, "amount_fen"), msgpack_pack_int64(pk, 15000 + (int64_t)(n % 97) * 100);
    bench_kv(pk, "category", n % 2 ? "property_subsidy" : "shared_tools");
    bench_kv(pk, "counterparty", "鸿瑞物业");
    wire_pack_cstr(pk, "approved_by"), msgpack_pack_array(pk, 1);
    wire_pack_cstr(pk, "li.qiang");
}

/* The envelope's by, grid and place, which depend on the kind. */
static inline void bench_pack_envelope(msgpack_packer *pk, int kind, int g, uint64_t n,
                                       const char *place)
{
    const char *by = kind == BENCH_VISIT    ? bench_visitors[g][n % 3]
                     : kind == BENCH_REPAIR ? bench_helpers[g][n % 3]
                     : kind == BENCH_PATROL ? bench_patrols[g][n % 3]
                                            : "xu.na";
    bench_kv(pk, "by", by);
    if (kind != BENCH_LEDGER)
        bench_kv(pk, "grid", bench_grids[g]);
    bench_kv(pk, "place", place);
}

/* Packs event i of publisher pub in run tag, which happened at (ms since the epoch). */
static inline void bench_pack_event(msgpack_packer *pk, unsigned tag, uint32_t pub, uint64_t i,
                                    int64_t at)
{
    char id[64], household[24], place[64];
    int kind = bench_mix[i % 20], g = (int)((i / 20 + pub) % 3);
    uint64_t n = i / 7 + pub;
    int c = (int)(n % 2), building = (int)(n % 12) + 1, room = (int)(n % 6) * 100 + 101;
    bench_event_id(id, sizeof id, tag, pub, i);
    snprintf(household, sizeof household, "c%d-%d-%d", g * 2 + c + 1, building, room);
    snprintf(place, sizeof place, "岱东社区 %s %d号楼 %d单元", bench_compounds[g][c], building,
             (int)(n % 3) + 1);
    msgpack_pack_map(pk, kind == BENCH_LEDGER ? 7 : 8);
    wire_pack_cstr(pk, "v"), msgpack_pack_int(pk, 1);
    bench_kv(pk, "id", id);
    bench_kv(pk, "type", bench_type_names[kind]);
    wire_pack_cstr(pk, "at"), msgpack_pack_int64(pk, at - (int64_t)(n % 3600) * 1000);
    bench_pack_envelope(pk, kind, g, n, place);
    wire_pack_cstr(pk, "body");
    if (kind == BENCH_VISIT)
        bench_pack_visit(pk, g, n, household);
    else if (kind == BENCH_REPAIR)
        bench_pack_repair(pk, n, household);
    else if (kind == BENCH_PATROL)
        bench_pack_patrol(pk, n);
    else
        bench_pack_ledger(pk, id, n);
}

#endif
