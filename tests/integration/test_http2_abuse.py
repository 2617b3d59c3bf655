"""HTTP/2 abuse end to end (issue 18): HPACK bombs, stream-concurrency exhaustion, empty-frame
floods and a binary upgrade with live HTTP/2 streams, against the real binary. Frames are crafted
by RawH2 below (raw socket + Python's hpack, Debian python3-h2), which records every frame the
server sends (SETTINGS, RST_STREAM, GOAWAY) and, unlike h2's state machine, keeps reading after
a GOAWAY. Each case asserts what the raw recording upstream received and that a second client is
served meanwhile or after. Every loop is bounded in count and time."""

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import hpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import free_port, pool_toml, sluice_config  # noqa: E402
from test_upgrade import wait_gone  # noqa: E402
from h2_fixture import (COMPRESSION_ERROR, ENHANCE_YOUR_CALM, PROTOCOL_ERROR,  # noqa: E402
                        REFUSED_STREAM, H2TestCase, frame, json_log)

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8, 0x9)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_MAX_HEADER_LIST_SIZE = 0x6
MAX_FRAME = 16384


class RawH2:
    """An HTTP/2 client on a raw socket: sends what the test says, frame by frame, and records
    what the server sends. SETTINGS and PING are acknowledged as they are read (read() only),
    and received DATA is credited back with WINDOW_UPDATE."""

    def __init__(self, port, settings=()):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 20
        self.buf = bytearray()
        self.settings = None  # the server's first SETTINGS, {id: value}
        self.resets = {}  # stream id -> RST_STREAM error code
        self.heads = {}  # stream id -> {name: value} of the response head
        self.bodies = {}  # stream id -> bytearray
        self.ended = set()  # streams the server ended (END_STREAM)
        self.goaways = []  # (last stream id, error code), in order
        self.closed = False
        self.send_failed = False
        self._block = None  # (stream id, flags, bytes) of a header block in CONTINUATIONs
        payload = b"".join(struct.pack(">HI", k, v) for k, v in settings)
        self.send(PREFACE + frame(SETTINGS, 0, 0, payload))

    def send(self, data):
        """False once the server closed on us (a flood cut off mid-send is fine)."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.send_failed = True
            return False

    def header_frames(self, sid, block, end_stream=True):
        """HEADERS (+ CONTINUATIONs) carrying `block`, MAX_FRAME bytes a frame."""
        pieces = [block[i:i + MAX_FRAME] for i in range(0, len(block), MAX_FRAME)] or [b""]
        out = bytearray()
        for i, piece in enumerate(pieces):
            flags = END_HEADERS if i == len(pieces) - 1 else 0
            if i == 0:
                out += frame(HEADERS, flags | (END_STREAM if end_stream else 0), sid, piece)
            else:
                out += frame(CONTINUATION, flags, sid, piece)
        return bytes(out)

    def request(self, sid, path="/", method="GET", extra=(), end_stream=True):
        fields = [(":method", method), (":scheme", "http"), (":authority", "example.test"),
                  (":path", path)] + list(extra)
        return self.send(self.header_frames(sid, self.encoder.encode(fields), end_stream))

    def read(self, timeout):
        """Reads once (up to `timeout`) and handles whole frames; False once closed."""
        if self.closed:
            return False
        self.sock.settimeout(max(0.01, timeout))
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[0:3], "big")
            if len(self.buf) < 9 + length:
                break
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = bytes(self.buf[9:9 + length])
            del self.buf[:9 + length]
            self._on_frame(ftype, flags, sid, payload)
        return True

    def _on_frame(self, ftype, flags, sid, payload):
        if ftype == SETTINGS and not flags & ACK:
            if self.settings is None:
                self.settings = {}
                for i in range(0, len(payload), 6):
                    key, value = struct.unpack(">HI", payload[i:i + 6])
                    self.settings[key] = value
            self.send(frame(SETTINGS, ACK, 0))
        elif ftype == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            self.goaways.append(struct.unpack(">II", payload[:8]))
        elif ftype == RST_STREAM:
            self.resets[sid] = struct.unpack(">I", payload)[0]
        elif ftype in (HEADERS, CONTINUATION):
            if ftype == HEADERS:
                self._block = (sid, flags, bytearray())
                if flags & 0x8:  # PADDED
                    payload = payload[1:len(payload) - payload[0]]
                if flags & 0x20:  # PRIORITY
                    payload = payload[5:]
            self._block[2].extend(payload)
            if flags & END_HEADERS:
                sid, first_flags, block = self._block
                fields = dict(self.decoder.decode(bytes(block), raw=False))
                self.heads.setdefault(sid, fields)
                if first_flags & END_STREAM:
                    self.ended.add(sid)
        elif ftype == DATA:
            body = payload
            if flags & 0x8:
                body = payload[1:len(payload) - payload[0]]
            self.bodies.setdefault(sid, bytearray()).extend(body)
            if flags & END_STREAM:
                self.ended.add(sid)
            if payload:
                credit = struct.pack(">I", len(payload))
                self.send(frame(WINDOW_UPDATE, 0, 0, credit)
                          + (b"" if flags & END_STREAM else frame(WINDOW_UPDATE, 0, sid, credit)))

    def until(self, done, timeout=10.0):
        """Reads until done() (True), the connection closed or `timeout` (False)."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0 or not self.read(min(left, 0.5)) and not done():
                return done()
        return True

    def status(self, sid):
        head = self.heads.get(sid)
        return int(head[":status"]) if head else None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Replies:
    """A RecordingUpstream reply function: "GET /hold..." waits for release (the upstream holds
    the response), other GETs are answered at once, anything else (a POST whose body never
    completes) never. The held response's body is `hold_body`."""

    def __init__(self, hold_body=b"held-done"):
        self.release = threading.Event()
        self.hold_body = hold_body

    def __call__(self, data):
        if b"\r\n\r\n" not in data or not data.startswith(b"GET "):
            return None
        body = b"ok"
        if data.startswith(b"GET /hold"):
            self.release.wait(30)
            body = self.hold_body
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def request_paths(received):
    """The request targets in an upstream's recorded bytes, in order."""
    return [line.split(b" ")[1].decode() for line in bytes(received).split(b"\r\n")
            if line.startswith((b"GET /", b"POST /"))]


