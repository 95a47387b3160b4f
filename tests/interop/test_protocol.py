"""
test_protocol: an independent interop test of gridbusd's wire contract, in Python.

Written from proto/PROTOCOL.md alone, never from the C code, with Debian's python3-zmq and
python3-msgpack, so the daemon is held to the spec by a second implementation of the
client side: another ZeroMQ binding, another msgpack library, another reading of the page.
It starts the real daemon itself (state in a temporary directory, every endpoint on a
kernel-chosen loopback port), waits for the sd_notify READY=1 datagram on a socket of its
own, reads STATE/gridbusd.endpoints, and then covers: publishing every event type, resends
and conflicts, every error code v1 produces, framing (REQ delimiter echo, DEALER, frame
counts, sizes), fire-and-forget on the publish socket, replay paging, ping, and a clean
SIGTERM exit with the log intact after a restart.

Run by tests/run as `/usr/bin/python3 -m unittest -v tests/interop/test_protocol.py` with
GRIDBUSD (the daemon binary) and GRIDBUS_CONF (the conf folder) set; each defaults to the
release build and conf/ of this checkout. Every wait has a hang guard (GUARD) that fails
the test instead of blocking. Where PROTOCOL.md says a v1 behaviour changes once routing
is active (follow-ups checked against their task, the tasks stream and feed, query), the
test asserts the v1 behaviour only while the daemon's pong has no `tasks` head, the sign
the spec gives for routing. The client half (events, hand-packed msgpack, the daemon, the
client, the shared fixture) is in gbinterop.py beside this file.
"""

import os
import signal
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gbinterop as gb  # noqa: E402  the client half, beside this file
from gbinterop import (  # noqa: E402
    AT,
    BusTest,
    Client,
    DROP,
    Daemon,
    GRID_REQUIRED,
    GUARD,
    MAX_FRAME,
    MAX_MESSAGE,
    MEMBER,
    NOT_GRID,
    NOT_MEMBER,
    NoReply,
    Raw,
    TIME_MAX,
    TIME_MIN,
    TYPES,
    WORKED_EVENT,
    WORKED_EXAMPLE,
    enc,
    event,
    int64,
    new_id,
    raw_map,
    raw_str,
    start_shared,
    stop_shared,
    uint64,
    unpack,
    with_key,
)

setUpModule = start_shared
tearDownModule = stop_shared


# ---- startup, ping -------------------------------------------------------------------


class TestStartup(BusTest):
    def test_endpoints_file_names_the_bound_ports(self):
        for name in ("ingest", "publish", "tasks", "alerts"):
            ep = gb.bus.endpoints.get(name, "")
            self.assertRegex(ep, r"^tcp://127\.0\.0\.1:[0-9]+$", f"{name}={ep}")
            self.assertNotEqual(ep.rsplit(":", 1)[1], "0", f"{name}={ep}")

    def test_ping(self):
        pong = self.c.ping()
        self.assertEqual(pong["op"], "pong")
        self.assertEqual(pong["version"], "0.1.0")
        self.assertEqual(pong["protocol"], 1)
        self.assertIsInstance(pong["heads"], dict)
        self.assertIsInstance(pong["heads"]["events"], int)
        self.assertGreaterEqual(pong["heads"]["events"], 0)

    def test_rid_is_echoed_verbatim_whatever_its_type(self):
        for rid in ["client-42", 7, -9, 1.5, None, [1, "x"], {"b": True, "a": [1.5, ""]}]:
            reply = self.c.call_raw(msgpack.packb({"op": "ping", "rid": rid}))
            self.assertEqual(reply["op"], "pong")
            self.assertIn("rid", reply)
            self.assertEqual(reply["rid"], rid)

    def test_no_rid_in_no_rid_out(self):
        self.assertNotIn("rid", self.c.call_raw(msgpack.packb({"op": "ping"})))
        reply = self.c.call_raw(msgpack.packb({"op": "nope"}))
        self.assertNack(reply, "E_OP")
        self.assertNotIn("rid", reply)

    def test_unknown_request_keys_are_ignored_and_the_first_of_a_repeated_key_is_used(self):
        reply = self.c.call_raw(msgpack.packb({"op": "ping", "trace": "abc", "x": [1, {}]}))
        self.assertEqual(reply["op"], "pong")
        dup = raw_map([("op", "ping"), ("rid", 5), ("op", "bogus")])
        self.assertEqual(self.c.call_raw(dup)["op"], "pong")

    def test_a_head_is_committed_and_replayable(self):
        ev = event("visit.logged")
        seq = self.assertAck(self.c.publish(ev), ev)
        head = self.head()
        self.assertGreaterEqual(head, seq)
        records = self.c.replay(**{"from": head, "limit": 1})["records"]
        self.assertEqual([r["seq"] for r in records], [head])


# ---- publishing ----------------------------------------------------------------------


