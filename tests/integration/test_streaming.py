"""Streaming with backpressure (100 MiB each way with bounded proxy memory), Expect:
100-continue and WebSocket upgrades, through the real binary and raw-socket peers."""

import hashlib
import socket
import threading
import time
import unittest

from harness import (RawServer, SluiceTestCase, free_port, pool_toml, read_head, read_response,
                     sluice_config)

MIB = 1024 * 1024
TOTAL = 100 * MIB
BLOCK = bytes(range(256)) * 256  # 64 KiB


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssSampler:
    def __init__(self, pid):
        self.pid = pid
        self.base = rss_kib(pid)
        self.peak = self.base
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.thread.join()
        return (self.peak - self.base) / 1024.0  # MiB


class StreamingTest(SluiceTestCase):
    def start_proxy(self, upstream_port):
        port = free_port()
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [upstream_port], 'response_timeout = "60s"')], workers=1,
            access_log="off")
        self.sluice = self.start_sluice(config, port)
        return port

    def test_upload_of_100_mib_streams_with_bounded_memory(self):
        received = {}

        def upstream(conn):
            head, rest = read_head(conn)
            if head is None:
                return  # readiness probe
            h = hashlib.sha256(rest)
            n = len(rest)
            while n < TOTAL:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
                time.sleep(0.0005)  # a slowish reader: the proxy must push back, not buffer
            received.update(n=n, sha=h.hexdigest())
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

        server = RawServer(upstream)
        self.add_cleanup(server.close)
        port = self.start_proxy(server.port)
        sampler = RssSampler(self.sluice.proc.pid)
        expected = hashlib.sha256()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % TOTAL)
            for _ in range(TOTAL // len(BLOCK)):
                s.sendall(BLOCK)
                expected.update(BLOCK)
            status, _, body, _ = read_response(s, timeout=60)
        growth = sampler.stop()
        self.assertEqual(status, 200)
        self.assertEqual(received, {"n": TOTAL, "sha": expected.hexdigest()})
        self.assertLess(growth, 64, "proxy RSS grew by %.1f MiB" % growth)

    def test_download_of_100_mib_to_a_slow_reader_with_bounded_memory(self):
        def upstream(conn):
            head, _ = read_head(conn)
            if head is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % TOTAL)
            for _ in range(TOTAL // len(BLOCK)):
                conn.sendall(BLOCK)

        server = RawServer(upstream)
        self.add_cleanup(server.close)
        port = self.start_proxy(server.port)
        sampler = RssSampler(self.sluice.proc.pid)
        h = hashlib.sha256()
        n = 0
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            s.sendall(b"GET /download HTTP/1.1\r\nHost: x\r\n\r\n")
            head, rest = read_head(s)
            self.assertIn(b" 200 ", head.split(b"\r\n")[0] + b" ")
            h.update(rest)
            n = len(rest)
            while n < TOTAL:
                chunk = s.recv(256 * 1024)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
                if n < 20 * MIB:
                    time.sleep(0.001)  # slow at first: the upstream must be held back
        growth = sampler.stop()
        self.assertEqual(n, TOTAL)
        self.assertEqual(h.hexdigest(), hashlib.sha256(BLOCK * (TOTAL // len(BLOCK))).hexdigest())
        self.assertLess(growth, 64, "proxy RSS grew by %.1f MiB" % growth)

    def test_expect_100_continue_is_relayed(self):
        def upstream(conn):
            head, rest = read_head(conn)
            if head is None:
                return
            self.assertIn(b"expect: 100-continue", head.lower())
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = rest
            while len(body) < 5:
                body += conn.recv(100)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

        server = RawServer(upstream)
        self.add_cleanup(server.close)
        port = self.start_proxy(server.port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            interim = s.recv(100)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim)
            s.sendall(b"hello")
            status, _, body, _ = read_response(s)
        self.assertEqual((status, body), (200, b"hello"))

    def test_websocket_upgrade_is_tunnelled(self):
        def upstream(conn):
            head, rest = read_head(conn)
            if head is None:
                return
            self.assertIn(b"upgrade: websocket", head.lower())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\n\r\n")
            data = rest
            while True:  # echo frames (bytes) until the client closes
                if data:
                    conn.sendall(data)
                data = conn.recv(65536)
                if not data:
                    return

        server = RawServer(upstream)
        self.add_cleanup(server.close)
        port = self.start_proxy(server.port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            head, rest = read_head(s)
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            for msg in (b"\x81\x05hello", b"\x82\x03abc" * 1000):
                s.sendall(msg)
                got = rest
                rest = b""
                while len(got) < len(msg):
                    got += s.recv(65536)
                self.assertEqual(got, msg)


if __name__ == "__main__":
    unittest.main()