def socket_owner(client_sock, pids):
    """Which of `pids` holds the server side of `client_sock` (a 127.0.0.1 TCP connection),
    from /proc/net/tcp and /proc/PID/fd; None if none does."""
    cport = client_sock.getsockname()[1]
    sport = client_sock.getpeername()[1]
    want = ("0100007F:%04X" % sport, "0100007F:%04X" % cport)
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if (cols[1], cols[2]) == want:
                inode = cols[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
                    return pid
        except OSError:
            continue
    return None


class Http2AbuseTest(H2TestCase):
    def raw(self, settings=()):
        c = RawH2(self.port, settings)
        self.add_cleanup(c.close)
        return c

    def start_held(self, extra_listener=""):
        """sluice on an h2c listener in front of a recording upstream with Replies."""
        replies = Replies()
        self.add_cleanup(replies.release.set)
        up = self.recording(reply=replies)
        self.start_h2c([up.port], extra_listener=extra_listener)
        return up, replies

    # --- HPACK bombs ----------------------------------------------------------------------

    def test_hpack_bomb_is_refused_memory_stays_bounded_and_others_are_served(self):
        up, _ = self.start_held("max_header_bytes = 4096\n")
        self.assert_served()  # warm: the worker's pools and buffers exist before the baseline
        rss_before = vm_rss_kib(self.sluice.proc.pid)
        big = ("x-bomb", "b" * 3900)  # one dynamic-table entry (3938 of its 4096 bytes)
        c = self.raw()
        # One block: the literal once, then 40000 one-byte references to it (HEADERS and 2
        # CONTINUATIONs, under nghttp2's continuation cap): it decodes to ~156 MB of fields.
        c.request(1, "/bomb-one", extra=[big] * 40000)
        self.assertTrue(c.until(lambda: 1 in c.heads or 1 in c.resets or c.goaways), "no answer")
        outcome = (c.status(1), c.resets.get(1), c.goaways)
        self.assertTrue(c.status(1) == 431 or 1 in c.resets or any(
            code in (COMPRESSION_ERROR, ENHANCE_YOUR_CALM) for _, code in c.goaways), outcome)
        # Then many streams, each one block of references to the entry (~8 MB decoded each).
        sids = []
        if not c.goaways and not c.closed:
            for i in range(30):
                sid = 3 + 2 * i
                if not c.request(sid, "/bomb-%d" % i, extra=[big] * 2000):
                    break
                sids.append(sid)
            c.until(lambda: all(s in c.heads or s in c.resets for s in sids) or c.goaways, 20)
        answers = {s: c.status(s) or ("reset", c.resets.get(s)) for s in sids}
        rss_after = vm_rss_kib(self.sluice.proc.pid)
        sys.stderr.write("\nhpack bomb: one block -> %r; %d streams -> %r; goaways %r; "
                         "VmRSS %d -> %d KiB\n"
                         % (outcome, len(sids), sorted(set(map(str, answers.values()))),
                            c.goaways, rss_before, rss_after))
        self.assertEqual(len(sids), 30)
        for s in sids:
            self.assertTrue(c.status(s) == 431 or s in c.resets or c.goaways, answers)
        self.assertLess(rss_after - rss_before, 64 * 1024, (rss_before, rss_after))
        self.assert_served()
        self.assertEqual([p for p in request_paths(up.received) if p.startswith("/bomb")], [])

    # --- stream concurrency -----------------------------------------------------------------

    def test_streams_past_max_concurrent_are_refused_and_never_reach_the_upstream(self):
        up, replies = self.start_held("http2_max_concurrent_streams = 8\n")
        c = self.raw()
        # Twelve streams at once, before the server's SETTINGS is even read (so before our ACK).
        for i in range(12):
            c.request(1 + 2 * i, "/hold-%d" % i)
        excess = [1 + 2 * i for i in range(8, 12)]
        self.assertTrue(c.until(lambda: all(s in c.resets for s in excess) or c.goaways),
                        (c.resets, c.goaways))
        self.assertEqual(c.settings.get(SETTINGS_MAX_CONCURRENT_STREAMS), 8, c.settings)
        self.assertEqual(c.goaways, [])
        self.assertEqual(c.resets, {s: REFUSED_STREAM for s in excess})
        # The first eight reach the upstream (and wait there); a second client is served.
        deadline = time.monotonic() + 10
        while len(request_paths(up.received)) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assert_served()
        replies.release.set()
        first = [1 + 2 * i for i in range(8)]
        self.assertTrue(c.until(lambda: all(s in c.ended for s in first), 15), c.heads)
        for s in first:
            self.assertEqual((c.status(s), bytes(c.bodies.get(s, b""))), (200, b"held-done"))
        held = sorted(p for p in request_paths(up.received) if p.startswith("/hold"))
        self.assertEqual(held, sorted("/hold-%d" % i for i in range(8)))
        # The connection lives on: a new stream after those is served.
        c.request(25, "/after")
        self.assertTrue(c.until(lambda: 25 in c.ended))
        self.assertEqual(c.status(25), 200)

    def test_exceeding_acknowledged_max_concurrent_streams_ends_the_connection(self):
        up, replies = self.start_held("http2_max_concurrent_streams = 8\n")
        c = self.raw()
        self.assertTrue(c.until(lambda: c.settings is not None))  # read and ACKed
        self.assertEqual(c.settings.get(SETTINGS_MAX_CONCURRENT_STREAMS), 8, c.settings)
        for i in range(8):
            c.request(1 + 2 * i, "/hold-%d" % i)
        deadline = time.monotonic() + 10
        while len(request_paths(up.received)) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        # The client knows the limit (it ACKed it) and opens a ninth stream anyway.
        c.request(17, "/hold-over")
        self.assertTrue(c.until(lambda: c.goaways or 17 in c.resets), (c.resets, c.goaways))
        sys.stderr.write("\nninth stream after the ACK: resets %r goaways %r\n"
                         % (c.resets, c.goaways))
        self.assertTrue(c.resets.get(17) == REFUSED_STREAM or (c.goaways and c.goaways[-1] == (
            15, PROTOCOL_ERROR)), (c.resets, c.goaways))
        self.assert_served()
        # GOAWAY's last stream id (15) says stream 17 was never processed; and the upstream
        # has no trace of it once the held requests are released and another one is served.
        replies.release.set()
        self.assert_served()
        self.assertNotIn("/hold-over", request_paths(up.received))

    # --- empty-frame floods -------------------------------------------------------------------

    def assert_flood_calmed(self, c, flood, count):
        """Sends `flood` `count` times (in bursts), then expects GOAWAY(ENHANCE_YOUR_CALM)."""
        for _ in range(count // 500):
            if not c.send(flood * 500):
                break
        self.assertTrue(c.until(lambda: c.goaways, 10), (c.goaways, c.closed))
        self.assertEqual(c.goaways[-1][1], ENHANCE_YOUR_CALM, c.goaways)
        self.assertTrue(c.until(lambda: False, 10) or c.closed, "the connection stayed open")
        return c.goaways[-1]

    def test_empty_data_flood_gets_enhance_your_calm(self):
        up, _ = self.start_held()
        c = self.raw()
        c.request(1, "/flood-data", method="POST", end_stream=False)
        # The head goes upstream as soon as it is valid (bodies stream): wait for it, so that
        # the flood meets a request being forwarded.
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in bytes(up.received) and time.monotonic() < deadline:
            time.sleep(0.02)
        got = bytes(up.received)
        self.assertTrue(got.startswith(b"POST /flood-data HTTP/1.1\r\n"), got)
        last = self.assert_flood_calmed(c, frame(DATA, 0, 1, b""), 5000)
        sys.stderr.write("\nempty DATA flood: GOAWAY %r\n" % (last,))
        self.assert_served()
        # No body byte went upstream: no empty chunk, above all no last chunk ("0\r\n\r\n")
        # that would complete the request there. (The second client's GET comes after.)
        _, _, rest = bytes(up.received).partition(b"\r\n\r\n")
        self.assertEqual(rest.split(b"GET / ", 1)[0], b"", bytes(up.received))

    def test_empty_headers_flood_gets_enhance_your_calm(self):
        up, _ = self.start_held()
        c = self.raw()
        # Each an empty header block opening a new stream: no pseudo-headers, a stream error.
        flood = b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i) for i in range(2000))
        c.send(flood)
        self.assertTrue(c.until(lambda: c.goaways, 10), (len(c.resets), c.closed))
        sys.stderr.write("\nempty HEADERS flood: %d resets (%r), GOAWAY %r\n"
                         % (len(c.resets), sorted(set(c.resets.values())), c.goaways))
        self.assertEqual(c.goaways[-1][1], ENHANCE_YOUR_CALM, c.goaways)
        self.assertLess(len(c.resets), 2000)
        self.assert_served()
        self.assertEqual(bytes(up.received).count(b"GET / "), 1)  # the second client's only

    def test_empty_continuation_flood_is_cut_off(self):
        up, _ = self.start_held()
        c = self.raw()
        block = c.encoder.encode([(":method", "GET"), (":scheme", "http"),
                                  (":authority", "example.test"), (":path", "/flood-cont")])
        c.send(frame(HEADERS, END_STREAM, 1, block))  # no END_HEADERS
        last = self.assert_flood_calmed(c, frame(CONTINUATION, 0, 1), 5000)
        sys.stderr.write("\nempty CONTINUATION flood: GOAWAY %r\n" % (last,))
        self.assert_served()
        self.assertNotIn("/flood-cont", request_paths(up.received))

    # --- binary upgrade with a live HTTP/2 stream -------------------------------------------

    def test_binary_upgrade_finishes_live_streams_and_new_process_serves(self):
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")
        body = bytes(range(256)) * 1024  # 256 KiB: past the default windows, WINDOW_UPDATEs
        replies = Replies(hold_body=body)
        self.add_cleanup(replies.release.set)
        up = self.recording(reply=replies)
        self.port = free_port()
        listener = 'name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\nh2c = true\n' % self.port
        control = os.path.join(self.workdir, "control.sock")
        self.sluice = self.start_sluice(
            json_log(sluice_config(self.workdir, [listener], [pool_toml("app", [up.port])],
                                   workers=1)), self.port)
        old = self.sluice.proc.pid
        new_pids = []

        def kill_new():
            for pid in new_pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.add_cleanup(kill_new)
        c = self.raw()
        c.request(1, "/hold-upgrade")
        deadline = time.monotonic() + 10
        while "/hold-upgrade" not in request_paths(up.received) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertIn("/hold-upgrade", request_paths(up.received))
        out = subprocess.run([SLUICECTL, "-s", control, "upgrade"], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr + self.sluice.output()[-3000:])
        self.assertRegex(out.stdout, r"^ok: upgraded, pid %d -> \d+ " % old)
        new = int(out.stdout.split("-> ")[1].split()[0])
        new_pids.append(new)
        # The old process says GOAWAY on the live connection: a final one whose last stream id
        # keeps stream 1 (after the 2^31-1 notice), with NO_ERROR.
        self.assertTrue(c.until(lambda: any(last != 0x7FFFFFFF for last, _ in c.goaways), 15),
                        (c.goaways, c.closed))
        self.assertEqual([g for g in c.goaways if g[0] != 0x7FFFFFFF], [(1, 0)], c.goaways)
        self.assertNotIn(1, c.ended)
        self.assertEqual(self.sluice.proc.poll(), None)  # waits for the stream in flight
        # New connections meanwhile: served, by the new process.
        fresh = self.client()
        sid = fresh.request("/")
        self.assertEqual(fresh.status(sid), 200)
        self.assertEqual(socket_owner(fresh.sock, [old, new]), new)
        fresh.close()
        # The held response comes through the old process, whole.
        replies.release.set()
        self.assertTrue(c.until(lambda: 1 in c.ended, 20), (c.heads, len(c.bodies.get(1, b""))))
        self.assertEqual(c.status(1), 200)
        self.assertEqual(bytes(c.bodies[1]), body)
        self.assertEqual(c.resets, {})
        self.assertTrue(c.until(lambda: False, 10) or c.closed, "the old connection stayed open")
        self.assertEqual(self.sluice.proc.wait(20), 0, self.sluice.output()[-3000:])
        self.assertEqual(request_paths(up.received).count("/hold-upgrade"), 1)
        sys.stderr.write("\nupgrade: GOAWAYs %r, %d body bytes, old pid %d exited 0\n"
                         % (c.goaways, len(c.bodies[1]), old))
        # The new process serves on and answers the control socket, then stops cleanly.
        after = self.client()
        sid = after.request("/")
        self.assertEqual(after.status(sid), 200)
        self.assertEqual(socket_owner(after.sock, [old, new]), new)
        after.close()
        status = subprocess.run([SLUICECTL, "-s", control, "status"], capture_output=True,
                                text=True, timeout=30).stdout
        self.assertIn("pid %d" % new, status)
        os.kill(new, signal.SIGTERM)
        self.assertTrue(wait_gone(new, 15), "the new process did not stop")
        self.assertNotIn("Sanitizer", self.sluice.output())  # both processes log there


if __name__ == "__main__":
    unittest.main()
