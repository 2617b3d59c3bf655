"""Parked keep-alive connections (issue 16): an HTTP/1.1 client connection idle for the parking
grace (1 s) after a response gives up its session and socket object; sluice logs "parked" at
debug level. Such a connection still serves its next request (with the same client address,
also a PROXY header's), is closed at idle_timeout, is closed when sluice drains, and keeps its
max_connections_per_ip slot while parked."""

import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
                     read_response, sluice_config)

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class IdleParkingTest(SluiceTestCase):
    def start(self, idle_timeout="30s", extra="", shutdown_timeout=None, more_listeners=(),
              workers=2):
        self.port = free_port()
        self.upstream = RecordingUpstream()
        self.add_cleanup(self.upstream.close)
        listener = ('name = "edge"\nbind = "127.0.0.1:%d"\nmode = "http"\npool = "app"\n'
                    'idle_timeout = "%s"\n%s' % (self.port, idle_timeout, extra))
        cfg = sluice_config(self.workdir, [listener] + list(more_listeners),
                            [pool_toml("app", [self.upstream.port])], workers=workers,
                            log_level="debug")
        if shutdown_timeout:
            cfg = cfg.replace('shutdown_timeout = "10s"', 'shutdown_timeout = "%s"' % shutdown_timeout)
        self.sluice = self.start_sluice(cfg, self.port)

    def connect(self, prelude=b"", source="127.0.0.1"):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(source, 0))
        self.add_cleanup(s.close)
        if prelude:
            s.sendall(prelude)
        return s

    def request(self, s):
        s.sendall(GET)
        status, headers, body, _ = read_response(s)
        self.assertEqual((status, body), (200, b"ok"))
        self.assertNotEqual(headers.get("connection"), "close")

    def wait_parked(self, count=1, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sluice.output().count(": parked (") >= count:
                return
            time.sleep(0.05)
        self.fail("no connection parked within %.0f s:\n%s" % (timeout, self.sluice.output()[-3000:]))

    def test_a_parked_connection_serves_its_next_request(self):
        self.start()
        s = self.connect()
        self.request(s)
        self.wait_parked()
        self.request(s)  # the session is rebuilt from the parked socket
        self.wait_parked(2)  # and parks again after the next grace
        self.request(s)
        self.assertEqual(bytes(self.upstream.received).count(b"GET / HTTP/1.1"), 3)

    def test_a_parked_connection_keeps_its_proxy_header_address(self):
        self.start(extra='accept_proxy_protocol = true\n')
        s = self.connect(b"PROXY TCP4 203.0.113.7 192.0.2.1 5555 80\r\n")
        self.request(s)
        self.wait_parked()
        self.request(s)
        self.assertEqual(bytes(self.upstream.received).count(b"X-Forwarded-For: 203.0.113.7\r\n"), 2)

    def test_a_parked_connection_is_closed_at_idle_timeout(self):
        self.start(idle_timeout="3s")
        s = self.connect()
        self.request(s)
        answered = time.monotonic()
        self.wait_parked()
        s.settimeout(30)
        self.assertEqual(s.recv(100), b"")  # a quiet close (FIN), as an idle session's
        # Never before idle_timeout (the parking grace is part of it, not added to it).
        self.assertGreaterEqual(time.monotonic() - answered, 2.9)

    def test_each_parked_connection_closes_at_its_own_listeners_idle_timeout(self):
        # The long one parks first; the short one, parked after it, still closes first.
        long_port = free_port()
        self.start(idle_timeout="3s", more_listeners=[
            'name = "slow"\nbind = "127.0.0.1:%d"\nmode = "http"\npool = "app"\n'
            'idle_timeout = "9s"\n' % long_port], workers=1)  # both in one worker's slab
        long_conn = socket.create_connection(("127.0.0.1", long_port), timeout=10)
        self.add_cleanup(long_conn.close)
        self.request(long_conn)
        self.wait_parked()
        short_conn = self.connect()
        self.request(short_conn)
        self.wait_parked(2)
        short_conn.settimeout(30)
        self.assertEqual(short_conn.recv(100), b"")
        long_conn.setblocking(False)
        with self.assertRaises(BlockingIOError):  # still open, nothing sent
            long_conn.recv(100)
        long_conn.settimeout(30)
        self.assertEqual(long_conn.recv(100), b"")

    def test_a_parked_connection_is_closed_when_sluice_drains(self):
        # A shutdown_timeout far beyond the socket timeout: the close comes from the drain.
        self.start(shutdown_timeout="300s")
        s = self.connect()
        self.request(s)
        self.wait_parked()
        self.sluice.signal(signal.SIGTERM)
        s.settimeout(30)
        self.assertEqual(s.recv(100), b"")
        self.assertEqual(self.sluice.proc.wait(30), 0)

    def test_a_parked_connection_keeps_its_per_address_slot(self):
        self.start(extra="max_connections_per_ip = 1\n")
        # From an address of its own: start-up's port probe from 127.0.0.1 may still hold a slot.
        src = "127.0.0.5"
        s = self.connect(source=src)
        self.request(s)
        self.wait_parked()
        other = self.connect(source=src)
        other.settimeout(10)
        try:
            self.assertEqual(other.recv(100), b"")  # refused: the parked one holds the slot
        except ConnectionResetError:
            pass
        s.close()  # the parked connection ends: its slot frees
        deadline = time.monotonic() + 15
        while True:
            c = self.connect(source=src)
            try:
                c.sendall(GET)
                status, _, _, _ = read_response(c)
                self.assertEqual(status, 200)
                break
            except (ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


if __name__ == "__main__":
    unittest.main()