class TestPublish(BusTest):
    def publish_and_check(self, evs):
        seqs = [self.assertAck(self.c.publish(ev), ev) for ev in evs]
        self.assertEqual(seqs, sorted(set(seqs)), "seqs increase in the order sent")
        stored = {r["event"]["id"]: r for r in self.c.replay_all(seqs[0])}
        for ev, seq in zip(evs, seqs):
            self.assertIn(ev["id"], stored)
            self.assertEqual(stored[ev["id"]]["seq"], seq)
            self.assertEqual(stored[ev["id"]]["event"], ev, "replayed as sent, as a value")

    def test_every_field_type_minimal_and_full(self):
        evs = [event(t, full=full) for t in TYPES[:4] for full in (False, True)]
        evs[7]["body"]["entry"] = "L-2026-0002"
        self.publish_and_check(evs)

    def test_every_follow_up_type_minimal_and_full(self):
        if not self.routing_active():  # v1: follow-ups are validated and stored as is
            self.publish_and_check([event(t, full=f) for t in TYPES[4:] for f in (False, True)])
            return
        # with routing, a follow-up of a task that does not exist is E_TASK (reserved in v1);
        # with the alert loop, likewise an alert follow-up of an alert that does not exist
        alerts = [t for t in TYPES[4:] if t.startswith("alert.")]
        if not self.alerts_active():
            self.publish_and_check([event(t, full=f) for t in alerts for f in (False, True)])
        for t in alerts if self.alerts_active() else []:
            ev = event(t, full=True)
            ev["body"]["alert"] = "a-999999999"
            self.assertRefused(ev, "E_TASK", id_known=True)
        for t in TYPES[4:]:
            if t.startswith("task."):
                ev = event(t, full=True)
                ev["body"]["task"] = "t-999999999"
                self.assertRefused(ev, "E_TASK", id_known=True)

    def test_grid_is_optional_except_for_field_work(self):
        evs = [event(t, grid=DROP) for t in TYPES[3:]]
        if self.routing_active():
            evs = [ev for ev in evs if not ev["type"].startswith("task.")]
        if self.alerts_active():
            evs = [ev for ev in evs if not ev["type"].startswith("alert.")]
        self.publish_and_check(evs)
        for t in GRID_REQUIRED:
            self.assertRefused(
                event(t, grid=DROP), "E_SCHEMA", f"grid: required for {t}", id_known=True
            )

    def test_place_is_optional_and_counted_in_bytes(self):
        self.publish_and_check([event("visit.logged", place=DROP), event("visit.logged", place="")])
        ev = event("visit.logged", place="岱" * 66 + "ab")  # 200 bytes
        self.assertAck(self.c.publish(ev), ev)
        want = "place: must be 0 to 200 bytes (got 201)"
        self.assertRefused(event("visit.logged", place="岱" * 67), "E_SCHEMA", want)

    def test_limits_at_their_edges_are_accepted(self):
        evs = [
            event("visit.logged", id_="i" * 64),
            event("visit.logged", at=TIME_MIN),
            event("visit.logged", at=TIME_MAX),
            event("visit.logged", id_=new_id("AZaz09._:-")),
        ]
        ledger = event("ledger.entry_submitted")
        ledger["body"].update(entry=new_id("L"), amount_fen=10**12)
        self.publish_and_check(evs + [ledger])

    def test_pipelined_publishes_are_acked_in_order(self):
        evs = [event(TYPES[i % 4]) for i in range(300)]
        for i, ev in enumerate(evs):
            if ev["type"] == "ledger.entry_submitted":
                ev["body"]["entry"] = new_id("L")
            self.c.send(msgpack.packb({"op": "publish", "rid": 1000 + i, "event": ev}))
        replies = [self.c.recv() for _ in evs]
        self.assertEqual([r["rid"] for r in replies], list(range(1000, 1300)))
        seqs = [self.assertAck(r, ev) for r, ev in zip(replies, evs)]
        self.assertEqual(seqs, sorted(set(seqs)))


class TestIdempotency(BusTest):
    def test_resend_is_a_dup_with_the_original_seq(self):
        ev = event("repair.requested", full=True)
        seq = self.assertAck(self.c.publish(ev), ev)
        for _ in range(3):
            self.assertEqual(self.assertAck(self.c.publish(ev), ev, dup=True), seq)
        self.assertEqual(sum(1 for r in self.c.replay_all(seq) if r["event"]["id"] == ev["id"]), 1)

    def test_key_order_and_integer_width_do_not_change_the_content(self):
        ev = event("ledger.entry_submitted", full=True)
        ev["body"]["entry"] = new_id("L")
        seq = self.assertAck(self.c.publish(ev), ev)
        reordered = dict(reversed(list(ev.items())))
        reordered["body"] = dict(reversed(list(ev["body"].items())))
        self.assertEqual(self.assertAck(self.c.publish(reordered), ev, dup=True), seq)
        for width in (uint64, int64):
            reply = self.c.publish_raw(with_key(ev, "at", width(ev["at"])))
            self.assertEqual(self.assertAck(reply, ev, dup=True), seq)

    def test_same_id_other_content_is_a_conflict(self):
        ev = event("visit.logged", place=DROP)
        seq = self.assertAck(self.c.publish(ev), ev)
        want = f"id: '{ev['id']}' is already stored (seq {seq}) with different content"
        for other in (
            {**ev, "body": {**ev["body"], "summary": "changed"}},
            {**ev, "at": AT + 1},
            {**ev, "place": ""},  # not the same as no place
            {**ev, "body": {**ev["body"], "needs_followup": False}},  # an added optional field
        ):
            self.assertRefused(other, "E_CONFLICT", want, id_known=True)
        stored = [r for r in self.c.replay_all(seq) if r["event"]["id"] == ev["id"]]
        self.assertEqual([r["event"] for r in stored], [ev], "the stored event stands")

    def test_resend_within_one_pipeline(self):
        ev = event("patrol.issue_found")
        frames = [msgpack.packb({"op": "publish", "rid": rid, "event": ev}) for rid in (1, 2)]
        self.c.send(frames[0])
        self.c.send(frames[1])
        first, second = self.c.recv(), self.c.recv()
        seq = self.assertAck(first, ev)
        self.assertEqual(self.assertAck(second, ev, dup=True), seq)


