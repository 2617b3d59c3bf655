"""The access log as machines read it (issue 17): termination reasons are short fixed tokens,
sluice's own responses count their bytes, and a JSON line stays valid JSON whatever bytes a
client sends in its headers. The real binary, json format, raw sockets."""

import json
import os
import socket
import time
import unittest

from harness import (RecordingUpstream, SluiceTestCase, free_port, pool_toml, read_response,
                     sluice_config)


class AccessLogTest(SluiceTestCase):
    def start_proxy(self, upstream_port, listener_extra=""):
        port = free_port()
        self.access_log = os.path.join(self.workdir, "access.log")
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n%s' % (port, listener_extra)],
            [pool_toml("app", [upstream_port], "retries = 0\n")], workers=1,
            access_log=self.access_log)
        config = config.replace('[log]\n', '[log]\naccess_log_format = "json"\n')
        self.start_sluice(config, port)
        return port

    def entries(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            lines = []
            if os.path.exists(self.access_log):
                with open(self.access_log, "rb") as f:
                    lines = [line for line in f.read().splitlines() if line]
            if len(lines) >= count or time.monotonic() > deadline:
                self.assertGreaterEqual(len(lines), count, "access log: %r" % lines)
                # Every line must be valid UTF-8 JSON: json.loads of bytes checks both.
                return [json.loads(line) for line in lines]
            time.sleep(0.05)

    def exchange(self, port, request):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(request)
            return read_response(s)

    def test_own_responses_have_fixed_termination_tokens_and_their_bytes(self):
        up = RecordingUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        self.add_cleanup(up.close)
        port = self.start_proxy(up.port, "max_body_bytes = 10\n")
        cases = [
            # request, status, termination, body bytes sluice wrote ("400 Bad Request\n")
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request",
             len(b"400 Bad Request\n")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", 413, "body_too_large",
             len(b"413 Content Too Large\n")),
            (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
             "not_implemented", len(b"501 Not Implemented\n")),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "ok", 2),
        ]
        for request, status, _, _ in cases:
            self.assertEqual(self.exchange(port, request)[0], status, request)
        got = [(e["status"], e["termination"], e["bytes"]) for e in self.entries(len(cases))]
        self.assertEqual(got, [(s, t, b) for _, s, t, b in cases])

    def test_upstream_failure_counts_the_502_body(self):
        closed = free_port()  # nothing listens there: connect is refused
        port = self.start_proxy(closed)
        self.assertEqual(self.exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")[0], 502)
        entry = self.entries(1)[0]
        self.assertEqual((entry["status"], entry["termination"], entry["bytes"]),
                         (502, "upstream_error", len(b"502 Bad Gateway\n")))

    def test_json_line_stays_valid_with_invalid_utf8_in_a_header(self):
        up = RecordingUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        self.add_cleanup(up.close)
        port = self.start_proxy(up.port)
        request = (b"GET /cafe HTTP/1.1\r\nHost: x\r\nUser-Agent: bad \xff\xfe ua\r\n"
                   b"Referer: http://r/\xc3\x28\r\n\r\n")
        self.assertEqual(self.exchange(port, request)[0], 200)
        entry = self.entries(1)[0]
        self.assertEqual(entry["status"], 200)
        self.assertTrue(entry["user_agent"].startswith("bad "), entry)
        self.assertTrue(entry["user_agent"].endswith(" ua"), entry)
        self.assertNotIn("\xff", entry["user_agent"])


if __name__ == "__main__":
    unittest.main()
