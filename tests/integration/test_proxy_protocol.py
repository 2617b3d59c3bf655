"""Receiving the PROXY protocol (accept_proxy_protocol): v1 and v2 headers before HTTP, TLS and
L4 traffic, whole or a byte at a time; the header's source becomes the client address
(X-Forwarded-For, access log); a missing, malformed or late header closes the connection with
nothing forwarded. Interop: HAProxy (`send-proxy`, `send-proxy-v2`) in front of sluice, clients
bound to 127.0.0.2 and up."""

import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (EchoServer, RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
                     read_response, sluice_config, wait_port)
from test_tls import Pki, tls_listener  # noqa: E402

HAPROXY = "/usr/sbin/haproxy"
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(src, sport, dst, dport, command=1):
    if command == 0:
        return V2_SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return V2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def get(host="x"):
    return ("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode()


def closed_without_answer(sock, timeout=10.0):
    sock.settimeout(timeout)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


class ProxyProtocolTest(SluiceTestCase):
    def start(self, mode="http", upstream=None, extra="", listener=None):
        self.port = free_port()
        self.upstream = upstream or RecordingUpstream()
        self.add_cleanup(self.upstream.close)
        listener = listener or ('name = "edge"\nbind = "127.0.0.1:%d"\nmode = "%s"\npool = "app"\n'
                                'accept_proxy_protocol = true\nclient_header_timeout = "2s"\n%s'
                                % (self.port, mode, extra))
        cfg = sluice_config(self.workdir, [listener], [pool_toml("app", [self.upstream.port])])
        self.sluice = self.start_sluice(cfg, self.port)

    def send(self, payload, byte_at_a_time=False):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.add_cleanup(s.close)
        if byte_at_a_time:
            for b in payload:
                s.sendall(bytes([b]))
                time.sleep(0.002)
        else:
            s.sendall(payload)
        return s

    def test_v1_source_is_the_client_address(self):
        self.start()
        s = self.send(b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n" + get())
        status, _, body, _ = read_response(s)
        self.assertEqual(status, 200)
        self.assertIn(b"X-Forwarded-For: 203.0.113.7\r\n", bytes(self.upstream.received))
        self.assertNotIn(b"PROXY", bytes(self.upstream.received))
        self.sluice.stop()
        self.assertIn("203.0.113.7", self.sluice.output())  # the access log's client field

    def test_v2_a_byte_at_a_time_and_v6(self):
        self.start()
        s = self.send(v2_header("198.51.100.9", 4000, "127.0.0.1", 80) + get(), True)
        self.assertEqual(read_response(s)[0], 200)
        self.assertIn(b"X-Forwarded-For: 198.51.100.9\r\n", bytes(self.upstream.received))
        s = self.send(b"PROXY TCP6 2001:db8::5 ::1 1234 80\r\n" + get(), True)
        self.assertEqual(read_response(s)[0], 200)
        self.assertIn(b"X-Forwarded-For: 2001:db8::5\r\n", bytes(self.upstream.received))

    def test_v2_local_and_v1_unknown_use_the_socket_address(self):
        self.start()
        for header in (v2_header("", 0, "", 0, command=0), b"PROXY UNKNOWN\r\n"):
            s = self.send(header + get())
            self.assertEqual(read_response(s)[0], 200)
        self.assertEqual(bytes(self.upstream.received).count(b"X-Forwarded-For: 127.0.0.1\r\n"), 2)

    def test_missing_malformed_or_late_header_forwards_nothing(self):
        self.start()
        bad = [get(),  # no header at all
               b"PROXY TCP4 203.0.113.7 127.0.0.1 5555\r\n" + get(),  # a field short
               b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 " + b"x" * 120 + b"\r\n" + get(),  # over-long
               V2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", 4) + b"\0" * 4 + get()]  # short
        for payload in bad:
            self.assertTrue(closed_without_answer(self.send(payload)), payload[:40])
        late = self.send(b"PROXY TCP4 203.0.113.7 ")  # never finished: closed at the timeout
        self.assertTrue(closed_without_answer(late, timeout=15))
        self.assertEqual(self.upstream.connections, 0)
        self.assertEqual(bytes(self.upstream.received), b"")

    def test_ip_hash_balances_on_the_headers_source(self):
        ups = [RecordingUpstream() for _ in range(2)]
        for u in ups:
            self.add_cleanup(u.close)
        self.port = free_port()
        listener = ('name = "edge"\nbind = "127.0.0.1:%d"\npool = "app"\n'
                    'accept_proxy_protocol = true\n' % self.port)
        pool = pool_toml("app", [u.port for u in ups], 'algorithm = "ip_hash"')
        self.start_sluice(sluice_config(self.workdir, [listener], [pool]), self.port)
        # The socket address is always 127.0.0.1: only the header's source can spread them.
        for i in range(16):
            for _ in range(2):
                src = "203.0.113.%d" % (i + 1)
                s = self.send(b"PROXY TCP4 %s 127.0.0.1 1000 80\r\n" % src.encode() + get())
                self.assertEqual(read_response(s)[0], 200)
        seen = [set(re.findall(rb"X-Forwarded-For: ([0-9.]+)", bytes(u.received))) for u in ups]
        self.assertTrue(seen[0] and seen[1], seen)        # both servers got some sources
        self.assertFalse(seen[0] & seen[1], seen)         # and each source stayed on one server
        self.assertEqual(len(seen[0] | seen[1]), 16)

    def test_tls_after_the_header(self):
        pki = Pki(self.workdir)
        cert = pki.leaf("a", "a.test", "DNS:a.test")
        self.port = free_port()
        self.upstream = RecordingUpstream()
        self.add_cleanup(self.upstream.close)
        listener = tls_listener("web", self.port, "app", [cert],
                                'accept_proxy_protocol = true\n')
        cfg = sluice_config(self.workdir, [listener], [pool_toml("app", [self.upstream.port])])
        self.sluice = self.start_sluice(cfg, self.port)
        ctx = ssl.create_default_context(cafile=pki.ca)
        raw = self.send(v2_header("192.0.2.44", 4000, "127.0.0.1", 443), True)
        with ctx.wrap_socket(raw, server_hostname="a.test") as s:
            s.sendall(get("a.test"))
            self.assertEqual(read_response(s)[0], 200)
        self.assertIn(b"X-Forwarded-For: 192.0.2.44\r\n", bytes(self.upstream.received))

    def test_tcp_listener_strips_the_header(self):
        upstream = RecordingUpstream(reply=lambda data: None)
        self.start(mode="tcp", upstream=upstream)
        s = self.send(b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\nhello", True)
        s.sendall(b" world")
        deadline = time.monotonic() + 10
        while bytes(upstream.received) != b"hello world" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(bytes(upstream.received), b"hello world")
        self.assertTrue(closed_without_answer(self.send(b"hello")))

    def test_tcp_listener_echo_with_v2(self):
        echo = EchoServer()
        self.add_cleanup(echo.close)
        port = free_port()
        cfg = sluice_config(self.workdir, ['name = "l4"\nbind = "127.0.0.1:%d"\nmode = "tcp"\n'
                                           'pool = "echo"\naccept_proxy_protocol = true\n' % port],
                            [pool_toml("echo", [echo.port])])
        self.start_sluice(cfg, port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(v2_header("203.0.113.8", 1, "127.0.0.1", 2) + b"ping")
            self.assertEqual(s.recv(4), b"ping")


@unittest.skipUnless(os.path.exists(HAPROXY), "needs HAProxy")
class HaproxyInFrontTest(SluiceTestCase):
    def haproxy(self, frontend_port, sluice_port, option):
        path = os.path.join(self.workdir, "haproxy-%s.cfg" % option)
        with open(path, "w") as f:
            f.write("global\n  log stderr format raw local0 err\n"
                    "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 10s\n"
                    "  timeout server 10s\n"
                    "frontend fe\n  bind 127.0.0.1:%d\n  default_backend be\n"
                    "backend be\n  server s1 127.0.0.1:%d %s\n" % (frontend_port, sluice_port,
                                                                     option))
        proc = subprocess.Popen([HAPROXY, "-f", path, "-db"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.add_cleanup(lambda: (proc.kill(), proc.wait()))
        wait_port(frontend_port, proc=proc)

    def test_send_proxy_and_send_proxy_v2(self):
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        port = free_port()
        cfg = sluice_config(self.workdir, ['name = "edge"\nbind = "127.0.0.1:%d"\npool = "app"\n'
                                           'accept_proxy_protocol = true\n' % port],
                            [pool_toml("app", [upstream.port])])
        self.start_sluice(cfg, port)
        for i, option in enumerate(("send-proxy", "send-proxy-v2")):
            fe = free_port()
            self.haproxy(fe, port, option)
            source = "127.0.0.%d" % (i + 2)
            s = socket.socket()
            self.add_cleanup(s.close)
            s.bind((source, 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", fe))
            s.sendall(get())
            self.assertEqual(read_response(s)[0], 200, option)
            self.assertIn(b"X-Forwarded-For: %s\r\n" % source.encode(), bytes(upstream.received),
                          option)


if __name__ == "__main__":
    unittest.main()
