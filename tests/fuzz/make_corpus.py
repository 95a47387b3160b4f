#!/usr/bin/env python3
"""make_corpus: writes the fuzzers' seed corpus and dictionary (tests/fuzz/corpus/, gridbus.dict).

The seeds are checked in; run this again only to change them (it rewrites both corpus
folders from scratch). It uses the standard library alone: this machine's python3 has no
msgpack module, so the few msgpack forms needed are encoded by hand below, including the
ones a normal encoder refuses to write (duplicate keys, non-string keys, bad UTF-8, headers
claiming more than the frame holds).

corpus/wire/     one frame per file, for fuzz_wire (decoder, validator, reply codec)
corpus/request/  batches for fuzz_request: mode byte + frame (see fuzz_request.c)
corpus/taskrec/  stored task and task-feed records for fuzz_taskrec (daemon/taskrec.c)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
AT = 1795751254668  # 2026-11-27, ms since the epoch


class Raw(bytes):
    """Bytes written into the output as they are (already msgpack, or deliberately not)."""


class Pairs(list):
    """A map as a list of (key, value) pairs: keeps order, allows duplicate and odd keys."""


class Ext:
    def __init__(self, code, data):
        self.code, self.data = code, data


def uint(n):
    if n < 0x80:
        return bytes([n])
    if n <= 0xFF:
        return b"\xcc" + struct.pack(">B", n)
    if n <= 0xFFFF:
        return b"\xcd" + struct.pack(">H", n)
    if n <= 0xFFFFFFFF:
        return b"\xce" + struct.pack(">I", n)
    return b"\xcf" + struct.pack(">Q", n)


def sint(n):
    if n >= -32:
        return struct.pack(">b", n)
    if n >= -0x80:
        return b"\xd0" + struct.pack(">b", n)
    if n >= -0x8000:
        return b"\xd1" + struct.pack(">h", n)
    if n >= -0x80000000:
        return b"\xd2" + struct.pack(">i", n)
    return b"\xd3" + struct.pack(">q", n)


def head(n, fix, fixmax, b8, b16, b32):
    if n <= fixmax and fix is not None:
        return bytes([fix | n])
    if n <= 0xFF and b8 is not None:
        return bytes([b8, n])
    if n <= 0xFFFF:
        return bytes([b16]) + struct.pack(">H", n)
    return bytes([b32]) + struct.pack(">I", n)


def ext(e):
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    n = len(e.data)
    if n in fixed:
        return bytes([fixed[n], e.code & 0xFF]) + e.data
    return head(n, None, -1, 0xC7, 0xC8, 0xC9) + bytes([e.code & 0xFF]) + e.data


def pack(v):
    if isinstance(v, Raw):
        return bytes(v)
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        return uint(v) if v >= 0 else sint(v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        v = v.encode()
        return head(len(v), 0xA0, 31, 0xD9, 0xDA, 0xDB) + v
    if isinstance(v, bytes):
        return head(len(v), None, -1, 0xC4, 0xC5, 0xC6) + v
    if isinstance(v, Ext):
        return ext(v)
    if isinstance(v, dict):
        v = Pairs(v.items())
    if isinstance(v, Pairs):
        out = head(len(v), 0x80, 15, None, 0xDE, 0xDF)
        return out + b"".join(pack(k) + pack(x) for k, x in v)
    if isinstance(v, (list, tuple)):
        out = head(len(v), 0x90, 15, None, 0xDC, 0xDD)
        return out + b"".join(pack(x) for x in v)
    raise TypeError(type(v))


def badstr(b):
    """A msgpack str holding arbitrary bytes (bad UTF-8 on purpose)."""
    return Raw(head(len(b), 0xA0, 31, 0xD9, 0xDA, 0xDB) + b)


# --- events -------------------------------------------------------------------------------

BODIES = {
    "visit.logged": ("gong.xiujuan", "g1", {"household": "c1-1-101", "summary": "常叩门，老人独居",
                                            "concerns": ["供暖", "用药"], "needs_followup": True}),
    "repair.requested": ("chen.jing", "g1", {"household": "c1-3-201", "category": "water",
                                             "urgency": "high", "description": "厨房水管漏水",
                                             "fee_waived": True}),
    "patrol.issue_found": ("citymgmt.g2", "g2", {"category": "fire_hazard", "severity": "high",
                                                  "description": "楼道堆放杂物",
                                                  "photo": "p/2026/11/27/a.jpg"}),
    "ledger.entry_submitted": ("li.qiang", None, {"entry": "2026-0042", "direction": "expense",
                                                 "amount_fen": 1500000, "category": "物业补助",
                                                 "counterparty": "鸿瑞物业",
                                                 "approved_by": ["li.qiang", "gong.xiujuan"],
                                                 "due": AT + 86400000, "note": ""}),
    "task.accepted": ("helper.g1.1", "g1", {"task": "t-1", "note": "马上到"}),
    "task.progress": ("helper.g1.1", None, {"task": "t-1", "note": "换了阀门", "percent": 50}),
    "task.completed": ("helper.g1.1", "g1", {"task": "t-1", "outcome": "修好了", "fee_fen": 0,
                                             "fee_waived_fen": 3000}),
    "task.returned": ("helper.g1.2", None, {"task": "t-2", "reason": "not ours: gas company"}),
    "task.verified": ("chen.jing", "g1", {"task": "t-1", "ok": True, "note": "住户满意"}),
    "alert.acknowledged": ("li.qiang", None, {"alert": "a-1"}),
    "alert.resolved": ("li.qiang", None, {"alert": "a-1", "note": "已处理"}),
}


def event(etype, eid=None, **over):
    by, grid, body = BODIES[etype]
    ev = {"v": 1, "id": eid or "fz-" + etype, "type": etype, "at": AT, "by": by}
    if grid:
        ev["grid"] = grid
    ev["place"] = "第一小区 3号楼"
    ev["body"] = dict(body)
    for k, x in over.items():
        k = k.rstrip("_")
        if k.startswith("body_"):
            if x is DROP:
                ev["body"].pop(k[5:], None)
            else:
                ev["body"][k[5:]] = x
        elif x is DROP:
            ev.pop(k, None)
        else:
            ev[k] = x
    return ev


DROP = object()


def publish(ev, rid=1):
    return pack({"op": "publish", "rid": rid, "event": ev})


def nest(depth, leaf=None):
    """depth nested arrays around leaf (an empty array when leaf is None)."""
    return b"\x91" * (depth - 1) + (b"\x90" if leaf is None else b"\x91" + pack(leaf))


# --- wire seeds ---------------------------------------------------------------------------

def wire_seeds():
    s = {}
    for t in BODIES:
        s["publish-" + t] = publish(event(t))
    s["event-bare-visit"] = pack(event("visit.logged", "fz-bare-1"))
    s["event-bare-ledger"] = pack(event("ledger.entry_submitted", "fz-bare-2"))
    s["event-keys-reordered"] = pack(Pairs(reversed(list(event("repair.requested").items()))))
    s["ping"] = pack({"op": "ping", "rid": 7})
    s["ping-rid-map"] = pack({"op": "ping", "rid": {"k": [1, -2, 3.5, None, b"\x00", Ext(5, b"ab")]}})
    s["ping-no-rid"] = pack({"op": "ping"})
    s["replay-full"] = pack({"op": "replay", "rid": "r1", "stream": "events", "from": 1,
                             "limit": 1000, "filter": "task/g1/"})
    s["replay-min"] = pack({"op": "replay", "stream": "events"})
    s["query"] = pack({"op": "query", "rid": 3, "what": "tasks"})
    s["query-task"] = pack({"op": "query", "rid": 3, "what": "task", "id": "t-1"})
    s["query-tasks-all"] = pack({"op": "query", "rid": 3, "what": "tasks", "grid": "g1",
                                 "assignee": "helper.g1.1", "status": "all", "overdue": True,
                                 "after": 0, "limit": 500})
    s["query-stats"] = pack({"op": "query", "rid": 3, "what": "stats", "month": "2026-11",
                             "grid": "g1", "assignee": "helper.g1.1"})
    s["query-bad-month"] = pack({"op": "query", "what": "stats", "month": "2026-13"})
    s["query-bad-task-id"] = pack({"op": "query", "what": "task", "id": "t-18446744073709551616"})
    s["query-what-unknown"] = pack({"op": "query", "what": "alerts"})
    s["query-limit-501"] = pack({"op": "query", "what": "tasks", "limit": 501})
    s["clock-read"] = pack({"op": "clock", "rid": 9})
    s["clock-set"] = pack({"op": "clock", "rid": 9, "set": AT + 3 * 86400000})
    s["clock-set-bad"] = pack({"op": "clock", "set": 5})
    s["replay-tasks"] = pack({"op": "replay", "rid": "t", "stream": "tasks", "filter": "task/g1/"})
    s["reply-ack"] = pack({"op": "ack", "rid": 1, "id": "e-1", "seq": 42, "dup": True})
    s["reply-nack"] = pack({"op": "nack", "rid": 1, "code": "E_SCHEMA", "error": "x: y"})
    s["reply-nack-unknown-code"] = pack({"op": "nack", "code": "E_NOPE", "error": "?"})
    s["reply-pong"] = pack({"op": "pong", "version": "0.1.0", "protocol": 1,
                            "heads": {"events": 9}})
    s["reply-result"] = pack({"op": "result", "rid": 2, "now": AT})
    s["reply-records"] = pack({"op": "records", "next": 2, "head": 1, "records": [
        {"seq": 1, "received_at": AT, "event": event("alert.resolved")}]})
    # Frames the decoder must refuse.
    good = publish(event("visit.logged"))
    s["bad-empty"] = b""
    s["bad-truncated"] = good[: len(good) // 2]
    s["bad-trailing"] = good + b"\xc0"
    s["bad-c1"] = b"\x81\xa2op\xc1"
    s["bad-array32-huge"] = b"\xdd\xff\xff\xff\xff\xc0"
    s["bad-map32-huge"] = b"\xdf\xff\xff\xff\xff\xa2op"
    s["bad-str32-huge"] = b"\x81\xa2op\xdb\xff\xff\xff\xf0ping"
    s["bad-bin32-huge"] = b"\xc6\x7f\xff\xff\xff"
    s["bad-ext32-huge"] = b"\xc9\xff\xff\xff\xff\x01"
    s["deep-32"] = pack({"op": "ping", "rid": Raw(nest(31))})
    s["deep-33"] = pack({"op": "ping", "rid": Raw(nest(32))})
    s["deep-40"] = pack({"op": "ping", "rid": Raw(nest(39, 1))})
    s["not-a-map"] = pack(["op", "ping"])
    s["op-not-string"] = pack({"op": 1})
    s["op-unknown"] = pack({"op": "publishx", "rid": 2})
    s["op-missing"] = pack({"rid": 2})
    s["publish-no-event"] = pack({"op": "publish", "rid": 4})
    s["replay-limit-0"] = pack({"op": "replay", "stream": "events", "limit": 0})
    s["replay-limit-1001"] = pack({"op": "replay", "stream": "events", "limit": 1001})
    s["replay-from-neg"] = pack({"op": "replay", "stream": "events", "from": -1})
    s["replay-filter-int"] = pack({"op": "replay", "stream": "events", "filter": 5})
    s["replay-stream-alerts"] = pack({"op": "replay", "stream": "alerts"})
    s["ints-wide"] = pack(Pairs([("op", "ping"), ("rid", Raw(b"\xcf" + struct.pack(">Q", 2**64 - 1)))]))
    # Events the validator must refuse, one rule each.
    v = "visit.logged"
    bad = {
        "v2": event(v, v=2), "v-str": event(v, v="1"), "v-missing": event(v, v=DROP),
        "type-unknown": event(v, type="visit.logged2"), "type-int": event(v, type=3),
        "id-chars": event(v, id="a b/c"), "id-65": event(v, id="x" * 65), "id-empty": event(v, id=""),
        "at-seconds": event(v, at=1795751254), "at-neg": event(v, at=-5),
        "at-u64": event(v, at=2**64 - 1), "at-float": event(v, at=1.7e12),
        "by-unknown": event(v, by="wang.wu"), "by-bin": event(v, by=b"chen.jing"),
        "grid-unknown": event(v, grid="g9"), "grid-missing": event(v, grid=DROP),
        "grid-33": event(v, grid="g" * 33), "place-201": event(v, place="x" * 201),
        "body-missing": event(v, body=DROP), "body-array": event(v, body=[]),
        "body-unknown-field": event(v, body_colour="red"),
        "body-required-missing": event(v, body_summary=DROP),
        "body-nil-optional": event(v, body_needs_followup=None),
        "body-bool-as-int": event(v, body_needs_followup=1),
        "utf8-invalid": event(v, body_summary=badstr(b"\xff\xfe")),
        "utf8-overlong": event(v, body_summary=badstr(b"\xc0\xaf")),
        "utf8-surrogate": event(v, body_summary=badstr(b"\xed\xa0\x80")),
        "utf8-truncated": event(v, body_summary=badstr(b"ok\xe5\xb2")),
        "concerns-33": event(v, body_concerns=["c"] * 33),
        "concerns-item-int": event(v, body_concerns=["a", 2]),
        "unknown-envelope-key": event(v, extra=1),
        "enum-wrong": event("repair.requested", body_category="plumbing"),
        "amount-zero": event("ledger.entry_submitted", body_amount_fen=0),
        "amount-float": event("ledger.entry_submitted", body_amount_fen=1.0),
        "approved-unknown": event("ledger.entry_submitted", body_approved_by=["li.qiang", "nobody"]),
        "approved-17": event("ledger.entry_submitted", body_approved_by=["li.qiang"] * 17),
        "due-seconds": event("ledger.entry_submitted", body_due=1795751254),
        "percent-101": event("task.progress", body_percent=101),
    }
    for name, ev in bad.items():
        s["event-" + name] = publish(ev)
    dup = event(v)
    s["event-dup-key"] = publish(Pairs(list(dup.items()) + [("id", "fz-other")]))
    s["event-int-key"] = publish(Pairs(list(dup.items()) + [(1, "x")]))
    s["event-body-dup-key"] = publish(Pairs([(k, Pairs(list(x.items()) + [("summary", "again")]))
                                             if k == "body" else (k, x) for k, x in dup.items()]))
    s["event-deep-body"] = publish(event(v, body_summary=Raw(nest(20, "x"))))
    return s


# --- request seeds ------------------------------------------------------------------------

FIRE_AND_FORGET, EXTRA, SMALL, NO_TOPIC, STORAGE_DOWN, CLOCK, FRESH, MORE = \
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80


def item(mode, frame, more=False):
    if more:
        return bytes([mode | MORE]) + struct.pack(">H", len(frame)) + frame
    return bytes([mode]) + frame


def ff(ev, topic=None):
    t = (ev["type"] if topic is None else topic).encode()
    return bytes([len(t)]) + t + pack(ev)


def batch(*items):
    out = b""
    for i, (mode, frame) in enumerate(items):
        out += item(mode, frame, more=i < len(items) - 1)
    return out


def request_seeds(wire):
    s = {}
    keep = [k for k in wire if k.startswith(("publish-", "ping", "replay-", "query", "deep-",
                                              "bad-", "op-", "not-a-map", "clock-"))]
    keep += ["event-by-unknown", "event-grid-unknown", "event-approved-unknown", "event-v2",
             "event-dup-key", "event-deep-body", "event-utf8-surrogate", "event-type-unknown"]
    for k in keep:
        s[k] = item(0, wire[k])
    r = "repair.requested"
    s["ff-valid"] = item(FIRE_AND_FORGET, ff(event("patrol.issue_found", "fz-ff-1")))
    s["ff-topic-mismatch"] = item(FIRE_AND_FORGET, ff(event(r, "fz-ff-2"), topic="visit.logged"))
    s["ff-no-topic"] = item(FIRE_AND_FORGET | NO_TOPIC, pack(event(r, "fz-ff-3")))
    s["ff-extra-frame"] = item(FIRE_AND_FORGET | EXTRA, ff(event(r, "fz-ff-4")))
    s["ff-not-msgpack"] = item(FIRE_AND_FORGET, b"\x10repair.requested\xc1\xc1")
    s["ff-invalid-event"] = item(FIRE_AND_FORGET, ff(event(r, "fz-ff-5", by="nobody")))
    s["req-extra-frame"] = item(EXTRA, wire["ping"])
    s["req-too-large"] = item(SMALL, publish(event(r, "fz-big", body_description="长" * 200)))
    s["storage-down"] = batch((STORAGE_DOWN, publish(event(r, "fz-down"))),
                              (0, wire["ping"]), (0, wire["replay-min"]),
                              (0, wire["event-v2"]))
    ev = event(r, "fz-dup")
    changed = event(r, "fz-dup", body_urgency="low")
    reordered = Pairs(reversed(list(ev.items())))
    s["batch-dup-conflict"] = batch((0, publish(ev, 1)), (0, publish(reordered, 2)),
                                    (0, publish(changed, 3)), (0, wire["replay-full"]),
                                    (0, wire["ping"]))
    s["batch-mixed"] = batch((FIRE_AND_FORGET, ff(event("visit.logged", "fz-mix-1"))),
                             (0, publish(event("task.accepted", "fz-mix-2"), "rid-s")),
                             (0, wire["bad-truncated"]),
                             (FIRE_AND_FORGET, ff(event("visit.logged", "fz-mix-1"))),
                             (SMALL, pack({"op": "replay", "rid": [1], "stream": "events",
                                           "limit": 1000})))
    s.update(lifecycle_seeds(wire))
    return s


def followup(etype, eid, by, **body):
    ev = event(etype, eid, by=by, grid=DROP)
    ev["body"] = body
    return publish(ev, eid)


def lifecycle_seeds(wire):
    """Batches on an empty store (FRESH), so the first task is t-1: its whole life."""
    s = {}
    q_task = pack({"op": "query", "rid": "q", "what": "task", "id": "t-1"})
    h = "helper.g1.1"  # the repair-urgent route gives t-1 to this home helper
    s["life-repair-closed"] = batch(
        (FRESH, publish(event("repair.requested", "lc-1"))),
        (0, followup("task.accepted", "lc-2", h, task="t-1")),
        (0, followup("task.progress", "lc-3", h, task="t-1", note="换阀门", percent=50)),
        (0, followup("task.completed", "lc-4", h, task="t-1", outcome="修好了", fee_fen=0,
                     fee_waived_fen=3000)),
        (0, followup("task.verified", "lc-5", "chen.jing", task="t-1", ok=True)),
        (0, q_task), (0, wire["replay-tasks"]), (0, wire["query-stats"]))
    s["life-returned-reopened"] = batch(
        (FRESH, publish(event("patrol.issue_found", "lc-6"))),
        (0, followup("task.returned", "lc-7", "fire.1", task="t-1", reason="not ours")),
        (0, q_task),
        (0, followup("task.accepted", "lc-8", "zhao.lei", task="t-1")),
        (0, followup("task.completed", "lc-18", "zhao.lei", task="t-1", outcome="清走了")),
        (0, followup("task.verified", "lc-19", "zhang.teng", task="t-1", ok=False)),
        (0, q_task), (0, pack({"op": "replay", "stream": "tasks", "from": 1, "limit": 1})))
    s["life-refused-steps"] = batch(
        (FRESH, publish(event("repair.requested", "lc-9"))),
        (0, followup("task.accepted", "lc-10", "chen.jing", task="t-1")),
        (0, followup("task.accepted", "lc-11", h, task="t-99")),
        (0, followup("task.verified", "lc-12", "chen.jing", task="t-1", ok=True)),
        (0, followup("task.completed", "lc-13", h, task="t-1", outcome="x")),
        (0, followup("alert.acknowledged", "lc-14", "li.qiang", alert="a-1")),
        (0, wire["clock-set"]))
    s["life-overdue-clock"] = batch(
        (FRESH | CLOCK, publish(event("repair.requested", "lc-15"))),
        (0, publish(event("ledger.entry_submitted", "lc-16"))),
        (0, publish(event("visit.logged", "lc-17"))),
        (0, wire["clock-set"]),
        (0, wire["query-tasks-all"]), (0, pack({"op": "query", "what": "tasks", "overdue": True})),
        (0, wire["query-stats"]), (0, wire["clock-read"]))
    return s


# --- stored task records (daemon/taskrec.c: form 1 positional arrays) ----------------------

def summary(seq, grid, assignee, status, accept_by=AT + 3600000, overdue=(False, False),
            returned=()):
    """A task's summary as the store keeps it: [seq, event, type, route, role, grid, category,
    assignee, status, created_at, accept_by, complete_by, accepted_at, done_at, closed_at,
    overdue_accept, overdue_complete, fee_fen, fee_waived_fen, [returned_by...]]."""
    return [seq, "ev-%d" % seq, "repair.requested", "repairs-to-home-helpers", "home_helper",
            grid, "水电", assignee, status, AT, accept_by, AT + 86400000, 0, 0, 0,
            overdue[0], overdue[1], 4500, -1, list(returned)]


def taskrec_seeds():
    """Task records [1, summary, history] and feed records [1, at, change, by, summary]:
    dispatched, done (returned once, overdue), parked and grid-less; the earlier wire-map
    form of a feed record; and a few damaged ones."""
    seeds = {}
    tasks = {
        "dispatched": (summary(1, "g1", "helper-7", 0), "dispatched"),
        "done": (summary(1234567, "g2", "helper-7", 3, overdue=(False, True),
                         returned=["helper-2"]), "completed"),
        "parked": (summary(42, "g3", "", 6, accept_by=0), "parked"),
        "gridless": (summary(77, "", "xu.na", 0), "dispatched"),
    }
    for name, (s, change) in tasks.items():
        history = [[AT, "cadre-1", "created", "repairs-to-home-helpers"],
                   [AT, "gridbusd", change, s[7] or "nobody holds the route's roles"]]
        seeds["task-" + name] = pack([1, s, history])
        seeds["feed-" + name] = pack([1, AT, change, "cadre-1", s])
    seeds["feed-wire-map"] = pack({"seq": 3, "topic": "task/g1/helper-7", "at": AT,
                                   "change": "accepted", "by": "helper-7",
                                   "task": {"id": "t-9", "seq": 9, "grid": "g1",
                                            "assignee": "helper-7", "status": "accepted"}})
    seeds["bad-form-2"] = pack([2, AT, "dispatched", "cadre-1", summary(5, "g1", "m", 0)])
    seeds["bad-status"] = pack([1, AT, "dispatched", "cadre-1", summary(5, "g1", "m", 99)])
    seeds["bad-short-summary"] = pack([1, AT, "dispatched", "cadre-1", [5, "ev"]])
    seeds["bad-trailing"] = pack([1, AT, "x", "y", summary(5, "g1", "m", 0)]) + b"\xc0"
    seeds["bad-deep"] = pack([1, AT, "x", Raw(nest(12)), summary(5, "g1", "m", 0)])
    # the decoder's pre-scan allows 32 levels in all: the record is one, so 31 more fit
    seeds["deep-32"] = pack([1, AT, "x", Raw(nest(31)), summary(5, "g1", "m", 0)])
    seeds["bad-deep-33"] = pack([1, AT, "x", Raw(nest(32)), summary(5, "g1", "m", 0)])
    seeds["bad-c1"] = pack([1, AT, "x", Raw(b"\xc1"), summary(5, "g1", "m", 0)])
    return seeds


def dictionary():
    words = set()
    for t, (by, grid, body) in BODIES.items():
        words |= {t, by, *(body.keys())}
        if grid:
            words.add(grid)
    words |= {"v", "id", "type", "at", "by", "grid", "place", "body", "op", "rid", "event",
              "stream", "from", "limit", "filter", "publish", "ping", "replay", "query",
              "events", "tasks", "alerts", "ack", "nack", "pong", "records", "seq", "dup",
              "code", "error", "version", "heads", "next", "head", "received_at", "protocol",
              "water", "electric", "gas", "elderly_care", "other", "low", "normal", "high",
              "medium", "fire_hazard", "public_security", "city_appearance",
              "illegal_construction", "sanitation", "traffic", "income", "expense", "E_SCHEMA",
              "g3", "li.qiang", "gong.xiujuan", "clock", "set", "now", "result", "what",
              "task", "tasks", "stats", "month", "assignee", "status", "overdue", "after", "all",
              "t-1", "2026-11", "helper.g1.1", "fire.1", "closed", "dispatched"}
    lines = []
    for w in sorted(words):
        lines.append('"' + "".join("\\x%02x" % b for b in pack(w)) + '"')
    for raw in (pack(AT), pack(1), b"\xdc", b"\xdd", b"\xde", b"\xdf", b"\xcf", b"\xd3", b"\xc1"):
        lines.append('"' + "".join("\\x%02x" % b for b in raw) + '"')
    return "# msgpack-encoded keys and values of the gridbus wire; made by make_corpus.py\n" + \
        "\n".join(lines) + "\n"


def write_dir(path, seeds):
    """Rewrites path with seeds, keeping the regression inputs (regress-*) found by fuzzing."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if not name.startswith("regress-"):
            os.remove(os.path.join(path, name))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


def main():
    wire = wire_seeds()
    write_dir(os.path.join(HERE, "corpus", "wire"), wire)
    write_dir(os.path.join(HERE, "corpus", "request"), request_seeds(wire))
    write_dir(os.path.join(HERE, "corpus", "taskrec"), taskrec_seeds())
    with open(os.path.join(HERE, "gridbus.dict"), "w") as f:
        f.write(dictionary())
    print("wire: %d seeds, request: %d seeds, taskrec: %d seeds" %
          (len(wire), len(request_seeds(wire)), len(taskrec_seeds())))


if __name__ == "__main__":
    main()
