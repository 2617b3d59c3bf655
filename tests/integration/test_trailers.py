"""Trailer sections through sluice, where HTTP/1.1 can carry them (a chunked body): upstream
response trailers to HTTP/1.1 clients (chunked) and HTTP/2 clients (a trailing HEADERS frame),
and client request trailers (HTTP/1.1 chunked, HTTP/2 trailing HEADERS) to the upstream's
chunked request. Fields a trailer may not carry on (framing, routing, connection and forwarding
fields) are dropped. The upstreams are raw sockets that record the bytes they receive."""

import os
import socket
import sys
import time
import unittest

import h2.config
import h2.connection
import h2.events

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
                     sluice_config)

CHUNKED_WITH_TRAILERS = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                         b"5\r\nhello\r\n0\r\nX-Sum: 42\r\nContent-Length: 99\r\n"
                         b"Grpc-Status: 0\r\n\r\n")


def request_done(data):
    """True once `data` holds a whole request: its head, and for a chunked body its last chunk
    and trailer section."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end].lower()
    if b"transfer-encoding: chunked" not in head:
        for line in head.split(b"\r\n"):
            if line.startswith(b"content-length:"):
                return len(data) - end - 4 >= int(line.split(b":", 1)[1])
        return True
    body = data[end + 4:]
    return (body.startswith(b"0\r\n") or b"\r\n0\r\n" in body) and body.endswith(b"\r\n\r\n")


def answer(reply):
    return lambda data: reply if request_done(data) else None


def read_http11_response(sock, timeout=10.0):
    """Bytes of one chunked response, up to the end of its trailer section."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0 and b"\r\n0\r\n" in data[head_end:] and data.endswith(b"\r\n\r\n") \
                and data.rfind(b"\r\n0\r\n") > head_end - 2:
            return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    return data


class H2:
    """A minimal h2c prior-knowledge client that records trailers too."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.result = {"headers": None, "data": b"", "trailers": None, "ended": False,
                       "reset": None}

    def run(self, sid, timeout=10.0):
        deadline = time.monotonic() + timeout
        r = self.result
        while not r["ended"] and r["reset"] is None and time.monotonic() < deadline:
            data = self.sock.recv(65536)
            if not data:
                break
            for ev in self.conn.receive_data(data):
                if getattr(ev, "stream_id", None) != sid:
                    continue
                if isinstance(ev, h2.events.ResponseReceived):
                    r["headers"] = dict(ev.headers)
                elif isinstance(ev, h2.events.DataReceived):
                    r["data"] += ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.TrailersReceived):
                    r["trailers"] = list(ev.headers)
                elif isinstance(ev, h2.events.StreamEnded):
                    r["ended"] = True
                elif isinstance(ev, h2.events.StreamReset):
                    r["reset"] = ev.error_code
            out = self.conn.data_to_send()
            if out:
                self.sock.sendall(out)
        return r

    def close(self):
        self.sock.close()


class TrailersTest(SluiceTestCase):
    def start(self, reply):
        self.up = RecordingUpstream(reply=answer(reply))
        self.add_cleanup(self.up.close)
        self.port = free_port()
        listener = 'name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\nh2c = true\n' % self.port
        self.sluice = self.start_sluice(
            sluice_config(self.workdir, [listener], [pool_toml("app", [self.up.port])],
                          workers=1), self.port)

    def received(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.up.lock:
                data = bytes(self.up.received)
            if request_done(data):
                return data
            time.sleep(0.02)
        return data

    def test_response_trailers_reach_an_http11_client_in_the_last_chunk(self):
        self.start(CHUNKED_WITH_TRAILERS)
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            data = read_http11_response(s)
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"transfer-encoding: chunked", head.lower())
        # The body, then the trailers the upstream sent, less the framing field.
        self.assertTrue(body.endswith(b"5\r\nhello\r\n0\r\nX-Sum: 42\r\nGrpc-Status: 0\r\n\r\n"),
                        body)
        self.assertNotIn(b"Content-Length: 99", data)

    def test_an_http10_client_gets_the_body_without_trailers(self):
        self.start(CHUNKED_WITH_TRAILERS)
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: a.test\r\n\r\n")
            s.settimeout(10)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertEqual(body, b"hello")  # no chunked coding for HTTP/1.0: no trailer section
        self.assertNotIn(b"X-Sum", data)

    def test_response_trailers_reach_an_http2_client_as_trailing_headers(self):
        self.start(CHUNKED_WITH_TRAILERS)
        c = H2(self.port)
        self.add_cleanup(c.close)
        sid = c.conn.get_next_available_stream_id()
        c.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"),
                                  (":authority", "a.test"), (":path", "/")], end_stream=True)
        c.sock.sendall(c.conn.data_to_send())
        r = c.run(sid)
        self.assertTrue(r["ended"], r)
        self.assertEqual(r["headers"][":status"], "200")
        self.assertEqual(r["data"], b"hello")
        self.assertEqual(r["trailers"], [("x-sum", "42"), ("grpc-status", "0")])

    def test_http11_request_trailers_follow_the_chunked_body_upstream(self):
        self.start(b"HTTP/1.1 204 No Content\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"3\r\nabc\r\n0\r\nX-Checksum: 900150983cd2\r\nHost: evil.test\r\n"
                      b"Content-Length: 3\r\n\r\n")
            s.settimeout(10)
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 204"))
        sent = self.received()
        self.assertTrue(sent.endswith(b"3\r\nabc\r\n0\r\nX-Checksum: 900150983cd2\r\n\r\n"), sent)
        self.assertNotIn(b"evil.test", sent)

    def test_http2_request_trailers_reach_the_upstream_in_a_chunked_request(self):
        self.start(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        c = H2(self.port)
        self.add_cleanup(c.close)
        sid = c.conn.get_next_available_stream_id()
        c.conn.send_headers(sid, [(":method", "POST"), (":scheme", "http"),
                                  (":authority", "a.test"), (":path", "/grpc"),
                                  ("te", "trailers")])
        c.conn.send_data(sid, b"abc")
        c.conn.send_headers(sid, [("x-checksum", "900150983cd2")], end_stream=True)
        c.sock.sendall(c.conn.data_to_send())
        r = c.run(sid)
        self.assertEqual(r["headers"][":status"], "200")
        sent = self.received()
        head = sent.split(b"\r\n\r\n", 1)[0].lower()
        self.assertIn(b"transfer-encoding: chunked", head)
        self.assertTrue(sent.endswith(b"3\r\nabc\r\n0\r\nx-checksum: 900150983cd2\r\n\r\n"), sent)

    def test_http2_request_trailers_after_a_content_length_body_are_dropped(self):
        self.start(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        c = H2(self.port)
        self.add_cleanup(c.close)
        sid = c.conn.get_next_available_stream_id()
        c.conn.send_headers(sid, [(":method", "POST"), (":scheme", "http"),
                                  (":authority", "a.test"), (":path", "/"),
                                  ("content-length", "3")])
        c.conn.send_data(sid, b"abc")
        c.conn.send_headers(sid, [("x-checksum", "1")], end_stream=True)
        c.sock.sendall(c.conn.data_to_send())
        r = c.run(sid)
        self.assertEqual(r["headers"][":status"], "200")
        sent = self.received()
        self.assertIn(b"content-length: 3\r\n", sent.lower())
        self.assertTrue(sent.endswith(b"\r\n\r\nabc"), sent)  # HTTP/1.1 cannot carry them here


if __name__ == "__main__":
    unittest.main()
