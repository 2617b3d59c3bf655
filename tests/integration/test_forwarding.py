"""trusted_proxies: X-Forwarded-For/-Proto/-Host from a client inside a trusted network are kept
(sluice appends the client to X-Forwarded-For); from any other client they are replaced by
sluice's own values. The Gunicorn/Django backend's /echo reports the headers it received;
clients bind to 127.0.0.2 (trusted) and 127.0.0.3 (not)."""

import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import SluiceTestCase, free_port, pool_toml, read_response, sluice_config  # noqa: E402

SPOOFED = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https",
           "X-Forwarded-Host": "shop.example"}


class TrustedProxiesTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        (self.backend,) = self.start_backends(1)
        self.port = free_port()
        listener = ('name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n'
                    'trusted_proxies = ["127.0.0.2/32", "10.0.0.0/8"]\n' % self.port)
        self.start_sluice(sluice_config(self.workdir, [listener],
                                        [pool_toml("app", [self.backend.port])]), self.port)

    def echo_from(self, source, headers):
        with socket.socket() as s:
            s.bind((source, 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", self.port))
            head = "GET /echo HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n"
            head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
            s.sendall(head.encode())
            status, _, body, _ = read_response(s)
            self.assertEqual(status, 200, body)
            return json.loads(body)["headers"]

    def test_a_trusted_proxy_keeps_its_headers_and_sluice_appends(self):
        seen = self.echo_from("127.0.0.2", SPOOFED)
        self.assertEqual(seen["X-Forwarded-For"], "198.51.100.1, 127.0.0.2")
        self.assertEqual(seen["X-Forwarded-Proto"], "https")
        self.assertEqual(seen["X-Forwarded-Host"], "shop.example")

    def test_any_other_client_gets_sluices_own_values(self):
        seen = self.echo_from("127.0.0.3", SPOOFED)
        self.assertEqual(seen["X-Forwarded-For"], "127.0.0.3")
        self.assertEqual(seen["X-Forwarded-Proto"], "http")
        self.assertEqual(seen["X-Forwarded-Host"], "web.test")

    def test_a_trusted_proxy_without_headers_gets_sluices_values(self):
        seen = self.echo_from("127.0.0.2", {})
        self.assertEqual(seen["X-Forwarded-For"], "127.0.0.2")
        self.assertEqual(seen["X-Forwarded-Proto"], "http")
        self.assertEqual(seen["X-Forwarded-Host"], "web.test")


if __name__ == "__main__":
    import unittest
    unittest.main()
