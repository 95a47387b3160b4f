"""
gbinterop: the client half of the interop test (test_protocol.py), written from
proto/PROTOCOL.md alone: the spec's constants and worked example, valid events of every
type, hand-packed msgpack for what a msgpack library will not pack on its own (duplicate
keys, non-string keys, chosen integer widths, invalid UTF-8), the daemon under test
(started with its endpoints on kernel-chosen ports, readiness by sd_notify), a ZeroMQ
client with a hang guard on every receive, and the fixture most tests share (one daemon,
BusTest with its assertions). Kept apart so the test file holds only tests.
"""

import atexit
import itertools
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import msgpack
import zmq

GUARD = 10.0  # seconds: the hang guard of every wait
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRIDBUSD = os.environ.get("GRIDBUSD") or os.path.join(REPO, "build", "gridbusd")
CONF = os.environ.get("GRIDBUS_CONF") or os.path.join(REPO, "conf")

AT = 1795737600000  # 2026-11-27T00:00:00Z, the spec's worked example
TIME_MIN, TIME_MAX = 946684800000, 4102444800000
MAX_MESSAGE = 65536
MAX_FRAME = 1 << 20
MEMBER, MEMBER2, GRID = "gong.xiujuan", "li.qiang", "g1"  # in conf/daidong.yaml
NOT_MEMBER, NOT_GRID = "wang.wu", "g9"  # the spec's examples of unknown ones
GRID_REQUIRED = ("visit.logged", "repair.requested", "patrol.issue_found")

# Every type with a valid body of its required fields, and its optional fields.
BODIES = {
    "visit.logged": (
        {"household": "3-2-401", "summary": "weekly visit"},
        {"concerns": ["楼道堆物", "stair lights out"], "needs_followup": True},
    ),
    "repair.requested": (
        {"household": "c1-3-201", "category": "water", "description": "厨房水管漏水"},
        {"urgency": "high", "fee_waived": True},
    ),
    "patrol.issue_found": (
        {"category": "fire_hazard", "severity": "high", "description": "bikes block the exit"},
        {"photo": "patrol/2026-11-27/0001.jpg"},
    ),
    "ledger.entry_submitted": (
        {
            "entry": "L-2026-0001",
            "direction": "expense",
            "amount_fen": 12000,
            "category": "repairs",
            "counterparty": "鸿瑞物业",
        },
        {"approved_by": [MEMBER, MEMBER2], "due": AT + 86400000, "note": ""},
    ),
    "task.accepted": ({"task": "t-1"}, {"note": "on my way"}),
    "task.progress": ({"task": "t-1", "note": "parts ordered"}, {"percent": 50}),
    "task.completed": (
        {"task": "t-1", "outcome": "pipe replaced"},
        {"fee_fen": 0, "fee_waived_fen": 3000, "note": "困难家庭, waived"},
    ),
    "task.returned": ({"task": "t-1", "reason": "not ours"}, {}),
    "task.verified": ({"task": "t-1", "ok": True}, {"note": "checked on site"}),
    "alert.acknowledged": ({"alert": "a-1"}, {"note": ""}),
    "alert.resolved": ({"alert": "a-1"}, {"note": "resolved"}),
}
TYPES = list(BODIES)

DROP = object()  # an envelope value that removes the key
DEFAULT = object()  # the type's valid body


def new_id(prefix="py"):
    return f"{prefix}-{uuid.uuid4().hex}"


def event(type_, id_=None, full=False, body=DEFAULT, **envelope):
    """A valid event of type_ (required body fields, or every field when full); envelope
    keys given override the defaults, DROP removes one."""
    required, optional = BODIES[type_]
    ev = {
        "v": 1,
        "id": id_ or new_id(),
        "type": type_,
        "at": AT,
        "by": MEMBER,
        "grid": GRID,
        "place": "第一小区 3号楼",
        "body": {**required, **(optional if full else {})} if body is DEFAULT else body,
    }
    envelope.setdefault("body", ev["body"])
    for key, value in envelope.items():
        if value is DROP:
            ev.pop(key, None)
        else:
            ev[key] = value
    return ev


# ---- raw msgpack, for what a msgpack library will not pack on its own -----------------


class Raw(bytes):
    """Bytes that go into a hand-packed value as they are."""


def enc(value):
    return bytes(value) if isinstance(value, Raw) else msgpack.packb(value)


def raw_map(pairs):
    """A msgpack map of (key, value) pairs, in this order, duplicates allowed."""
    n = len(pairs)
    head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
    return Raw(head + b"".join(enc(k) + enc(v) for k, v in pairs))


