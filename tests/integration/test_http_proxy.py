"""L7 proxying through the real sluice binary to real Gunicorn/Django backends."""

import json
import os
import socket
import time
import unittest

from harness import (SluiceTestCase, free_port, http_request, pool_toml, read_response, sha256,
                     sluice_config)


class HttpProxyTest(SluiceTestCase):
    def start_proxy(self, backends_ports, pool_extra="", listener_extra="", workers=2):
        port = free_port()
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\nmode = "http"\npool = "app"\n%s'
             % (port, listener_extra)],
            [pool_toml("app", backends_ports, pool_extra)], workers=workers)
        self.sluice = self.start_sluice(config, port)
        return port

    def test_requests_round_robin_across_three_backends(self):
        backends = self.start_backends(3)
        # One worker: round robin order is then exact, not per-worker interleaved.
        port = self.start_proxy([b.port for b in backends], workers=1)
        seen = []
        for _ in range(9):
            status, headers, body = http_request(port, path="/")
            self.assertEqual(status, 200)
            seen.append(json.loads(body)["backend"])
        self.assertEqual(sorted(set(seen)), ["app1", "app2", "app3"])
        # Every backend exactly three times, and never the same backend twice in a row.
        for name in ("app1", "app2", "app3"):
            self.assertEqual(seen.count(name), 3, seen)
        for a, b in zip(seen, seen[1:]):
            self.assertNotEqual(a, b, seen)

    def test_keep_alive_client_gets_many_responses_on_one_connection(self):
        backends = self.start_backends(2)
        port = self.start_proxy([b.port for b in backends], workers=1)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            names = []
            for i in range(6):
                s.sendall(b"GET /?i=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
                status, headers, body, _ = read_response(s)
                self.assertEqual(status, 200)
                self.assertNotEqual(headers.get("connection", "").lower(), "close")
                names.append(json.loads(body)["backend"])
            self.assertEqual(set(names), {"app1", "app2"})

    def test_post_body_arrives_intact(self):
        backends = self.start_backends(1)
        port = self.start_proxy([backends[0].port])
        body = os.urandom(1024 * 1024 + 17)
        status, headers, rbody = http_request(port, "POST", "/echo", body=body)
        self.assertEqual(status, 200)
        echoed = json.loads(rbody)
        self.assertEqual(echoed["length"], len(body))
        self.assertEqual(echoed["sha256"], sha256(body))

    def test_chunked_post_body_arrives_intact(self):
        backends = self.start_backends(1)
        port = self.start_proxy([backends[0].port])
        body = os.urandom(300000)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"Connection: close\r\n\r\n")
            for i in range(0, len(body), 7000):
                piece = body[i:i + 7000]
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            s.sendall(b"0\r\n\r\n")
            status, headers, rbody, _ = read_response(s)
        self.assertEqual(status, 200)
        echoed = json.loads(rbody)
        self.assertEqual((echoed["length"], echoed["sha256"]), (len(body), sha256(body)))

    def test_large_download_streams_intact(self):
        backends = self.start_backends(1)
        port = self.start_proxy([backends[0].port])
        n = 5 * 1024 * 1024
        for query in ("", "?chunked=1"):
            status, headers, body = http_request(port, path="/bytes/%d%s" % (n, query), timeout=30)
            self.assertEqual(status, 200)
            self.assertEqual(len(body), n)
            self.assertEqual(sha256(body), sha256(bytes(i % 256 for i in range(n))))

    def test_forwarded_headers_and_request_id_reach_the_backend(self):
        backends = self.start_backends(1)
        port = self.start_proxy([backends[0].port])
        status, headers, body = http_request(port, "POST", "/echo", body=b"x",
                                             headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(status, 200)
        seen = {k.lower(): v for k, v in json.loads(body)["headers"].items()}
        # The client is not in trusted_proxies (none by default): its own value is replaced.
        self.assertEqual(seen.get("x-forwarded-for"), "127.0.0.1")
        self.assertEqual(seen.get("x-forwarded-proto"), "http")
        rid = headers.get("x-request-id")
        self.assertTrue(rid)
        self.assertEqual(seen.get("x-request-id"), rid)

    def test_dead_backend_gives_502_not_a_hang(self):
        dead_port = self.dead_port()  # nothing listens there
        port = self.start_proxy([dead_port], pool_extra='connect_timeout = "1s"\nretries = 1')
        start = time.monotonic()
        status, headers, body = http_request(port, timeout=10)
        self.assertEqual(status, 502)
        self.assertEqual(headers.get("connection"), "close")
        self.assertLess(time.monotonic() - start, 5)

    def test_dead_backend_is_skipped_for_a_live_one(self):
        backends = self.start_backends(1)
        dead_port = self.dead_port()
        port = self.start_proxy([dead_port, backends[0].port], workers=1)
        for _ in range(4):
            status, headers, body = http_request(port)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["backend"], "app1")

    def test_backend_killed_before_responding_gives_502(self):
        backends = self.start_backends(1, workers=1)
        port = self.start_proxy([backends[0].port])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /slow?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.5)
            backends[0].kill()
            status, headers, body, _ = read_response(s)
            # Killed before any response byte: a clean 502, never a 200.
            self.assertEqual(status, 502)

    def test_http10_client_gets_an_unchunked_response_and_a_close(self):
        backends = self.start_backends(1)
        port = self.start_proxy([backends[0].port])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /bytes/70000?chunked=1 HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break  # close-delimited: the proxy closes after the body
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertNotIn(b"transfer-encoding", head.lower())
        self.assertEqual(body, bytes(i % 256 for i in range(70000)))

    def test_client_body_timeout_gives_408(self):
        backends = self.start_backends(1)
        port = self.start_proxy([backends[0].port], listener_extra='client_body_timeout = "500ms"')
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            start = time.monotonic()
            status, headers, body, _ = read_response(s)
        self.assertEqual(status, 408)
        self.assertLess(time.monotonic() - start, 5)

    def test_empty_pool_gives_503_with_retry_after(self):
        port = free_port()
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\nmode = "http"\npool = "empty"' % port],
            ['name = "empty"'])
        self.start_sluice(config, port)
        status, headers, body = http_request(port)
        self.assertEqual(status, 503)
        self.assertIn("retry-after", headers)


if __name__ == "__main__":
    unittest.main()
