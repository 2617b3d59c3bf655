"""Clients that stop: client_body_timeout per HTTP/2 stream (a stream whose client stops sending
its request body is answered 408, or reset once its response started; its upstream connection
is not reused; the connection's other streams and new ones are served), and a client that takes
no byte of its response for idle_timeout (HTTP/1.1 and HTTP/2: reset, logged client_timeout,
the upstream connection closed)."""

import json
import os
import socket
import threading
import sys
import time
import unittest

import h2.settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RawServer, RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
                     sluice_config)
from test_trailers import H2, request_done  # noqa: E402


def stream_request(client, path, end=False, body=None, extra=()):
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, [(":method", "POST" if not end else "GET"), (":scheme", "http"),
                                   (":authority", "a.test"), (":path", path)] + list(extra),
                             end_stream=end)
    if body is not None:
        client.conn.send_data(sid, body)
    client.sock.sendall(client.conn.data_to_send())
    return sid


class ClientTimeoutsTest(SluiceTestCase):
    def start(self, reply, upstream_port=None, extra=""):
        if upstream_port is None:
            self.up = RecordingUpstream(reply=reply)
            self.add_cleanup(self.up.close)
            upstream_port = self.up.port
        self.port = free_port()
        listener = ('name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\nh2c = true\n'
                    'client_body_timeout = "300ms"\n%s' % (self.port, extra))
        text = sluice_config(self.workdir, [listener], [pool_toml("app", [upstream_port])],
                             workers=1)
        text = text.replace("[log]\n", '[log]\naccess_log_format = "json"\n')
        self.sluice = self.start_sluice(text, self.port)

    def new_client(self):
        c = H2(self.port)
        self.add_cleanup(c.close)
        return c

    def access_log(self, termination):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in self.sluice.output().splitlines():
                if line.startswith("{") and '"termination"' in line:
                    entry = json.loads(line)
                    if entry["termination"] == termination:
                        return entry
            time.sleep(0.05)
        return None

    def test_a_stalled_body_gets_408_and_the_connection_goes_on(self):
        ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        self.start(lambda data: ok if request_done(data) else None)
        c = self.new_client()
        stalled = stream_request(c, "/upload", body=b"abc")  # no END_STREAM, then nothing
        r = c.run(stalled, timeout=15)
        self.assertEqual((r["headers"] or {}).get(":status"), "408", r)
        entry = self.access_log("client_body_timeout")
        self.assertIsNotNone(entry, self.sluice.output()[-2000:])
        self.assertEqual(entry["status"], 408)
        self.assertEqual(entry["protocol"], "HTTP/2.0")
        # The upstream saw the head and the bytes that came, never a complete request.
        with self.up.lock:
            got = bytes(self.up.received)
        self.assertTrue(got.endswith(b"3\r\nabc\r\n"), got)
        # The same connection serves the next stream, on a new upstream connection.
        c.result = {"headers": None, "data": b"", "trailers": None, "ended": False,
                    "reset": None}
        sid = stream_request(c, "/next", end=True)
        self.assertEqual(c.run(sid)["headers"][":status"], "200")
        self.assertEqual(self.up.connections, 2)

    def test_a_body_that_keeps_coming_is_not_timed_out(self):
        ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        self.start(lambda data: ok if request_done(data) else None)
        c = self.new_client()
        sid = stream_request(c, "/slow", body=b"a")
        # Ten pieces 100 ms apart: 1 s in all, each gap well inside the 300 ms timeout.
        for _ in range(10):
            time.sleep(0.1)
            c.conn.send_data(sid, b"b")
            c.sock.sendall(c.conn.data_to_send())
        c.conn.end_stream(sid)
        c.sock.sendall(c.conn.data_to_send())
        r = c.run(sid)
        self.assertEqual(r["headers"][":status"], "200", r)
        self.assertIsNone(self.access_log_now("client_body_timeout"))

    def access_log_now(self, termination):
        for line in self.sluice.output().splitlines():
            if line.startswith("{") and '"termination"' in line:
                if json.loads(line)["termination"] == termination:
                    return line
        return None

    def test_a_stall_after_the_response_started_resets_the_stream(self):
        # The upstream answers as soon as the head is in, with a body it never finishes.
        self.start(lambda data: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart"
                                 if b"\r\n\r\n" in data else None))
        c = self.new_client()
        sid = stream_request(c, "/early", body=b"abc")
        r = c.run(sid, timeout=15)
        self.assertEqual((r["headers"] or {}).get(":status"), "200", r)
        self.assertIsNotNone(r["reset"], r)  # the truncation is visible to the client
        self.assertIsNotNone(self.access_log("client_body_timeout"), self.sluice.output()[-3000:])


    def flooding_upstream(self):
        """A raw upstream that answers with a 64 MiB body and writes it as fast as it is taken;
        `done` is set when its connection ends (sluice closed it, or the body went out)."""
        done = threading.Event()
        outcome = {}

        def handler(conn):
            conn.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (64 << 20))
            piece = b"x" * (1 << 20)
            try:
                for _ in range(64):
                    conn.sendall(piece)
                outcome["sent"] = "all"
            except OSError as e:
                outcome["sent"] = "closed: %s" % e
            finally:
                done.set()

        up = RawServer(handler)
        self.add_cleanup(up.close)
        return up, done, outcome

    def test_an_http11_client_that_never_reads_is_cut_after_idle_timeout(self):
        up, done, outcome = self.flooding_upstream()
        self.start(None, upstream_port=up.port, extra='idle_timeout = "1s"\n')
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.add_cleanup(s.close)
        s.connect(("127.0.0.1", self.port))
        s.sendall(b"GET /big HTTP/1.1\r\nHost: a.test\r\n\r\n")  # and never reads
        self.assertTrue(done.wait(20), "the upstream connection was never closed")
        self.assertTrue(outcome["sent"].startswith("closed"), outcome)
        entry = self.access_log("client_timeout")
        self.assertIsNotNone(entry, self.sluice.output()[-2000:])
        self.assertEqual(entry["status"], 200)  # the status that went out
        # The client was reset, not left hanging: reading now ends (RST or EOF after the data).
        s.settimeout(10)
        try:
            while s.recv(1 << 20):
                pass
        except ConnectionResetError:
            pass

    def test_an_http2_stream_whose_window_stays_shut_is_reset_after_idle_timeout(self):
        up, done, outcome = self.flooding_upstream()
        self.start(None, upstream_port=up.port, extra='idle_timeout = "1s"\n')
        c = self.new_client()
        # A stream window of 0: no DATA can go out on this stream until the client opens it.
        c.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        c.sock.sendall(c.conn.data_to_send())
        sid = stream_request(c, "/big", end=True)
        r = c.run(sid, timeout=20)
        self.assertEqual((r["headers"] or {}).get(":status"), "200", r)
        self.assertIsNotNone(r["reset"], r)
        self.assertTrue(done.wait(20), "the upstream connection was never closed")
        entry = self.access_log("client_timeout")
        self.assertIsNotNone(entry, self.sluice.output()[-2000:])
        self.assertEqual(entry["protocol"], "HTTP/2.0")


if __name__ == "__main__":
    unittest.main()
