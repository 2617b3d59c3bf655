"""max_connections_per_ip: a client address over the limit has its connection closed at once
(nothing read, nothing forwarded), counted and logged at most once a second per address; a slot
frees when a connection ends. The limit holds for the process (two workers here), on http and
tcp listeners, and behind a PROXY header for the header's source. Clients bind to 127.0.0.2+."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (EchoServer, RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
                     read_response, sluice_config)


def refused(sock, timeout=10.0):
    """The server closed (FIN or RST) without answering."""
    sock.settimeout(timeout)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


class MaxConnectionsPerIpTest(SluiceTestCase):
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
        before = echo.connections  # (start_sluice's readiness probe connected once too)
        self.assertTrue(refused(self.connect("127.0.0.4")))
        self.assertEqual(echo.connections, before)

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


if __name__ == "__main__":
    import unittest
    unittest.main()
