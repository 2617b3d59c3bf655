"""max_connections_per_ip: a client address over the limit has its connection closed at once
(nothing read, nothing forwarded), counted and logged at most once a second per address; a slot
frees when a connection ends. The limit holds for the process (two workers here), on http and
tcp listeners, and behind a PROXY header for the header's source. Clients bind to 127.0.0.2+."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (EchoServer, RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
                     http_request, read_response, sluice_config)


def refused(sock, timeout=10.0):
    """The server closed (FIN or RST) without answering."""
    sock.settimeout(timeout)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


class MaxConnectionsPerIpTest(SluiceTestCase):
    def stats(self):
        """`sluicectl show stats --json` of the running sluice."""
        ctl = os.environ.get("SLUICECTL_BIN", "")
        self.assertTrue(ctl and os.path.exists(ctl), "SLUICECTL_BIN is not set (run through ctest)")
        out = subprocess.run([ctl, "-s", os.path.join(self.workdir, "control.sock"), "show",
                              "stats", "--json"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout)

    def start(self, limit, mode="http", extra="", upstream_port=None):
        self.port = free_port()
        if upstream_port is None:
            self.upstream = RecordingUpstream()
            self.add_cleanup(self.upstream.close)
            upstream_port = self.upstream.port
        listener = ('name = "edge"\nbind = "127.0.0.1:%d"\nmode = "%s"\npool = "app"\n'
                    'max_connections_per_ip = %d\n%s' % (self.port, mode, limit, extra))
        self.sluice = self.start_sluice(
            sluice_config(self.workdir, [listener], [pool_toml("app", [upstream_port])],
                          workers=2), self.port)

    def connect(self, source):
        s = socket.socket()
        self.add_cleanup(s.close)
        s.bind((source, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        return s

    def served(self, s, prefix=b""):
        s.sendall(prefix + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        return read_response(s)[0] == 200

    def test_over_the_limit_is_closed_and_a_slot_frees_when_a_connection_ends(self):
        self.start(2)
        first, second = self.connect("127.0.0.2"), self.connect("127.0.0.2")
        self.assertTrue(self.served(first))
        self.assertTrue(self.served(second))
        for _ in range(4):  # spread over both workers by SO_REUSEPORT: the limit is per process
            self.assertTrue(refused(self.connect("127.0.0.2")))
        # Counted: `show stats` says how many connections the limit closed.
        self.assertEqual(self.stats()["process"]["refused_per_ip"], 4)
        self.assertTrue(self.served(self.connect("127.0.0.3")))  # another address is not limited
        received = bytes(self.upstream.received).count(b"GET / ")
        first.close()
        deadline = time.monotonic() + 10
        while True:  # the slot frees once sluice has seen the close
            s = self.connect("127.0.0.2")
            try:
                if self.served(s):
                    break
            except (ConnectionError, OSError):
                pass
            self.assertLess(time.monotonic(), deadline, "the slot never freed")
            time.sleep(0.05)
        self.assertEqual(bytes(self.upstream.received).count(b"GET / "), received + 1)
        self.sluice.stop()
        log = self.sluice.output()
        lines = [line for line in log.splitlines() if "over max_connections_per_ip" in line]
        # Four refusals within about a second: logged once or twice, not four times.
        self.assertGreaterEqual(len(lines), 1, log)
        self.assertLessEqual(len(lines), 2, log)
        self.assertIn("127.0.0.2 is over max_connections_per_ip (2)", lines[0])

    def test_tcp_listener(self):
        echo = EchoServer()
        self.add_cleanup(echo.close)
        self.start(1, mode="tcp", upstream_port=echo.port)
        s = self.connect("127.0.0.4")
        s.sendall(b"ping")
        self.assertEqual(s.recv(4), b"ping")
        over = self.connect("127.0.0.4")
        try:
            over.sendall(b"over-the-limit")
        except OSError:
            pass  # already reset
        # Closed unanswered (forwarded bytes would come back from the echo server), counted,
        # and nothing of it reached the upstream. (Counting the echo server's connections
        # instead races with start_sluice's readiness probe, whose upstream connect may land
        # late.)
        self.assertTrue(refused(over))
        self.assertEqual(self.stats()["process"]["refused_per_ip"], 1)
        self.assertNotIn(b"over-the-limit", bytes(echo.received))
        s.sendall(b"pong")
        self.assertEqual(s.recv(4), b"pong")

    def test_the_proxy_headers_source_is_counted(self):
        self.start(1, extra="accept_proxy_protocol = true\n")
        a = self.connect("127.0.0.5")
        self.assertTrue(self.served(a, b"PROXY TCP4 203.0.113.7 127.0.0.1 1000 80\r\n"))
        b = self.connect("127.0.0.5")
        b.sendall(b"PROXY TCP4 203.0.113.7 127.0.0.1 1001 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(refused(b))
        # Same socket address, another source in the header: admitted.
        c = self.connect("127.0.0.5")
        self.assertTrue(self.served(c, b"PROXY TCP4 203.0.113.8 127.0.0.1 1002 80\r\n"))
        self.assertEqual(bytes(self.upstream.received).count(b"GET / "), 2)


class RateLimitTest(SluiceTestCase):
    """[[listener.rate_limit]]: over a limit, 429 with Retry-After and nothing reaches a server;
    the access log says rate_limited; a reload that keeps a limit's identity keeps its state."""

    def config(self, limits):
        listener = ('name = "edge"\nbind = "127.0.0.1:%d"\npool = "app"\n%s'
                    % (self.port, "".join("[[listener.rate_limit]]\n%s\n" % l for l in limits)))
        return (sluice_config(self.workdir, [listener], [pool_toml("app", [self.upstream.port])])
                + '[admin]\nlisten = "127.0.0.1:%d"\n' % self.admin_port)

    def start(self, limits):
        self.port, self.admin_port = free_port(), free_port()
        self.upstream = RecordingUpstream()
        self.add_cleanup(self.upstream.close)
        self.sluice = self.start_sluice(self.config(limits), self.port)

    def get(self, path="/", source="127.0.0.2", headers=""):
        with socket.socket() as s:
            s.bind((source, 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", self.port))
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, headers)).encode())
            status, hdrs, _, _ = read_response(s)
            return status, hdrs

    def forwarded(self):
        return bytes(self.upstream.received).count(b"GET ")

    def test_client_ip_limit_answers_429_with_retry_after_and_forwards_nothing(self):
        self.start(['key = "client_ip"\nrate = 2\nper = "1m"\nburst = 2'])
        self.assertEqual([self.get()[0] for _ in range(3)], [200, 200, 200])  # burst + 1
        status, headers = self.get()
        self.assertEqual(status, 429)
        # T = 30 s; the bucket was emptied just now: a token comes within (0, 30] s.
        self.assertTrue(1 <= int(headers["retry-after"]) <= 30, headers)
        self.assertEqual(self.forwarded(), 3)
        self.assertEqual(self.get(source="127.0.0.3")[0], 200)  # another client has its own
        self.assertEqual(self.get()[0], 429)
        status, _, body = http_request(self.admin_port, path="/metrics")
        self.assertEqual(status, 200)
        self.assertIn('sluice_rate_limited_requests_total{listener="edge"} 2\n', body.decode())
        self.sluice.stop()
        self.assertRegex(self.sluice.output(), r"127\.0\.0\.2 .*429.*rate_limited")

    def test_header_key_path_prefix_and_every_matching_limit(self):
        self.start(['key = "header:X-Api-Key"\nrate = 1\nper = "1m"\npath_prefix = "/api/"',
                    'key = "client_ip"\nrate = 1\nper = "1m"\nburst = 4'])
        key_a, key_b = "X-Api-Key: a\r\n", "X-Api-Key: b\r\n"
        self.assertEqual(self.get("/api/x", headers=key_a)[0], 200)
        self.assertEqual(self.get("/api/x", headers=key_a)[0], 429)   # the header's limit
        self.assertEqual(self.get("/other", headers=key_a)[0], 200)   # path outside the prefix
        self.assertEqual(self.get("/api/x", headers=key_b)[0], 200)   # another key
        self.assertEqual(self.get("/api/x")[0], 200)                  # no header: not limited by it
        # The client_ip limit (burst 4: 5 at once) counted all six: the next is over it.
        self.assertEqual(self.get("/other")[0], 429)
        self.assertEqual(self.forwarded(), 4)

    def test_reload_keeps_the_state_of_an_unchanged_limit(self):
        self.start(['key = "client_ip"\nrate = 1\nper = "1m"'])
        self.assertEqual(self.get()[0], 200)
        self.assertEqual(self.get()[0], 429)
        # Same listener, key and path_prefix, another rate: the table (and its debt) stays.
        with open(self.sluice.config_path, "w") as f:
            f.write(self.config(['key = "client_ip"\nrate = 2\nper = "1m"']))
        self.sluice.signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while not re.search(r"configuration reloaded, generation 2", self.sluice.output()):
            self.assertLess(time.monotonic(), deadline, self.sluice.output())
            time.sleep(0.05)
        self.assertEqual(self.get()[0], 429)
        self.assertEqual(self.forwarded(), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
