"""Balancing, caps with a queue, retries, backups and passive ejection, with real backends."""

import json
import socket
import threading
import time
import unittest

from harness import (RecordingUpstream, SluiceTestCase, free_port, http_request, read_response,
                     sluice_config)


def server_toml(name, port, extra=""):
    return '[[pool.server]]\nname = "%s"\naddress = "127.0.0.1:%d"\n%s\n' % (name, port, extra)


class BalancingTest(SluiceTestCase):
    def start_proxy(self, pool_body, workers=2, listener_extra=""):
        port = free_port()
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n%s' % (port, listener_extra)],
            ['name = "app"\n' + pool_body], workers=workers)
        self.sluice = self.start_sluice(config, port)
        return port

    def test_cap_queues_requests_instead_of_stacking_them_on_a_server(self):
        # Two gthread backends that could each take many requests at once; sluice must hold
        # them to one at a time and queue the rest, not pile them up on one backend.
        backends = self.start_backends(2)
        port = self.start_proxy('max_conns_per_server = 1\nqueue_timeout = "20s"\n' +
                                "".join(server_toml(b.name, b.port) for b in backends))
        results = [None] * 4

        def call(i):
            results[i] = http_request(port, path="/slow?ms=600", timeout=30)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(40)
        intervals = {}
        for r in results:
            self.assertIsNotNone(r)
            status, headers, body = r
            self.assertEqual(status, 200)
            data = json.loads(body)
            intervals.setdefault(data["backend"], []).append((data["started"], data["finished"]))
        self.assertEqual(sum(len(v) for v in intervals.values()), 4)
        for name, spans in intervals.items():
            spans.sort()
            for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
                self.assertLessEqual(e1, s2 + 0.01, "two requests at once on %s: %s" % (name, spans))

    def test_queue_timeout_gives_503(self):
        backends = self.start_backends(1)
        port = self.start_proxy('max_conns_per_server = 1\nqueue_timeout = "300ms"\n' +
                                server_toml("app1", backends[0].port))
        slow = threading.Thread(target=http_request, args=(port,), kwargs={"path": "/slow?ms=2000"})
        slow.start()
        time.sleep(0.4)
        status, headers, body = http_request(port, path="/")
        self.assertEqual(status, 503)
        slow.join(10)

    def test_killing_one_of_three_under_load_loses_no_get(self):
        backends = self.start_backends(3)
        port = self.start_proxy('retries = 2\n[pool.passive_health]\nmax_fails = 1\n'
                                'fail_timeout = "30s"\n' +
                                "".join(server_toml(b.name, b.port) for b in backends))
        errors = []
        counts = {}
        stop = time.monotonic() + 4.0

        def client():
            sock = None
            while time.monotonic() < stop:
                try:
                    if sock is None:
                        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                    sock.sendall(b"GET /slow?ms=20 HTTP/1.1\r\nHost: x\r\n\r\n")
                    status, headers, body, _ = read_response(sock)
                    if status != 200:
                        errors.append(status)
                    else:
                        name = json.loads(body)["backend"]
                        counts[name] = counts.get(name, 0) + 1
                    if headers.get("connection", "").lower() == "close":
                        sock.close()
                        sock = None
                except Exception as e:  # noqa: BLE001 - every failure is counted
                    errors.append(repr(e))
                    sock = None
            if sock:
                sock.close()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        backends[1].kill()
        killed_at_counts = dict(counts)
        for t in threads:
            t.join(20)
        self.assertEqual(errors, [])
        self.assertGreater(sum(counts.values()), 50)
        # The survivors took the traffic after the kill.
        self.assertGreater(counts.get("app1", 0), killed_at_counts.get("app1", 0))
        self.assertGreater(counts.get("app3", 0), killed_at_counts.get("app3", 0))
        self.assertIn("ejected", self.sluice.output())

    def test_backup_serves_only_while_no_primary_is_available(self):
        backends = self.start_backends(2)
        primary, backup = backends
        port = self.start_proxy('[pool.passive_health]\nmax_fails = 1\nfail_timeout = "1s"\n' +
                                server_toml("primary", primary.port) +
                                server_toml("backup", backup.port, "backup = true"), workers=1)
        for _ in range(4):
            self.assertEqual(json.loads(http_request(port)[2])["backend"], "app1")
        primary.kill()
        for _ in range(4):
            status, _, body = http_request(port)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["backend"], "app2")

    def test_retry_5xx_moves_idempotent_requests_to_another_server(self):
        failing = RecordingUpstream(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy")
        healthy = RecordingUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        self.add_cleanup(failing.close)
        self.add_cleanup(healthy.close)
        port = self.start_proxy("retry_5xx = true\n" + server_toml("bad", failing.port) +
                                server_toml("good", healthy.port), workers=1)
        for _ in range(4):
            status, _, body = http_request(port)
            self.assertEqual((status, body), (200, b"ok"))
        # POST is not idempotent: the 503 comes through when the bad server is picked.
        statuses = {http_request(port, "POST", "/", body=b"x")[0] for _ in range(4)}
        self.assertIn(503, statuses)

    def test_passive_ejection_stops_traffic_to_a_failing_server(self):
        failing = RecordingUpstream(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        healthy = RecordingUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        self.add_cleanup(failing.close)
        self.add_cleanup(healthy.close)
        port = self.start_proxy('[pool.passive_health]\nmax_fails = 2\nfail_timeout = "30s"\n' +
                                server_toml("bad", failing.port) +
                                server_toml("good", healthy.port), workers=1)
        statuses = [http_request(port)[0] for _ in range(20)]
        # Round robin sends the 2nd, 4th... to "bad" until its 2nd consecutive 502 ejects it.
        self.assertEqual(statuses.count(502), 2, statuses)
        self.assertTrue(all(s == 200 for s in statuses[4:]), statuses)

    def test_cookie_hash_keeps_a_client_on_one_backend(self):
        backends = self.start_backends(3)
        port = self.start_proxy('algorithm = "hash"\nhash_key = "cookie:sid"\n' +
                                "".join(server_toml(b.name, b.port) for b in backends))
        seen = {}
        for user in range(12):
            names = {json.loads(http_request(port, headers={"Cookie": "sid=user%d" % user})[2])
                     ["backend"] for _ in range(3)}
            self.assertEqual(len(names), 1)
            seen[user] = names.pop()
        self.assertGreater(len(set(seen.values())), 1)

    def test_weighted_round_robin_follows_weights(self):
        backends = self.start_backends(2)
        port = self.start_proxy('algorithm = "weighted_round_robin"\n' +
                                server_toml("heavy", backends[0].port, "weight = 3") +
                                server_toml("light", backends[1].port, "weight = 1"), workers=1)
        names = [json.loads(http_request(port)[2])["backend"] for _ in range(12)]
        self.assertEqual(names.count("app1"), 9, names)
        self.assertEqual(names.count("app2"), 3, names)


if __name__ == "__main__":
    unittest.main()
