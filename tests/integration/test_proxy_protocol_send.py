"""Sending the PROXY protocol (send_proxy_protocol = "v1" | "v2") on upstream connections, http
and tcp listeners, with HAProxy as the real peer: an `accept-proxy` frontend that answers every
request with the source and destination it saw. Health checks of such a pool send v2 LOCAL / v1
UNKNOWN, which HAProxy accepts (without a header it closes the connection and the check fails)."""

import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SluiceTestCase, free_port, read_response, sluice_config,  # noqa: E402
                     wait_port)

HAPROXY = "/usr/sbin/haproxy"


def get(host="x"):
    return ("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode()


@unittest.skipUnless(os.path.exists(HAPROXY), "needs HAProxy")
class SendProxyToHaproxyTest(SluiceTestCase):
    def start_haproxy(self):
        port = free_port()
        path = os.path.join(self.workdir, "haproxy.cfg")
        with open(path, "w") as f:
            f.write("defaults\n  mode http\n  timeout connect 5s\n  timeout client 10s\n"
                    "  timeout server 10s\n"
                    "frontend fe\n  bind 127.0.0.1:%d accept-proxy\n"
                    "  http-request return status 200 content-type text/plain "
                    "lf-string \"src=%%[src] dst=%%[dst]:%%[dst_port]\"\n" % port)
        proc = subprocess.Popen([HAPROXY, "-f", path, "-db"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.add_cleanup(lambda: (proc.kill(), proc.wait()))
        wait_port(port, proc=proc)
        return port

    def start(self, version, mode="http", accept=False, check=False):
        haproxy = self.start_haproxy()
        self.port = free_port()
        listener = ('name = "edge"\nbind = "127.0.0.1:%d"\nmode = "%s"\npool = "ha"\n%s'
                    % (self.port, mode, "accept_proxy_protocol = true\n" if accept else ""))
        pool = ('name = "ha"\nsend_proxy_protocol = "%s"\n%s'
                '[[pool.server]]\nname = "ha1"\naddress = "127.0.0.1:%d"\n'
                % (version, "" if not check else
                   '[pool.health_check]\ntype = "%s"\ninterval = "100ms"\ntimeout = "1s"\n'
                   'rise = 1\nfall = 1\n' % check, haproxy))
        self.sluice = self.start_sluice(sluice_config(self.workdir, [listener], [pool]),
                                        self.port)

    def ask(self, source, prefix=b""):
        s = socket.socket()
        self.add_cleanup(s.close)
        s.bind((source, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        s.sendall(prefix + get())
        status, _, body, _ = read_response(s)
        self.assertEqual(status, 200, body)
        return body.decode()

    def test_http_v1_and_v2_carry_the_client_and_listener_addresses(self):
        for i, version in enumerate(("v1", "v2")):
            with self.subTest(version=version):
                self.start(version)
                source = "127.0.0.%d" % (i + 2)
                try:
                    # Twice: the second request must not ride the first client's connection.
                    self.assertEqual(self.ask(source),
                                     "src=%s dst=127.0.0.1:%d" % (source, self.port))
                    self.assertEqual(self.ask("127.0.0.9"),
                                     "src=127.0.0.9 dst=127.0.0.1:%d" % self.port)
                finally:
                    self._stop_sluice(self.sluice)

    def test_tcp_listener_sends_it_too(self):
        for version in ("v1", "v2"):
            with self.subTest(version=version):
                self.start(version, mode="tcp")
                try:
                    self.assertEqual(self.ask("127.0.0.4"),
                                     "src=127.0.0.4 dst=127.0.0.1:%d" % self.port)
                finally:
                    self._stop_sluice(self.sluice)

    def test_a_received_header_is_passed_on(self):
        self.start("v2", accept=True)
        header = b"PROXY TCP4 203.0.113.7 198.51.100.1 5555 8443\r\n"
        self.assertEqual(self.ask("127.0.0.1", header), "src=203.0.113.7 dst=198.51.100.1:8443")

    def test_health_checks_send_local_and_pass(self):
        for version in ("v1", "v2"):
            for check in ("http", "tcp"):
                with self.subTest(version=version, check=check):
                    self.start(version, check=check)
                    try:
                        time.sleep(1.0)  # ten check intervals: a failing check marks it DOWN
                        self.assertNotIn("is DOWN", self.sluice.output())
                        self.assertEqual(self.ask("127.0.0.5"),
                                         "src=127.0.0.5 dst=127.0.0.1:%d" % self.port)
                    finally:
                        self._stop_sluice(self.sluice)


if __name__ == "__main__":
    unittest.main()
