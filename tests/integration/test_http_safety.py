"""Desync defence and limits end to end: each malformed request gets its 4xx from the real
sluice binary and not one byte of it (nor anything pipelined after it) reaches the upstream,
a raw socket that records every byte it receives."""

import json
import os
import socket
import time
import unittest

from harness import (RecordingUpstream, SluiceTestCase, free_port, http_request, pool_toml,
                     read_response, sluice_config, take_unread)

H = b"Host: a.example\r\n"

# (name, raw request bytes, expected status)
CASES = [
    ("cl_and_te", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_and_cl", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400),
    ("duplicate_cl", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
    ("cl_list", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1, 1\r\n\r\nx", 400),
    ("cl_negative", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("cl_plus", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +1\r\n\r\nx", 400),
    ("cl_hex", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x1\r\n\r\nx", 400),
    ("cl_space_inside", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1 0\r\n\r\n", 400),
    ("cl_overflow", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n", 400),
    ("te_xchunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
    ("te_chunked_identity", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    ("te_gzip_chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("te_twice", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_tab", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding:\tchunked \r\n\r\n0\r\n\r\n", 400),
    ("te_quoted", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400),
    ("te_on_http10", b"POST / HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("obs_fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: 1\r\n  folded\r\n\r\n", 400),
    ("space_before_colon", b"GET / HTTP/1.1\r\n" + H + b"X-A : 1\r\n\r\n", 400),
    ("bare_lf_header", b"GET / HTTP/1.1\r\n" + H + b"X-A: 1\nX-B: 2\r\n\r\n", 400),
    ("bare_lf_request_line", b"GET / HTTP/1.1\n" + H + b"\r\n", 400),
    ("bare_lf_end", b"GET / HTTP/1.1\r\n" + H + b"\n", 400),
    ("bare_cr", b"GET / HTTP/1.1\r\n" + H + b"X-A: 1\rX-B: 2\r\n\r\n", 400),
    ("nul_in_value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    ("ctl_in_value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n", 400),
    ("bad_header_name", b"GET / HTTP/1.1\r\n" + H + b"X(A): 1\r\n\r\n", 400),
    ("empty_header_name", b"GET / HTTP/1.1\r\n" + H + b": 1\r\n\r\n", 400),
    ("missing_host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("double_host", b"GET / HTTP/1.1\r\n" + H + b"Host: b.example\r\n\r\n", 400),
    ("host_with_space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("host_with_at", b"GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n", 400),
    ("absolute_form_mismatch", b"GET http://b.example/ HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("connect", b"CONNECT a.example:443 HTTP/1.1\r\n" + H + b"\r\n", 501),
    ("asterisk_with_get", b"GET * HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("bad_target", b"GET a/b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("http2_line", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("http09_line", b"GET / HTTP/0.9\r\n" + H + b"\r\n", 505),
    ("double_space_request_line", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("request_line_too_long", b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    ("headers_too_large", b"GET / HTTP/1.1\r\n" + H + b"X-A: " + b"a" * 40000 + b"\r\n\r\n", 431),
    ("too_many_headers", b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n", 431),
]

# Bad inputs that are only discovered inside a chunked body: the head has gone upstream by then,
# so these assert the status and that the upstream never saw a complete request (no terminating
# chunk), i.e. it cannot have acted on it.
BODY_CASES = [
    ("chunk_size_overflow", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 400),
    ("chunk_size_bad_char", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5z\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_missing_crlf", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    ("chunk_extension_too_long", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;" + b"a" * 70000 + b"\r\nhello\r\n0\r\n\r\n", 400),
]

SMUGGLED = b"GET /smuggled HTTP/1.1\r\n" + H + b"\r\n"


class HttpSafetyTest(SluiceTestCase):
    def start_proxy(self, listener_extra=""):
        self.upstream = RecordingUpstream()
        self.add_cleanup(self.upstream.close)
        port = free_port()
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n%s' % (port, listener_extra)],
            [pool_toml("app", [self.upstream.port])], workers=1)
        self.start_sluice(config, port)
        return port

    def exchange(self, port, raw):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            try:
                s.sendall(raw)
            except OSError:
                pass  # sluice may answer and close before reading everything
            status, headers, body, _ = read_response(s)
            # The connection is closed after a rejected request.
            s.settimeout(5)
            rest = take_unread(s)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
            except OSError:
                pass
            return status, headers, rest

    def test_malformed_requests_get_their_status_and_never_reach_the_upstream(self):
        port = self.start_proxy()
        self.assertGreaterEqual(len(CASES) + len(BODY_CASES), 35)
        for name, raw, expected in CASES:
            with self.subTest(name):
                before = len(self.upstream.received)
                # Anything pipelined after the bad request must not reach the upstream either.
                status, headers, rest = self.exchange(port, raw + SMUGGLED)
                self.assertEqual(status, expected, name)
                self.assertEqual(headers.get("connection"), "close", name)
                self.assertEqual(rest, b"", name)
                time.sleep(0.05)
                self.assertEqual(bytes(self.upstream.received[before:]), b"", name)

    def test_bad_chunked_bodies_never_complete_upstream(self):
        port = self.start_proxy()
        for name, raw, expected in BODY_CASES:
            with self.subTest(name):
                before = len(self.upstream.received)
                status, headers, rest = self.exchange(port, raw + SMUGGLED)
                self.assertEqual(status, expected, name)
                time.sleep(0.05)
                got = bytes(self.upstream.received[before:])
                # The head went upstream (the error is inside the body); the body must never
                # be terminated, so the upstream cannot act on it. Look past the head only: a
                # generated request id may end in "0" right before the head's blank line.
                body = got.partition(b"\r\n\r\n")[2]
                self.assertNotIn(b"0\r\n\r\n", body, name)
                self.assertNotIn(b"smuggled", got, name)

    def test_valid_pipelined_requests_are_answered_in_order(self):
        port = self.start_proxy()
        raw = b"".join(b"GET /%d HTTP/1.1\r\n%s\r\n" % (i, H) for i in range(3))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(raw)
            for _ in range(3):
                self.assertEqual(read_response(s)[0], 200)
        got = bytes(self.upstream.received)
        self.assertLess(got.index(b"GET /0 "), got.index(b"GET /1 "))
        self.assertLess(got.index(b"GET /1 "), got.index(b"GET /2 "))

    def test_hop_by_hop_headers_are_removed_but_host_is_kept(self):
        port = self.start_proxy()
        status, _, _ = http_request(port, headers={"Connection": "keep-alive, X-Secret, Host",
                                                   "X-Secret": "1", "Keep-Alive": "timeout=5",
                                                   "Upgrade": "h2c"})
        self.assertEqual(status, 200)
        got = bytes(self.upstream.received).lower()
        self.assertNotIn(b"x-secret", got)
        self.assertNotIn(b"keep-alive: timeout", got)
        self.assertNotIn(b"upgrade: h2c", got)
        self.assertIn(b"\r\nhost: 127.0.0.1", got)

    def test_bad_upstream_framing_becomes_502(self):
        bad = RecordingUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.add_cleanup(bad.close)
        port = free_port()
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [bad.port], "retries = 0")], workers=1)
        self.start_sluice(config, port)
        self.assertEqual(http_request(port)[0], 502)

    def test_slowloris_gets_408(self):
        port = self.start_proxy('client_header_timeout = "1s"')
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            start = time.monotonic()
            s.sendall(b"GET / HTTP/1.1\r\n")
            status = None
            try:
                for _ in range(20):  # trickle a byte every 200 ms: the head never completes
                    s.sendall(b"X")
                    time.sleep(0.2)
            except OSError:
                pass
            status = read_response(s)[0]
            self.assertEqual(status, 408)
            self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(bytes(self.upstream.received), b"")

    def test_body_over_max_body_bytes_gets_413(self):
        port = self.start_proxy('max_body_bytes = "1KiB"')
        status, _, _ = http_request(port, "POST", "/", body=b"x" * 2000)
        self.assertEqual(status, 413)
        self.assertEqual(bytes(self.upstream.received), b"")

    def test_response_timeout_gives_504(self):
        silent = RecordingUpstream(lambda data: None)  # reads, never answers
        self.add_cleanup(silent.close)
        port = free_port()
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [silent.port], 'response_timeout = "500ms"\nretries = 0')],
            workers=1)
        self.start_sluice(config, port)
        self.assertEqual(http_request(port)[0], 504)

    def test_json_access_log_records_the_request(self):
        port = free_port()
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        log_path = os.path.join(self.workdir, "access.log")
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [upstream.port])], workers=1, access_log=log_path)
        config = config.replace('[log]\n', '[log]\naccess_log_format = "json"\n')
        self.start_sluice(config, port)
        status, headers, _ = http_request(port, path="/logged?x=1")
        self.assertEqual(status, 200)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not os.path.getsize(log_path):
            time.sleep(0.05)
        entry = json.loads(open(log_path).read().splitlines()[-1])
        self.assertEqual(entry["status"], 200)
        self.assertEqual(entry["target"], "/logged?x=1")
        self.assertEqual(entry["upstream"], "app1")
        self.assertEqual(entry["request_id"], headers["x-request-id"])


    def test_json_access_log_stays_json_with_invalid_utf8_in_headers(self):
        port = free_port()
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        log_path = os.path.join(self.workdir, "access.log")
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [upstream.port])], workers=1, access_log=log_path)
        config = config.replace('[log]\n', '[log]\naccess_log_format = "json"\n')
        self.start_sluice(config, port)
        # Bytes 0xff 0xfe are never UTF-8; latin-1 sends them as they are.
        status, _, _ = http_request(port, headers={"User-Agent": "bot\xff\xfe/1"})
        self.assertEqual(status, 200)
        # HTTP/1.0 without Host, the invalid bytes in Referer this time.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /no-host HTTP/1.0\r\nReferer: http://x/\xc3\r\n\r\n")
            self.assertEqual(read_response(s)[0], 200)
        deadline = time.monotonic() + 5
        lines = []
        while time.monotonic() < deadline and len(lines) < 2:
            with open(log_path, "rb") as f:
                lines = f.read().splitlines()
            time.sleep(0.05)
        self.assertEqual(len(lines), 2, lines)
        # Strict UTF-8, then strict JSON: a raw 0xff in a line fails one or the other.
        entries = [json.loads(line.decode("utf-8")) for line in lines]
        self.assertEqual(entries[0]["user_agent"], "bot\ufffd\ufffd/1")
        self.assertEqual(entries[1]["target"], "/no-host")
        self.assertEqual(entries[1]["host"], "")
        self.assertEqual(entries[1]["protocol"], "HTTP/1.0")
        self.assertEqual(entries[1]["referer"], "http://x/\ufffd")

if __name__ == "__main__":
    unittest.main()