# ---- every refusal v1 produces -------------------------------------------------------


class TestDecode(BusTest):
    """E_DECODE: the frame is not exactly one msgpack map. No rid: it was not decoded."""

    def refused(self, frame, error=None):
        reply = self.assertNack(self.c.call_raw(frame), "E_DECODE", error)
        self.assertNotIn("rid", reply)
        self.assertNotIn("id", reply)
        return reply

    def test_empty_frame(self):
        self.refused(b"", "empty frame")

    def test_malformed_truncated_trailing(self):
        good = msgpack.packb({"op": "replay", "rid": 1, "stream": "events", "from": 1 << 40})
        self.refused(b"\xc1")  # a byte msgpack never uses
        for n in (1, len(good) // 2, len(good) - 1):
            self.refused(good[:n])
        self.refused(good + msgpack.packb({"op": "ping"}))
        self.refused(b'{"op":"ping"}')  # JSON is not msgpack

    def test_containers_claiming_more_than_the_frame_holds(self):
        for claim in (b"\xdf\xff\xff\xff\xff", b"\xdd\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xff"):
            self.refused(claim + b"\x00")
        self.refused(b"\x81\xa2op\xdf\xff\xff\xff\xff")

    def test_not_a_map(self):
        for value in ([1], "ping", 5, None, True):
            self.refused(msgpack.packb(value))

    def test_nesting_up_to_32_levels(self):
        def ping_nested(levels):  # the request map is level 1, then arrays
            return b"\x82" + enc("op") + enc("ping") + enc("pad") + b"\x91" * (levels - 2) + b"\x90"

        self.assertEqual(self.c.call_raw(ping_nested(32))["op"], "pong")
        self.refused(ping_nested(33))
        self.refused(b"\x81\xa1k" * 40 + b"\xc0")

    def test_more_than_one_frame(self):
        ping = msgpack.packb({"op": "ping", "rid": 1})
        self.c.send(ping, ping)
        reply = self.assertNack(self.c.recv(), "E_DECODE", "request: must be one frame (got 2)")
        self.assertNotIn("rid", reply)
        self.c.send(ping, ping, ping)
        self.assertNack(self.c.recv(), "E_DECODE", "request: must be one frame (got 3)")


class TestFraming(BusTest):
    def test_req_gets_its_delimiter_back(self):
        req = self.client(kind=zmq.REQ)
        self.assertEqual(req.call({"op": "ping"})["op"], "pong")
        self.assertNack(req.call({"op": "nope"}), "E_OP")
        ev = event("visit.logged")
        self.assertAck(req.publish(ev), ev)

    def test_req_refusals_come_back_too(self):
        req = self.client(kind=zmq.REQ)
        ping = msgpack.packb({"op": "ping"})
        req.send(ping, ping)
        self.assertNack(req.recv(), "E_DECODE", "request: must be one frame (got 2)")
        req.send(b"")
        self.assertNack(req.recv(), "E_DECODE", "empty frame")

    def test_dealer_with_a_delimiter(self):
        self.c.send(b"", msgpack.packb({"op": "ping", "rid": 3}))
        frames = self.c.recv_frames()
        self.assertEqual(len(frames), 2, frames)
        self.assertEqual(frames[0], b"", "the delimiter is echoed")
        self.assertEqual(unpack(frames[1])["rid"], 3)

    def test_only_one_leading_empty_frame_is_a_delimiter(self):
        self.c.send(b"", b"", msgpack.packb({"op": "ping"}))
        frames = self.c.recv_frames()
        self.assertEqual(len(frames), 2, frames)
        self.assertEqual(frames[0], b"")
        self.assertNack(unpack(frames[1]), "E_DECODE", "request: must be one frame (got 2)")
        self.c.send(b"", b"")
        frames = self.c.recv_frames()
        self.assertEqual(frames[0], b"")
        self.assertNack(unpack(frames[1]), "E_DECODE", "empty frame")


class TestTooLarge(BusTest):
    @staticmethod
    def ping_of(size, rid="big"):
        """A ping padded with an ignored key to exactly size bytes."""
        for pad in range(size, 0, -1):
            frame = msgpack.packb({"op": "ping", "rid": rid, "pad": "x" * pad})
            if len(frame) == size:
                return frame
        raise AssertionError(f"cannot pack a ping of {size} bytes")

    def test_max_message_exactly_is_accepted(self):
        self.assertEqual(self.c.call_raw(self.ping_of(MAX_MESSAGE))["op"], "pong")

    def test_one_byte_over_is_E_TOO_LARGE_before_decoding(self):
        want = f"frame: {MAX_MESSAGE + 1} bytes is over limits.max_message ({MAX_MESSAGE})"
        reply = self.assertNack(self.c.call_raw(self.ping_of(MAX_MESSAGE + 1)), "E_TOO_LARGE", want)
        self.assertNotIn("rid", reply)
        garbage = b"\xc1" * 70000
        self.assertNack(
            self.c.call_raw(garbage),
            "E_TOO_LARGE",
            f"frame: 70000 bytes is over limits.max_message ({MAX_MESSAGE})",
        )
        ev = event("visit.logged", body={"household": "h", "summary": "s" * 70000})
        reply = self.c.call_raw(msgpack.packb({"op": "publish", "rid": 2, "event": ev}))
        self.assertNotIn("rid", self.assertNack(reply, "E_TOO_LARGE"))
        self.assertNotIn(ev["id"], self.stored_ids(self.head()))

    def test_over_max_frame_gets_no_reply_and_the_daemon_carries_on(self):
        self.c.send(self.ping_of(MAX_FRAME + 1000, rid="huge"))
        deadline = time.monotonic() + GUARD
        while True:  # the connection is dropped and re-made: ping until a pong arrives
            self.assertLess(time.monotonic(), deadline, "no pong after the oversized frame")
            self.c.send(msgpack.packb({"op": "ping", "rid": "after"}))
            try:
                reply = self.c.recv(timeout=0.5)
            except NoReply:
                continue
            self.assertNotEqual(reply.get("rid"), "huge", f"the oversized frame got {reply}")
            if reply.get("rid") == "after":
                break
        self.assertEqual(self.client().ping()["op"], "pong")


class TestOp(BusTest):
    def test_op_rules(self):
        cases = [
            ({"rid": 11}, "op: required"),
            ({"op": 1, "rid": 12}, "op: must be a string"),
            ({"op": "subscribe", "rid": 13}, "op: unknown operation 'subscribe'"),
            ({"op": "PING", "rid": 14}, None),
            ({"op": b"ping", "rid": 15}, "op: must be a string"),
            ({}, None),
        ]
        for req, error in cases:
            reply = self.assertNack(self.c.call_raw(msgpack.packb(req)), "E_OP", error)
            self.assertEqual(reply.get("rid"), req.get("rid"), "the rid is echoed in nacks")
            self.assertNotIn("id", reply)

    def test_query_is_not_available_before_routing(self):
        reply = self.c.call({"op": "query", "what": "tasks"})
        if self.routing_active():  # specified with routing: a result
            self.assertEqual(reply["op"], "result", reply)
        else:
            self.assertNack(reply, "E_OP", "op: query is not available in this version")


class TestRequestSchema(BusTest):
    def test_publish_needs_an_event_map(self):
        reply = self.c.call({"op": "publish"})
        self.assertNotIn("id", self.assertNack(reply, "E_SCHEMA", "event: required for publish"))
        for not_a_map in (5, "visit.logged", [1], None):
            self.assertNack(self.c.call({"op": "publish", "event": not_a_map}), "E_SCHEMA")

    def test_replay_keys(self):
        limit = "limit: must be an integer from 1 to 1000"
        cases = [
            ({}, "stream: required, a string"),
            ({"stream": 1}, "stream: required, a string"),
            ({"stream": "events", "from": -1}, "from: must be an integer >= 0"),
            ({"stream": "events", "from": "5"}, "from: must be an integer >= 0"),
            ({"stream": "events", "from": 1.0}, "from: must be an integer >= 0"),
            ({"stream": "events", "limit": 0}, limit),
            ({"stream": "events", "limit": 1001}, limit),
            ({"stream": "events", "limit": 5.0}, limit),
            ({"stream": "events", "limit": None}, limit),
            ({"stream": "events", "filter": 3}, None),
            # step 6 in key order, then step 8 (the stream's name)
            ({"stream": 5, "limit": 0}, "stream: required, a string"),
            ({"stream": "events", "from": -1, "limit": 0}, "from: must be an integer >= 0"),
            ({"stream": "events", "limit": 0, "filter": 3}, limit),
            ({"stream": "nope", "limit": 0}, limit),
            ({"stream": "nope"}, None),
        ]
        for keys, error in cases:
            with self.subTest(keys=keys):
                reply = self.assertNack(self.c.call({"op": "replay", **keys}), "E_SCHEMA", error)
        self.assertTrue(reply["error"].startswith("stream: unknown stream 'nope' (known: events"))

    def test_replay_of_tasks_only_with_routing(self):
        reply = self.c.call({"op": "replay", "stream": "tasks"})
        if self.routing_active():
            self.assertEqual(reply["op"], "records", reply)
        else:
            self.assertNack(reply, "E_SCHEMA", "stream: unknown stream 'tasks' (known: events)")

    def test_replay_integers_of_any_width(self):
        five = Raw(b"\xd0\x05")  # 5 as int8
        reply = self.c.call_raw(raw_map([("op", "replay"), ("stream", "events"), ("limit", five)]))
        self.assertEqual(reply["op"], "records")
        self.assertLessEqual(len(reply["records"]), 5)


class TestEventSchema(BusTest):
    """E_VERSION, E_SCHEMA and E_TYPE of the event itself (steps E1 to E6)."""

    def test_version(self):
        for v in (DROP, "1", 1.0, True, None):
            self.assertRefused(event("visit.logged", v=v), "E_SCHEMA", prefix="v: ", id_known=False)
        want = "v: version 2 is not spoken here (only 1)"
        self.assertRefused(event("visit.logged", v=2), "E_VERSION", want, id_known=False)
        for v in (0, -1, 3):
            ev = event("visit.logged", v=v)
            self.assertRefused(ev, "E_VERSION", prefix="v: ", id_known=False)

    def test_type(self):
        self.assertRefused(
            event("visit.logged", type="visit.deleted"),
            "E_TYPE",
            "type: unknown event type 'visit.deleted'",
            id_known=False,
        )
        self.assertRefused(event("visit.logged", type="Visit.Logged"), "E_TYPE", id_known=False)
        for bad in (DROP, 1, None):
            ev = event("visit.logged", type=bad)
            self.assertRefused(ev, "E_SCHEMA", prefix="type: ", id_known=False)

    def test_envelope_keys(self):
        self.assertRefused(event("visit.logged", extra=1), "E_SCHEMA", "extra: unknown field")
        self.assertRefused(event("visit.logged", V=1), "E_SCHEMA", "V: unknown field")
        pairs = list(event("visit.logged").items())
        reply = self.c.publish_raw(pairs + [("id", new_id())])
        self.assertNack(reply, "E_SCHEMA", "id: duplicate field")
        for key in (7, b"id"):  # an integer key, a bin key
            reply = self.c.publish_raw(pairs + [(key, "x")])
            self.assertNack(reply, "E_SCHEMA", "event: keys must be strings")

    def test_id(self):
        for bad in ("", "a b", "a/b", "é", "i" * 65, 12, None, DROP):
            self.assertRefused(
                event("visit.logged", id_="x", id=bad), "E_SCHEMA", prefix="id: ", id_known=False
            )
        self.assertRefused(
            event("visit.logged", id="a b"),
            "E_SCHEMA",
            "id: must be 1 to 64 characters of [A-Za-z0-9._:-]",
            id_known=False,
        )

    def test_at(self):
        cases = [
            (TIME_MIN - 1, "at: must be an integer >= 946684800000"),
            (AT // 1000, "at: must be an integer >= 946684800000"),
            (TIME_MAX + 1, "at: must be an integer <= 4102444800000"),
            (AT * 1000, "at: must be an integer <= 4102444800000"),
            (float(AT), None),
            ("2026-11-27T00:00:00Z", None),
            (uint64(2**64 - 1), None),
            (DROP, None),
        ]
        for at, error in cases:
            with self.subTest(at=at):
                ev = event("visit.logged", at=at)
                if isinstance(at, Raw):
                    reply = self.c.publish_raw(with_key(ev, "at", at))
                    reply = self.assertNack(reply, "E_SCHEMA", prefix="at: ")
                    self.assertEqual(reply.get("id"), ev["id"])
                else:
                    self.assertRefused(ev, "E_SCHEMA", error, prefix="at: ", id_known=True)

    def test_by_grid_place_forms(self):
        for by in ("li qiang", "李强", "", "m" * 65, None, 5):
            ev = event("visit.logged", by=by)
            self.assertRefused(ev, "E_SCHEMA", prefix="by: ", id_known=True)
        for grid in ("g 1", "", "g" * 33, 1):
            ev = event("ledger.entry_submitted", grid=grid)
            self.assertRefused(ev, "E_SCHEMA", prefix="grid: ", id_known=True)
        ev = event("visit.logged", place=3)
        self.assertRefused(ev, "E_SCHEMA", prefix="place: ", id_known=True)

    def test_body_shape(self):
        ev = event("visit.logged", body=DROP)
        self.assertRefused(ev, "E_SCHEMA", "body: required", id_known=True)
        for not_a_map in ([1], None, "x"):
            ev = event("visit.logged", body=not_a_map)
            self.assertRefused(ev, "E_SCHEMA", "body: must be a map", id_known=True)
        for extra in ("colour", "category"):  # unknown anywhere, or another type's field
            ev = event("visit.logged", body={"household": "h", "summary": "s", extra: "red"})
            want = f"body.{extra}: unknown field for visit.logged"
            self.assertRefused(ev, "E_SCHEMA", want, id_known=True)
        ev = event("visit.logged")
        body = raw_map([("household", "h"), ("summary", "s"), ("summary", "again")])
        reply = self.c.publish_raw(with_key(ev, "body", body))
        self.assertNack(reply, "E_SCHEMA", "body.summary: duplicate field")
        body = raw_map([("household", "h"), ("summary", "s"), (1, True)])
        reply = self.c.publish_raw(with_key(ev, "body", body))
        self.assertNack(reply, "E_SCHEMA", "body: keys must be strings")

    def test_messages_quoted_in_the_spec(self):
        cases = [
            (
                "ledger.entry_submitted",
                {"amount_fen": 0},
                "body.amount_fen: must be an integer >= 1",
            ),
            (
                "repair.requested",
                {"category": "plumbing"},
                "body.category: must be one of water, electric, gas, elderly_care, other",
            ),
            (
                "visit.logged",
                {"household": "h" * 65},
                "body.household: must be 1 to 64 bytes (got 65)",
            ),
            ("visit.logged", {"concerns": ["ok", 3]}, "body.concerns[1]: must be a string"),
        ]
        for type_, change, error in cases:
            ev = event(type_)
            ev["body"].update(change)
            self.assertRefused(ev, "E_SCHEMA", error, id_known=True)
        ev = event("visit.logged", body={"household": "h"})
        self.assertRefused(ev, "E_SCHEMA", "body.summary: required for visit.logged", id_known=True)
        ev = event("task.accepted", body={})
        self.assertRefused(ev, "E_SCHEMA", "body.task: required for task.accepted", id_known=True)

    def test_value_kinds(self):
        """The conventions: no floats for integers, no 0/1 for booleans, nil is not
        absence, no bin for strings, strings are well-formed UTF-8."""
        cases = [
            ("ledger.entry_submitted", "amount_fen", 12000.0),
            ("visit.logged", "needs_followup", 1),
            ("visit.logged", "needs_followup", "true"),
            ("repair.requested", "urgency", None),
            ("visit.logged", "summary", b"weekly visit"),
            ("task.progress", "percent", 101),
            ("ledger.entry_submitted", "approved_by", [MEMBER] * 17),
            ("ledger.entry_submitted", "due", TIME_MAX + 1),
            ("patrol.issue_found", "severity", "High"),
        ]
        for type_, field, value in cases:
            with self.subTest(field=field, value=value):
                ev = event(type_)
                ev["body"][field] = value
                self.assertRefused(ev, "E_SCHEMA", prefix=f"body.{field}", id_known=True)
        for bad in (b"\xed\xa0\x80", b"a\xc0\xafz", b"ab\x80"):  # surrogate, overlong, stray
            body = raw_map([("household", "h"), ("summary", raw_str(bad))])
            reply = self.c.publish_raw(with_key(event("visit.logged"), "body", body))
            self.assertNack(reply, "E_SCHEMA", prefix="body.summary: ")

    def test_error_text_is_utf8_even_when_it_echoes_input(self):
        # replies are decoded strictly: a message cut inside a character would not decode
        self.assertRefused(event("visit.logged", type="岱" * 30), "E_TYPE")
        ev = event("visit.logged")
        ev["body"]["岱" * 30] = True
        self.assertRefused(ev, "E_SCHEMA")


class TestDirectory(BusTest):
    def test_by_must_be_a_member(self):
        self.assertRefused(
            event("visit.logged", by=NOT_MEMBER),
            "E_MEMBER",
            f"by: no member '{NOT_MEMBER}' in the directory",
            id_known=True,
        )
        self.assertRefused(event("visit.logged", by="Gong.Xiujuan"), "E_MEMBER", id_known=True)

    def test_grid_must_exist(self):
        want = f"grid: no grid '{NOT_GRID}' in the directory"
        for type_ in ("patrol.issue_found", "alert.resolved"):
            self.assertRefused(event(type_, grid=NOT_GRID), "E_GRID", want, id_known=True)

    def test_approved_by_items_must_be_members(self):
        ev = event("ledger.entry_submitted")
        ev["body"]["approved_by"] = [MEMBER, NOT_MEMBER, "zhao.liu"]
        want = f"body.approved_by[1]: no member '{NOT_MEMBER}' in the directory"
        self.assertRefused(ev, "E_MEMBER", want, id_known=True)


class TestOrderOfChecks(BusTest):
    """The spec's examples: the first broken rule is reported."""

    def test_examples(self):
        self.assertRefused(event("visit.logged", v=2, extra=True), "E_VERSION")
        self.assertRefused(event("visit.logged", type="nope", id=DROP), "E_TYPE")
        ev = event("visit.logged", by=NOT_MEMBER, body={"household": "h"})
        self.assertRefused(ev, "E_SCHEMA", prefix="body.summary: ")
        for body in ({"summary": 1, "household": 2}, {"household": 2, "summary": 1}):
            ev = event("visit.logged", body=body)
            self.assertRefused(ev, "E_SCHEMA", prefix="body.household: ")

    def test_envelope_in_order_then_body_then_directory(self):
        cases = [
            (dict(id="bad id", at=5), "E_SCHEMA", "id: "),
            (dict(at=5, by="bad by"), "E_SCHEMA", "at: "),
            (dict(by="bad by", grid=DROP), "E_SCHEMA", "by: "),
            (dict(grid=DROP, place=1), "E_SCHEMA", "grid: "),
            (dict(place=1, body=DROP), "E_SCHEMA", "place: "),
            (dict(by=NOT_MEMBER, grid=NOT_GRID), "E_MEMBER", "by: "),
        ]
        for envelope, code, prefix in cases:
            with self.subTest(envelope=envelope):
                self.assertRefused(event("visit.logged", **envelope), code, prefix=prefix)
        ev = event("ledger.entry_submitted", grid=NOT_GRID)
        ev["body"]["approved_by"] = [NOT_MEMBER]
        self.assertRefused(ev, "E_GRID", prefix="grid: ")

    def test_directory_before_conflict(self):
        ev = event("visit.logged")
        self.assertAck(self.c.publish(ev), ev)
        self.assertRefused({**ev, "by": NOT_MEMBER}, "E_MEMBER", prefix="by: ", id_known=True)

    def test_refused_events_are_not_stored(self):
        start = self.head() + 1
        refused = [
            event("visit.logged", by=NOT_MEMBER),
            event("visit.logged", grid=NOT_GRID),
            event("repair.requested", body={"household": "h"}),
        ]
        for ev in refused:
            self.assertEqual(self.c.publish(ev)["op"], "nack")
        sentinel = event("visit.logged")
        self.assertAck(self.c.publish(sentinel), sentinel)
        stored = self.stored_ids(start)
        self.assertIn(sentinel["id"], stored)
        self.assertFalse(stored & {ev["id"] for ev in refused})


# ---- replay --------------------------------------------------------------------------


class TestReplay(BusTest):
    def test_paging(self):
        evs = [event("visit.logged") for _ in range(7)]
        seqs = [self.assertAck(self.c.publish(ev), ev) for ev in evs]
        start, got = seqs[0], []
        while start <= seqs[-1]:
            page = self.c.replay(**{"from": start, "limit": 3})
            self.assertEqual(page["op"], "records")
            self.assertLessEqual(len(page["records"]), 3)
            self.assertTrue(page["records"])
            self.assertEqual(page["next"], page["records"][-1]["seq"] + 1)
            self.assertGreaterEqual(page["head"], seqs[-1])
            got += page["records"]
            start = page["next"]
        by_id = {r["event"]["id"]: r for r in got}
        for ev, seq in zip(evs, seqs):
            self.assertEqual(by_id[ev["id"]]["seq"], seq)
            self.assertEqual(by_id[ev["id"]]["event"], ev)

    def test_records(self):
        ev = event("ledger.entry_submitted", full=True)
        ev["body"]["entry"] = new_id("L")
        seq = self.assertAck(self.c.publish(ev), ev)
        (rec,) = self.c.replay(**{"from": seq, "limit": 1})["records"]
        self.assertEqual(rec["seq"], seq)
        self.assertEqual(rec["event"], ev)
        self.assertIsInstance(rec["received_at"], int)
        self.assertLess(abs(rec["received_at"] - time.time() * 1000), 3600 * 1000)

    def test_everything_is_dense_and_in_order(self):
        ev = event("visit.logged")
        self.assertAck(self.c.publish(ev), ev)
        head = self.head()
        records = self.c.replay_all(1)
        self.assertEqual([r["seq"] for r in records], list(range(1, len(records) + 1)))
        self.assertGreaterEqual(len(records), head)
        self.assertEqual(len({r["event"]["id"] for r in records}), len(records), "no id twice")

    def test_a_page_stops_at_16_times_max_message(self):
        evs = [event("patrol.issue_found") for _ in range(300)]
        for i, ev in enumerate(evs):
            ev["body"]["description"] = "x" * 4000
            self.c.send(msgpack.packb({"op": "publish", "rid": i, "event": ev}))
        seqs = [self.assertAck(self.c.recv(), ev) for ev in evs]
        page = self.c.replay(**{"from": seqs[0], "limit": 1000})
        records = page["records"]
        size = sum(len(msgpack.packb(r)) for r in records)
        self.assertTrue(0 < len(records) < 300, f"{len(records)} records: cut by size, not limit")
        self.assertLessEqual(size, 16 * MAX_MESSAGE)
        self.assertEqual(page["next"], records[-1]["seq"] + 1)
        rest = self.c.replay_all(page["next"])
        more = len(msgpack.packb(rest[0]))
        self.assertGreater(size + more, 16 * MAX_MESSAGE, "the page is as full as allowed")
        got = [r["event"]["id"] for r in records + rest if r["seq"] <= seqs[-1]]
        self.assertEqual(got, [ev["id"] for ev in evs])

    def test_defaults_and_edges(self):
        head = self.head()
        page = self.c.replay()
        self.assertEqual(page["records"][0]["seq"], 1)
        self.assertEqual(len(page["records"]), min(100, head), "limit defaults to 100")
        page0 = self.c.replay(**{"from": 0, "limit": 2})
        self.assertEqual([r["seq"] for r in page0["records"]], [1, 2][: min(2, head)])
        past = self.c.replay(**{"from": head + 10, "limit": 5})
        self.assertEqual((past["records"], past["next"]), ([], head + 10))
        self.assertGreaterEqual(past["head"], head)
        page = self.c.replay(**{"from": 1, "limit": 1000})  # may be cut by size too
        n = len(page["records"])
        self.assertEqual([r["seq"] for r in page["records"]], list(range(1, n + 1)))
        self.assertTrue(0 < n <= min(1000, head))
        filtered = self.c.replay(**{"from": 1, "limit": 2, "filter": "task/g1/"})
        self.assertEqual(filtered["records"], page["records"][:2], "filter is ignored for events")


# ---- fire-and-forget -----------------------------------------------------------------


class TestFireAndForget(BusTest):
    def test_valid_events_are_stored_and_refused_ones_are_not(self):
        pub = gb.ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        pub.connect(gb.bus.endpoints["publish"])
        try:
            self.fire(pub)
        finally:
            pub.close(0)

    def fire(self, pub):
        start = self.head() + 1
        good = event("patrol.issue_found")
        bad = [event("visit.logged", by=NOT_MEMBER), event("visit.logged"), event("visit.logged")]
        big = event("visit.logged", body={"household": "h", "summary": "s" * 70000})
        messages = [
            [b"visit.logged", msgpack.packb(bad[0])],  # refused event
            [b"repair.requested", msgpack.packb(bad[1])],  # topic is not the type
            [b"visit.logged", msgpack.packb(bad[2]), b"extra"],  # three frames
            [b"visit.logged"],  # one frame
            [b"visit.logged", b"\xc1"],  # not msgpack
            [b"visit.logged", msgpack.packb(big)],  # over max_message
            [good["type"].encode(), msgpack.packb(good)],  # last: the sentinel
        ]
        # PUB loses what it sends before the subscription arrives (slow joiner), so send
        # the lot until the sentinel is in the log: resending is idempotent, and what came
        # before the sentinel on this connection has been handled by then.
        deadline = time.monotonic() + GUARD
        while True:
            self.assertLess(time.monotonic(), deadline, "the fire-and-forget event never arrived")
            for m in messages:
                pub.send_multipart(m)
            time.sleep(0.1)
            stored = {r["event"]["id"]: r for r in self.c.replay_all(start)}
            if good["id"] in stored:
                break
        self.assertEqual(stored[good["id"]]["event"], good)
        self.assertFalse(set(stored) & {ev["id"] for ev in bad + [big]})
        seq = stored[good["id"]]["seq"]
        self.assertEqual(self.assertAck(self.c.publish(good), good, dup=True), seq, "same log")


class TestReservedFeeds(BusTest):
    def test_reserved_feeds_do_not_emit(self):
        feeds = ([] if self.alerts_active() else ["alerts"]) + (
            [] if self.routing_active() else ["tasks"]
        )
        if not feeds:
            self.skipTest("every feed is active")
        subs = []
        for name in feeds:
            sub = gb.ctx.socket(zmq.SUB)
            sub.setsockopt(zmq.LINGER, 0)
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            sub.connect(gb.bus.endpoints[name])
            subs.append(sub)
        try:
            time.sleep(0.3)
            for t in GRID_REQUIRED:
                ev = event(t)
                self.assertAck(self.c.publish(ev), ev)
            time.sleep(0.5)
            for name, sub in zip(feeds, subs):
                self.assertEqual(sub.poll(0), 0, f"the reserved {name} feed emitted")
        finally:
            for sub in subs:
                sub.close(0)


# ---- a daemon of its own: the worked example, SIGTERM, restart -----------------------

class TestLifecycle(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()
        self.d.start()
        self.c = Client(gb.ctx, self.d.endpoints["ingest"])

    def tearDown(self):
        self.c.close()
        self.d.cleanup()

    def reconnect(self):
        self.c.close()
        self.c = Client(gb.ctx, self.d.endpoints["ingest"])

    def test_worked_example_sigterm_and_restart(self):
        self.assertEqual(len(WORKED_EXAMPLE), 150)
        self.assertEqual(unpack(WORKED_EXAMPLE), {"op": "publish", "rid": 1, "event": WORKED_EVENT})
        self.assertEqual(self.c.ping()["heads"]["events"], 0, "a fresh store is empty")
        empty = self.c.replay(**{"from": 0})
        self.assertEqual((empty["records"], empty["next"], empty["head"]), ([], 1, 0))

        ack = {"op": "ack", "rid": 1, "id": "v-0001", "seq": 1, "dup": False}
        self.c.send(WORKED_EXAMPLE)
        (frame,) = self.c.recv_frames()
        self.assertEqual((len(frame), unpack(frame)), (33, ack), "the spec's 33-byte ack")
        self.assertEqual(self.c.call_raw(WORKED_EXAMPLE), {**ack, "dup": True})
        changed = {**WORKED_EVENT, "body": {**WORKED_EVENT["body"], "summary": "changed"}}
        reply = self.c.call_raw(msgpack.packb({"op": "publish", "rid": 1, "event": changed}))
        error = "id: 'v-0001' is already stored (seq 1) with different content"
        nack = {"op": "nack", "rid": 1, "id": "v-0001"}
        self.assertEqual(reply, {**nack, "code": "E_CONFLICT", "error": error})
        wang = {**WORKED_EVENT, "by": "wang.wu"}
        reply = self.c.call_raw(msgpack.packb({"op": "publish", "rid": 1, "event": wang}))
        error = "by: no member 'wang.wu' in the directory"
        self.assertEqual(reply, {**nack, "code": "E_MEMBER", "error": error})

        self.assertEqual(self.d.stop(signal.SIGTERM), 0, f"exit status on SIGTERM:\n{self.d.log()}")
        self.d.start()
        self.reconnect()
        self.assertEqual(self.c.ping()["heads"]["events"], 1)
        (rec,) = self.c.replay()["records"]
        self.assertEqual((rec["seq"], rec["event"]), (1, WORKED_EVENT))
        self.assertEqual(self.c.call_raw(WORKED_EXAMPLE), {**ack, "dup": True})
        self.assertEqual(self.d.stop(signal.SIGINT), 0, f"exit status on SIGINT:\n{self.d.log()}")


if __name__ == "__main__":
    unittest.main()