def with_key(ev, key, value):
    """ev's (key, value) pairs, key's value replaced by value (which may be Raw)."""
    return [(k, value if k == key else v) for k, v in ev.items()]


def raw_str(data):
    """A msgpack str holding exactly these bytes, UTF-8 or not."""
    assert len(data) < 32
    return Raw(bytes([0xA0 | len(data)]) + data)


def uint64(n):
    return Raw(b"\xcf" + struct.pack(">Q", n))


def int64(n):
    return Raw(b"\xd3" + struct.pack(">q", n))


def unpack(frame):
    # Strict UTF-8: the spec's strings are well-formed UTF-8, replies included.
    return msgpack.unpackb(frame, raw=False, strict_map_key=False)


# ---- the daemon ----------------------------------------------------------------------


_daemons = []  # every Daemon made, cleaned up at exit whatever happened


@atexit.register
def _cleanup_all():
    for d in _daemons:
        d.cleanup()


class Daemon:
    """gridbusd on a temporary state dir, every endpoint on a kernel-chosen port."""

    def __init__(self):
        _daemons.append(self)
        self.root = tempfile.mkdtemp(prefix="gbinterop-")
        self.state = os.path.join(self.root, "state")
        self.log_path = os.path.join(self.root, "gridbusd.log")
        self.proc = None
        self.endpoints = {}

    def argv(self):
        args = [GRIDBUSD, "--state-dir", self.state, "--set", f"directory={CONF}/daidong.yaml"]
        for name in ("ingest", "publish", "tasks", "alerts"):
            args += ["--set", f"endpoints.{name}=tcp://127.0.0.1:*"]
        return args + ["--set", "endpoints.http=127.0.0.1:0"]

    def start(self):
        path = os.path.join(self.root, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            notify.bind(path)
            env = dict(os.environ, NOTIFY_SOCKET=path)
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    self.argv(), env=env, stdout=log, stderr=subprocess.STDOUT
                )
            self.wait_ready(notify)
        finally:
            notify.close()
            os.unlink(path)
        self.endpoints = self.read_endpoints()

    def wait_ready(self, notify):
        deadline = time.monotonic() + GUARD
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridbusd exited ({self.proc.returncode}):\n{self.log()}")
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise RuntimeError(f"no READY=1 within {GUARD}s:\n{self.log()}")
            if select.select([notify], [], [], min(left, 0.2))[0]:
                lines = notify.recv(65536).decode("utf-8", "replace").splitlines()
                if "READY=1" in lines:
                    return

    def read_endpoints(self):
        with open(os.path.join(self.state, "gridbusd.endpoints"), encoding="utf-8") as f:
            return dict(line.strip().split("=", 1) for line in f if "=" in line)

    def stop(self, sig=signal.SIGTERM):
        """Signals the daemon and returns its exit status (kill -9 after the guard)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(GUARD)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self, tail=4000):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-tail:]
        except OSError:
            return "(no log)"

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class NoReply(AssertionError):
    pass


class Client:
    """One ZeroMQ socket to the daemon, with the hang guard on every receive."""

    def __init__(self, ctx, endpoint, kind=zmq.DEALER):
        self.sock = ctx.socket(kind)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.rids = itertools.count(1)

    def close(self):
        self.sock.close(0)

    def send(self, *frames):
        self.sock.send_multipart(list(frames))

    def recv_frames(self, timeout=GUARD):
        if not self.sock.poll(int(timeout * 1000)):
            raise NoReply(f"no reply within {timeout}s")
        return self.sock.recv_multipart()

    def recv(self, timeout=GUARD):
        frames = self.recv_frames(timeout)
        if len(frames) != 1:
            raise AssertionError(f"a reply of {len(frames)} frames, want 1: {frames!r}")
        return unpack(frames[0])

    def call_raw(self, frame):
        """Sends one frame and returns the next reply, decoded."""
        self.send(bytes(frame))
        return self.recv()

    def call(self, req):
        """Sends req with a fresh rid and returns the reply, which must echo it."""
        rid = next(self.rids)
        reply = self.call_raw(msgpack.packb({**req, "rid": rid}))
        if reply.get("rid") != rid:
            raise AssertionError(f"reply to rid {rid} carries rid {reply.get('rid')!r}: {reply}")
        return reply

    def publish(self, ev):
        return self.call({"op": "publish", "event": ev})

    def publish_raw(self, pairs, rid=1):
        """Publishes an event hand-packed from (key, value) pairs; returns the reply."""
        return self.call_raw(raw_map([("op", "publish"), ("rid", rid), ("event", raw_map(pairs))]))

    def ping(self):
        return self.call({"op": "ping"})

    def replay(self, **keys):
        return self.call({"op": "replay", "stream": "events", **keys})

    def replay_all(self, start=1, limit=1000):
        """Every record from seq start to the head, page by page, as the spec says."""
        out = []
        for _ in range(100000):
            reply = self.replay(**{"from": start, "limit": limit})
            if reply["op"] != "records":
                raise AssertionError(f"replay from {start}: {reply}")
            out += reply["records"]
            if not reply["records"] or reply["next"] > reply["head"]:
                return out
            start = reply["next"]
        raise AssertionError("replay never ends")


# The spec's worked example, byte for byte (150 bytes).
WORKED_EXAMPLE = bytes.fromhex(
    "83 a26f70 a77075626c697368 a3726964 01 a56576656e74 88 a176 01 a26964 a6762d30303031"
    " a474797065 ac76697369742e6c6f67676564 a26174 cf000001a21a4d4000 a26279"
    " ac676f6e672e7869756a75616e a467726964 a26731 a5706c616365 a7332d322d343031"
    " a4626f6479 82 a9686f757365686f6c64 a7332d322d343031 a773756d6d617279"
    " ac7765656b6c79207669736974".replace(" ", "")
)
WORKED_EVENT = {
    "v": 1,
    "id": "v-0001",
    "type": "visit.logged",
    "at": 1795737600000,
    "by": "gong.xiujuan",
    "grid": "g1",
    "place": "3-2-401",
    "body": {"household": "3-2-401", "summary": "weekly visit"},
}


# ---- the shared daemon ---------------------------------------------------------------

bus = None  # the Daemon most tests share
ctx = None  # the ZeroMQ context of every test


def start_shared():
    """setUpModule: the daemon most tests share, and the context of every socket."""
    global bus, ctx
    # a SIGTERM (tests/run's timeout) exits through atexit, so no daemon outlives the test
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if not os.access(GRIDBUSD, os.X_OK):
        raise RuntimeError(f"no gridbusd at {GRIDBUSD} (set GRIDBUSD)")
    ctx = zmq.Context()
    bus = Daemon()
    try:
        bus.start()
    except Exception:
        bus.cleanup()
        raise


def stop_shared():
    """tearDownModule: SIGTERM must end the shared daemon with status 0."""
    status = bus.stop()
    log = bus.log()
    bus.cleanup()
    ctx.term()
    if status != 0:
        raise AssertionError(f"the shared gridbusd exited with {status} on SIGTERM:\n{log}")


class BusTest(unittest.TestCase):
    """A test against the shared daemon with a DEALER on its ingest endpoint."""

    def setUp(self):
        self.clients = []
        self.c = self.client()

    def tearDown(self):
        for c in self.clients:
            c.close()

    def client(self, name="ingest", kind=zmq.DEALER):
        c = Client(ctx, bus.endpoints[name], kind)
        self.clients.append(c)
        return c

    def routing_active(self):
        """PROTOCOL.md: more streams than events in the pong's heads come with routing."""
        return "tasks" in self.c.ping()["heads"]

    def alerts_active(self):
        """PROTOCOL.md: the alerts head in the pong comes with the alert loop."""
        return "alerts" in self.c.ping()["heads"]

    def assertAck(self, reply, ev, dup=False):
        self.assertEqual(reply.get("op"), "ack", reply)
        self.assertEqual(reply["id"], ev["id"], reply)
        self.assertIsInstance(reply["seq"], int)
        self.assertGreaterEqual(reply["seq"], 1)
        self.assertIs(reply["dup"], dup, reply)
        return reply["seq"]

    def assertNack(self, reply, code, error=None, prefix=None):
        self.assertEqual(reply.get("op"), "nack", reply)
        self.assertEqual(reply.get("code"), code, reply)
        self.assertIsInstance(reply.get("error"), str, reply)
        if error is not None:
            self.assertEqual(reply["error"], error)
        if prefix is not None:
            self.assertTrue(reply["error"].startswith(prefix), f"{reply['error']!r} !~ {prefix!r}")
        return reply

    def assertRefused(self, ev, code, error=None, prefix=None, id_known=None):
        """Publishes ev, expects a nack; id_known: whether the nack must (not) carry id."""
        reply = self.assertNack(self.c.publish(ev), code, error, prefix)
        if id_known is True:
            self.assertEqual(reply.get("id"), ev["id"], reply)
        elif id_known is False:
            self.assertNotIn("id", reply)
        return reply

    def stored_ids(self, start=1):
        return {r["event"]["id"] for r in self.c.replay_all(start)}

    def head(self):
        return self.c.ping()["heads"]["events"]
