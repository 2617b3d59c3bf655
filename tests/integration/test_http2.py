"""HTTP/2 from clients, HTTP/1.1 to the upstreams: the real binary with real clients (curl
--http2 / --http2-prior-knowledge, nghttp), crafted frames from Python's h2 library (Debian
python3-h2) and raw frame bytes, Gunicorn/Django backends and raw-socket upstreams that record
what they receive. Every malformed or flood case asserts what the upstream received and that
another client is served meanwhile."""

import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import free_port, pool_toml, sluice_config  # noqa: E402
from h2_fixture import (ENHANCE_YOUR_CALM, H2TestCase, access_lines, frame,  # noqa: E402
                        json_log)
from test_tls import Pki, tls_listener  # noqa: E402

CURL = "curl"


def curl(*args, timeout=30):
    p = subprocess.run([CURL, "-sS", "--max-time", "20"] + list(args), capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


class Http2Test(H2TestCase):
    # --- real clients, real backends ------------------------------------------------------

    def test_tls_alpn_h2_with_curl_and_http11_still_served(self):
        backends = self.start_backends(1)
        pki = Pki(self.workdir)
        cert = pki.leaf("site", "a.test", "DNS:a.test")
        port = free_port()
        self.sluice = self.start_sluice(
            json_log(sluice_config(self.workdir, [tls_listener("web", port, "app", [cert])],
                                   [pool_toml("app", [b.port for b in backends])])), port)
        url = "https://a.test:%d/echo" % port
        common = ["--cacert", pki.ca, "--resolve", "a.test:%d:127.0.0.1" % port]
        rc, out, err = curl("--http2", "-w", "\\n%{http_version}", *common, url)
        self.assertEqual(rc, 0, err)
        body, version = out.rsplit(b"\n", 1)
        self.assertEqual(version, b"2")
        echo = json.loads(body)
        self.assertEqual(echo["headers"].get("X-Forwarded-Proto"), "https")
        self.assertEqual(echo["headers"].get("Host"), "a.test:%d" % port)
        self.assertTrue(echo["headers"].get("X-Request-Id"))
        rc, out, err = curl("--http1.1", "-w", "\\n%{http_version}", *common, url)
        self.assertEqual((rc, out.rsplit(b"\n", 1)[1]), (0, b"1.1"), err)
        # The access log names the protocol.
        deadline = time.monotonic() + 20
        while (not ("HTTP/2.0" in self.sluice.output() and "HTTP/1.1" in self.sluice.output())
               and time.monotonic() < deadline):
            time.sleep(0.05)
        lines = access_lines(self.sluice.output())
        protocols = sorted(line.get("protocol", "") for line in lines)
        self.assertIn("HTTP/2.0", protocols, lines)
        self.assertIn("HTTP/1.1", protocols, lines)

    def test_h2c_prior_knowledge_and_http11_on_one_listener(self):
        backends = self.start_backends(1)
        port = self.start_h2c([backends[0].port])
        rc, out, err = curl("--http2-prior-knowledge", "-w", "\\n%{http_version}",
                            "http://127.0.0.1:%d/" % port)
        self.assertEqual((rc, out.rsplit(b"\n", 1)[1]), (0, b"2"), err)
        rc, out, err = curl("--http1.1", "-w", "\\n%{http_version}", "http://127.0.0.1:%d/" % port)
        self.assertEqual((rc, out.rsplit(b"\n", 1)[1]), (0, b"1.1"), err)

    def test_no_h2c_listener_does_not_speak_http2(self):
        up = self.recording()
        port = free_port()
        listener = 'name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n' % port
        self.start_sluice(sluice_config(self.workdir, [listener], [pool_toml("app", [up.port])]),
                          port)
        rc, _, _ = curl("--http2-prior-knowledge", "http://127.0.0.1:%d/" % port)
        self.assertNotEqual(rc, 0)
        self.assertEqual(bytes(up.received), b"")

    def test_streams_are_served_concurrently_on_one_connection(self):
        backends = self.start_backends(1, threads=8)
        self.start_h2c([backends[0].port])
        c = self.client()
        sids = [c.request("/slow?ms=400") for _ in range(4)]
        bodies = []
        for sid in sids:
            st = c.wait(sid)
            self.assertEqual(st["headers"][":status"], "200")
            self.assertTrue(st["ended"])
            bodies.append(json.loads(bytes(st["data"])))
        # Each stream's interval on the backend overlaps the others: they were in flight at
        # once (over separate upstream connections), not one after another.
        latest_start = max(b["started"] for b in bodies)
        earliest_end = min(b["finished"] for b in bodies)
        self.assertLess(latest_start, earliest_end, bodies)

    def test_nghttp_multiplexes_many_requests(self):
        backends = self.start_backends(1)
        port = self.start_h2c([backends[0].port])
        p = subprocess.run(["nghttp", "-n", "-v", "-m", "20", "http://127.0.0.1:%d/" % port],
                           capture_output=True, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, out[-2000:])
        self.assertEqual(out.count(":status: 200"), 20, out[-2000:])

    def test_bodies_stream_both_ways(self):
        backends = self.start_backends(1)
        port = self.start_h2c([backends[0].port])
        payload = os.urandom(3 * 1024 * 1024 + 17)
        path = os.path.join(self.workdir, "payload")
        with open(path, "wb") as f:
            f.write(payload)
        rc, out, err = curl("--http2-prior-knowledge", "--data-binary", "@" + path,
                            "http://127.0.0.1:%d/echo" % port)
        self.assertEqual(rc, 0, err)
        echo = json.loads(out)
        self.assertEqual((echo["length"], echo["sha256"]),
                         (len(payload), hashlib.sha256(payload).hexdigest()))
        n = 5 * 1024 * 1024 + 3
        for query in ("", "?chunked=1"):
            rc, out, err = curl("--http2-prior-knowledge",
                                "http://127.0.0.1:%d/bytes/%d%s" % (port, n, query))
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, (bytes(range(256)) * (n // 256 + 1))[:n])

    # --- what the upstream receives ---------------------------------------------------------

    def test_upstream_gets_a_clean_http11_request(self):
        up = self.recording()
        self.start_h2c([up.port])
        c = self.client()
        sid = c.request("/p?q=1", authority="example.test",
                        extra=[("cookie", "a=1"), ("x-custom", "v"), ("cookie", "b=2")])
        st = c.wait(sid)
        self.assertEqual((st["headers"][":status"], bytes(st["data"])), ("200", b"ok"))
        self.assertEqual(st["headers"].get("x-up"), "1")
        got = bytes(up.received).decode("latin-1")
        head = got.split("\r\n\r\n")[0].split("\r\n")
        self.assertEqual(head[0], "GET /p?q=1 HTTP/1.1")
        fields = [line.split(":", 1)[0].lower() for line in head[1:]]
        self.assertEqual(fields[0], "host")
        self.assertEqual(head[1].lower(), "host: example.test")
        self.assertIn("Via: 2.0 sluice", head)
        self.assertIn("cookie: a=1; b=2", head)
        self.assertIn("x-custom: v", head)
        self.assertIn("X-Forwarded-Proto: http", head)
        self.assertTrue(any(line.startswith("X-Request-ID: ") for line in head), head)
        self.assertFalse([f for f in fields if f.startswith(":")], head)
        self.assertEqual(fields.count("cookie"), 1)

    def test_malformed_requests_never_reach_the_upstream(self):
        up = self.recording()
        self.start_h2c([up.port])
        cases = {
            "uppercase name": [("X-Upper", "1")],
            "connection header": [("connection", "keep-alive")],
            "keep-alive header": [("keep-alive", "5")],
            "proxy-connection": [("proxy-connection", "x")],
            "transfer-encoding": [("transfer-encoding", "chunked")],
            "upgrade": [("upgrade", "websocket")],
            "te other than trailers": [("te", "gzip")],
            "CR in a value": [("x-a", "a\rb")],
            "LF in a value": [("x-a", "a\nb")],
            "NUL in a value": [("x-a", "a\x00b")],
            "bad name character": [("x a", "1")],
            "authority and host disagree": [("host", "other.test")],
            "unknown pseudo-header": [(":foo", "1")],
        }
        c = self.client()
        for name, extra in cases.items():
            sid = c.request("/" + name.replace(" ", "-"), extra=extra)
            st = c.wait(sid)
            answered = st["headers"] and st["headers"][":status"] == "400"
            self.assertTrue(st["reset"] is not None or answered, (name, st))
            if c.closed:  # a connection error is allowed too; go on with a new connection
                c = self.client()
        # Pseudo-header problems, crafted without the library's help.
        for name, headers in {
            "missing :path": [(":method", "GET"), (":scheme", "http"), (":authority", "a")],
            "duplicate :method": [(":method", "GET"), (":method", "GET"), (":scheme", "http"),
                                  (":authority", "a"), (":path", "/")],
            "pseudo after regular": [(":method", "GET"), (":scheme", "http"), ("x-a", "1"),
                                     (":authority", "a"), (":path", "/")],
        }.items():
            sid = c.conn.get_next_available_stream_id()
            c.conn.send_headers(sid, headers, end_stream=True)
            c.streams[sid] = {"headers": None, "data": bytearray(), "ended": False, "reset": None}
            c.flush()
            st = c.wait(sid)
            answered = st["headers"] and st["headers"][":status"] == "400"
            self.assertTrue(st["reset"] is not None or answered, (name, st))
            if c.closed:
                c = self.client()
        self.assertEqual(bytes(up.received), b"", "a malformed request reached the upstream")
        # The same connection (when it lives) and a new one still work.
        if not c.closed:
            sid = c.request("/after")
            self.assertEqual(c.status(sid), 200)
        self.assert_served()
        self.assertIn(b"GET /after", bytes(up.received))

    def test_content_length_disagreeing_with_data_is_reset(self):
        # The head went upstream as soon as it was valid (bodies stream), so the upstream may
        # have the start of the request; it never gets a complete one, and its connection is
        # closed rather than reused.
        def reply(data):
            return None  # never answers: the request is never complete

        up = self.recording(reply=reply)
        self.start_h2c([up.port])
        c = self.client()
        short = c.request("/short", method="POST", extra=[("content-length", "10")],
                          body=b"12345", end=True)
        st = c.wait(short)
        self.assertIsNotNone(st["reset"], st)
        if c.closed:
            c = self.client()
        long_ = c.request("/long", method="POST", extra=[("content-length", "3")],
                          body=b"123456", end=True)
        st = c.wait(long_)
        self.assertIsNotNone(st["reset"], st)
        got = bytes(up.received)
        for request in got.split(b"POST ")[1:]:
            head, _, body = request.partition(b"\r\n\r\n")
            length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")][0])
            self.assertLess(len(body), length, got)

    # --- abuse ------------------------------------------------------------------------------

    def test_rapid_reset_flood_gets_goaway_and_others_are_served(self):
        up = self.recording()
        self.start_h2c([up.port])
        c = self.client()
        # CVE-2023-44487: open a stream and reset it at once, as fast as the socket takes it.
        burst = bytearray()
        sid = 1
        block = c.conn.encoder.encode([(":method", "GET"), (":scheme", "http"),
                                       (":authority", "a"), (":path", "/")])
        sent = 0
        try:
            for _ in range(20):
                burst.clear()
                for _ in range(500):
                    burst += frame(0x1, 0x5, sid, block)  # HEADERS, END_STREAM|END_HEADERS
                    burst += frame(0x3, 0x0, sid, struct.pack(">I", 0x8))  # RST_STREAM CANCEL
                    sid += 2
                c.send_raw(bytes(burst))
                sent += 500
        except OSError:
            pass  # the server closed on us: fine
        c.wait_goaway()
        self.assertTrue(c.goaway in (ENHANCE_YOUR_CALM, 0x2) or c.closed,
                        "no GOAWAY after %d rapid resets (goaway=%r)" % (sent, c.goaway))
        self.assert_served()

    def test_continuation_flood_is_cut_off(self):
        self.start_h2c([self.recording().port])
        c = self.client()
        block = c.conn.encoder.encode([(":method", "GET"), (":scheme", "http"),
                                       (":authority", "a"), (":path", "/")])
        try:
            c.send_raw(frame(0x1, 0x0, 1, block))  # HEADERS without END_HEADERS
            junk = frame(0x9, 0x0, 1, b"\x40\x01a\x01b" * 200)  # CONTINUATION, literal fields
            for _ in range(2000):
                c.send_raw(junk)
        except OSError:
            pass
        c.wait_goaway()
        self.assertTrue(c.goaway is not None or c.closed)
        self.assert_served()

    def assert_control_flood_calmed(self, one_frame, count=20000):
        """`count` copies of a control frame: GOAWAY(ENHANCE_YOUR_CALM) (or a close), and
        another client is served."""
        self.start_h2c([self.recording().port])
        c = self.client()
        try:
            c.send_raw(one_frame * count)
        except OSError:
            pass
        c.wait_goaway()
        self.assertTrue(c.goaway == ENHANCE_YOUR_CALM or c.closed, c.goaway)
        self.assert_served()

    def test_ping_flood_gets_enhance_your_calm(self):
        self.assert_control_flood_calmed(frame(0x6, 0x0, 0, b"12345678"))

    def test_settings_flood_gets_enhance_your_calm(self):
        self.assert_control_flood_calmed(frame(0x4, 0x0, 0, b"\x00\x03\x00\x00\x00\x64"))

    def test_oversized_header_block_gets_431_and_reaches_nothing(self):
        up = self.recording()
        self.start_h2c([up.port], extra_listener="max_header_bytes = 4096\n")
        c = self.client()
        sid = c.request("/big", extra=[("x-big-%d" % i, "v" * 200) for i in range(40)])
        st = c.wait(sid)
        answered = st["headers"] and st["headers"][":status"] == "431"
        self.assertTrue(answered or st["reset"] is not None or c.closed, st)
        self.assertEqual(bytes(up.received), b"")
        self.assert_served()

    def test_a_client_that_never_reads_does_not_stall_others(self):
        # Enough backend threads that the stuck streams (each holding a Gunicorn thread blocked
        # on its send) leave some free.
        backends = self.start_backends(1, threads=16)
        self.start_h2c([backends[0].port])
        stuck = self.client()
        sids = [stuck.request("/bytes/%d" % (4 * 1024 * 1024)) for _ in range(4)]
        # `stuck` never reads again: its windows stay shut once the first 64 KiB went out.
        for _ in range(3):
            self.assert_served()
        self.assertTrue(all(not stuck.streams[sid]["ended"] for sid in sids))

    def test_client_reset_aborts_the_upstream_work(self):
        backends = self.start_backends(1)
        self.start_h2c([backends[0].port])
        c = self.client()
        sid = c.request("/slow?ms=3000")
        time.sleep(0.3)
        c.conn.reset_stream(sid, error_code=0x8)
        c.flush()
        deadline = time.monotonic() + 10
        line = None
        while line is None and time.monotonic() < deadline:
            for entry in access_lines(self.sluice.output()):
                if entry["target"].startswith("/slow"):
                    line = entry
            time.sleep(0.05)
        self.assertIsNotNone(line, self.sluice.output()[-2000:])
        self.assertEqual((line["status"], line["termination"], line["protocol"]),
                         (499, "client_abort", "HTTP/2.0"))
        sid = c.request("/")
        self.assertEqual(c.status(sid), 200)

    # --- graceful stop and reload -----------------------------------------------------------

    def test_graceful_stop_finishes_streams_in_flight(self):
        def slow_reply(data):
            if b"\r\n\r\n" not in data:
                return None
            time.sleep(1.5)  # in the upstream's thread: the request is in flight meanwhile
            return b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nslow-done"

        up = self.recording(reply=slow_reply)
        port = self.start_h2c([up.port])
        # nghttp, not the h2 library: that one takes the first GOAWAY as the connection's end.
        client = subprocess.Popen(["nghttp", "-v", "http://127.0.0.1:%d/slow" % port],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.add_cleanup(client.kill)
        deadline = time.monotonic() + 10
        while b"GET /slow" not in bytes(up.received) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.sluice.signal(signal.SIGTERM)
        out = client.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertEqual(client.returncode, 0, out[-3000:])
        self.assertIn(":status: 200", out)
        self.assertIn("slow-done", out)
        self.assertIn("recv GOAWAY frame", out)
        self.assertEqual(self.sluice.proc.wait(20), 0)
        with self.assertRaises(OSError):  # stopped: nothing listens any more
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

    def test_new_streams_after_a_reload_use_the_new_config(self):
        # (A server whose address changes is a new server: no pooled connection to the old
        # address is used after the reload.)
        first, second = self.recording(), self.recording(
            reply=lambda d: b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew" if b"\r\n\r\n" in d
            else None)
        self.start_h2c([first.port])
        c = self.client()
        sid = c.request("/one")
        self.assertEqual(bytes(c.wait(sid)["data"]), b"ok")
        listener = 'name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\nh2c = true\n' % self.port
        with open(self.sluice.config_path, "w") as f:
            f.write(json_log(sluice_config(self.workdir, [listener],
                                           [pool_toml("app", [second.port])], workers=1)))
        self.sluice.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        body = None
        while time.monotonic() < deadline:
            sid = c.request("/two")
            body = bytes(c.wait(sid)["data"])
            if body == b"new":
                break
            time.sleep(0.1)
        self.assertEqual(body, b"new")  # same connection, new stream, new pool
        self.assertFalse(c.closed)


if __name__ == "__main__":
    unittest.main()
