"""client_body_timeout per HTTP/2 stream: a stream whose client stops sending its request body
is answered 408 (or reset, once its response started), its upstream connection is not reused,
and the connection's other streams and new ones are served."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
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


class Http2BodyTimeoutTest(SluiceTestCase):
    def start(self, reply):
        self.up = RecordingUpstream(reply=reply)
        self.add_cleanup(self.up.close)
        self.port = free_port()
        listener = ('name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\nh2c = true\n'
                    'client_body_timeout = "300ms"\n' % self.port)
        text = sluice_config(self.workdir, [listener], [pool_toml("app", [self.up.port])],
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


if __name__ == "__main__":
    unittest.main()
