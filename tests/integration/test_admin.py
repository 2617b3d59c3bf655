"""The admin endpoint ([admin] listen, shared/design/admin.md) against the real sluice binary and
Gunicorn backends: exact counts in /metrics, /status.json agreeing with them and with sluicectl,
403/404/405, Cache-Control, reload keeping counters and dropping a removed server's series,
exact wire bytes through a TCP listener, TLS certificate expiry,
/healthz turning 503 as soon as a graceful stop begins."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest

from harness import (SluiceTestCase, free_port, http_request, pool_toml, sluice_config)

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): float} for every sample; (families' TYPE lines)."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "bad sample line %r" % line
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        assert key not in samples, "duplicate series %r" % line
        samples[key] = float(m.group(3))
    return samples, types


def value(samples, family, **labels):
    return samples.get((family, frozenset(labels.items())))


def admin_config(workdir, port, admin_port, pools, allow=None, listener_extra="", workers=2):
    listeners = ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n%s' % (port, listener_extra)]
    text = sluice_config(workdir, listeners, pools, workers=workers, access_log="off")
    text += '[admin]\nlisten = "127.0.0.1:%d"\n' % admin_port
    if allow is not None:
        text += "allow = %s\n" % json.dumps(allow)
    return text


class AdminEndpointTest(SluiceTestCase):
    def start(self, pools=None, allow=None, listener_extra="", backends=2):
        self.backends = self.start_backends(backends)
        self.port, self.admin_port = free_port(), free_port()
        if pools is None:
            pools = [pool_toml("app", [b.port for b in self.backends])]
        self.pools = pools
        self.sluice = self.start_sluice(
            admin_config(self.workdir, self.port, self.admin_port, pools, allow, listener_extra),
            self.port)
        self.sluice.wait_listening(self.admin_port)

    def scrape(self):
        status, headers, body = http_request(self.admin_port, path="/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4")
        self.assertEqual(headers["cache-control"], "no-store")
        return parse_metrics(body.decode())

    def wait_for(self, predicate, what="condition", timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            m, _ = self.scrape()
            if predicate(m):
                return m
            self.assertLess(time.monotonic(), deadline, "/metrics never showed " + what)
            time.sleep(0.1)

    def ctl_json(self, *args):
        out = subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")] +
                             list(args) + ["--json"], capture_output=True, timeout=20, check=True)
        return json.loads(out.stdout)

    def test_exact_counts_by_code_class_with_sluices_own_4xx_and_503(self):
        # A request with a malformed header reaches no pool (sluice's own 400; a listener cannot
        # be configured to leave a request without a route, so no own 404 is possible), a body
        # over max_body_bytes gets sluice's own 413 (with the head, before a pool is chosen), /empty/* a pool
        # whose only server fails its health check (sluice's own 503, no server), the rest the
        # app pool.
        self.backends = self.start_backends(2)
        self.port, self.admin_port = free_port(), free_port()
        pools = [pool_toml("app", [b.port for b in self.backends]),
                 'name = "empty"\n[pool.health_check]\ntype = "tcp"\ninterval = "200ms"\n'
                 '[[pool.server]]\nname = "gone"\naddress = "127.0.0.1:%d"\n' % self.dead_port()]
        listeners = ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\nmax_body_bytes = 100\n'
                     '[[listener.route]]\npath_prefix = "/empty/"\npool = "empty"\n' % self.port]
        text = sluice_config(self.workdir, listeners, pools, access_log="off")
        text += '[admin]\nlisten = "127.0.0.1:%d"\n' % self.admin_port
        self.start_sluice(text, self.port)
        # The harness's one probe connection (wait_listening) is accepted asynchronously: wait
        # for it too, so that only this test's connections come after `before`.
        self.wait_for(lambda m: value(m, "sluice_server_up", pool="empty", server="gone") == 0 and
                      value(m, "sluice_listener_connections_total", listener="web") == 1 and
                      value(m, "sluice_listener_active_connections", listener="web") == 0)

        before, types = self.scrape()
        n_ok, n_404, n_5xx, n_sluice_400, n_413, n_503 = 7, 3, 2, 4, 2, 5
        for _ in range(n_ok):
            self.assertEqual(http_request(self.port, path="/app/x")[0], 200)
        for _ in range(n_404):
            self.assertEqual(http_request(self.port, path="/status/404")[0], 404)
        for _ in range(n_5xx):
            self.assertEqual(http_request(self.port, path="/status/500")[0], 500)
        for _ in range(n_sluice_400):
            self.assertEqual(http_request(self.port, path="/app/x", headers={"Bad Name": "x"})[0],
                             400)
        for _ in range(n_413):
            self.assertEqual(http_request(self.port, "POST", "/app/x", body=b"x" * 200)[0], 413)
        for _ in range(n_503):
            self.assertEqual(http_request(self.port, path="/empty/")[0], 503)
        # A worker counts an exchange right after its last byte went out, so a client can see
        # its response a moment before the counters do: wait (bounded) until every exchange is
        # in, then every count must be exact.
        total = n_ok + n_404 + n_5xx + n_sluice_400 + n_413 + n_503

        def settled(m):
            def d(family, **labels):
                return (value(m, family, **labels) or 0) - (value(before, family, **labels) or 0)
            return (sum(d("sluice_listener_requests_total", listener="web", code=c)
                        for c in ("1xx", "2xx", "3xx", "4xx", "5xx")) >= total and
                    d("sluice_pool_request_duration_seconds_count", pool="app") >=
                    n_ok + n_404 + n_5xx and
                    d("sluice_pool_request_duration_seconds_count", pool="empty") >= n_503 and
                    d("sluice_listener_connections_total", listener="web") >= total and
                    value(m, "sluice_listener_active_connections", listener="web") == 0)
        after = self.wait_for(settled, "every exchange counted")
        _, types = self.scrape()

        def delta(name, **labels):
            return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

        self.assertEqual(delta("sluice_listener_requests_total", listener="web", code="2xx"), n_ok)
        self.assertEqual(delta("sluice_listener_requests_total", listener="web", code="4xx"),
                         n_404 + n_sluice_400 + n_413)
        self.assertEqual(delta("sluice_listener_requests_total", listener="web", code="5xx"),
                         n_5xx + n_503)
        self.assertEqual(delta("sluice_listener_requests_total", listener="web", code="3xx"), 0)
        self.assertEqual(delta("sluice_pool_requests_total", pool="app", code="2xx"), n_ok)
        self.assertEqual(delta("sluice_pool_requests_total", pool="app", code="4xx"), n_404)
        self.assertEqual(delta("sluice_pool_requests_total", pool="app", code="5xx"), n_5xx)
        self.assertEqual(delta("sluice_pool_requests_total", pool="empty", code="5xx"), n_503)
        servers_2xx = sum(delta("sluice_server_requests_total", pool="app", server=s, code="2xx")
                          for s in ("app1", "app2"))
        self.assertEqual(servers_2xx, n_ok)
        self.assertEqual(sum(delta("sluice_server_requests_total", pool="app", server=s, code=c)
                             for s in ("app1", "app2") for c in ("4xx", "5xx")), n_404 + n_5xx)
        self.assertEqual(delta("sluice_server_requests_total", pool="empty", server="gone",
                               code="5xx"), 0)
        # One connection per request (http_request says Connection: close).
        self.assertEqual(delta("sluice_listener_connections_total", listener="web"), total)
        self.assertGreater(delta("sluice_listener_bytes_received_total", listener="web"), 0)
        self.assertGreater(delta("sluice_listener_bytes_sent_total", listener="web"), 0)
        # Histogram: one observation per pool response; _count = +Inf bucket.
        self.assertEqual(delta("sluice_pool_request_duration_seconds_count", pool="app"),
                         n_ok + n_404 + n_5xx)
        self.assertEqual(value(after, "sluice_pool_request_duration_seconds_bucket", pool="app",
                               le="+Inf"),
                         value(after, "sluice_pool_request_duration_seconds_count", pool="app"))
        self.assertEqual(delta("sluice_pool_request_duration_seconds_count", pool="empty"), n_503)
        self.assertGreaterEqual(delta("sluice_pool_request_duration_seconds_sum", pool="app"), 0)
        # Gauges: the down server is not up, still admin ready; the pool has 0 available.
        self.assertEqual(value(after, "sluice_server_up", pool="empty", server="gone"), 0)
        self.assertEqual(value(after, "sluice_server_state", pool="empty", server="gone",
                               state="ready"), 1)
        self.assertEqual(value(after, "sluice_server_state", pool="empty", server="gone",
                               state="maint"), 0)
        self.assertGreaterEqual(value(after, "sluice_server_checks_total", pool="empty",
                                      server="gone", result="fail"), 1)
        self.assertEqual(value(after, "sluice_pool_available_servers", pool="app"), 2)
        self.assertEqual(value(after, "sluice_pool_available_servers", pool="empty"), 0)
        self.assertEqual(value(after, "sluice_build_info", version=value_version(after)), 1)
        self.assertEqual(value(after, "sluice_config_generation"), 1)
        self.assertEqual(value(after, "sluice_config_reloads_total", result="ok"), 0)
        # Every family of admin.md's table but the TLS one (no TLS listener here).
        for family in ["sluice_build_info", "sluice_start_time_seconds", "sluice_config_generation",
                       "sluice_config_reloads_total", "sluice_listener_connections_total",
                       "sluice_listener_active_connections", "sluice_listener_requests_total",
                       "sluice_listener_bytes_received_total", "sluice_listener_bytes_sent_total",
                       "sluice_pool_requests_total", "sluice_pool_request_duration_seconds",
                       "sluice_pool_queue_length", "sluice_pool_available_servers",
                       "sluice_server_requests_total", "sluice_server_active_requests",
                       "sluice_server_up", "sluice_server_state", "sluice_server_failures_total",
                       "sluice_server_ejections_total", "sluice_server_checks_total",
                       "sluice_rate_limited_requests_total"]:
            self.assertIn(family, types)

        # /status.json and sluicectl show stats carry the same numbers as /metrics.
        status, headers, body = http_request(self.admin_port, path="/status.json")
        self.assertEqual(status, 200)
        self.assertEqual(headers["cache-control"], "no-store")
        doc = json.loads(body)
        self.assertEqual(set(doc), {"status", "listeners", "pools", "servers"})
        web = [l for l in doc["listeners"] if l["name"] == "web"][0]
        for code in ("1xx", "2xx", "3xx", "4xx", "5xx"):
            self.assertEqual(web["requests"][code], value(after, "sluice_listener_requests_total",
                                                          listener="web", code=code))
        app = [p for p in doc["pools"] if p["name"] == "app"][0]
        self.assertEqual(app["requests"]["2xx"], n_ok)
        self.assertIsNotNone(app["latency_ms"]["p99"])
        self.assertEqual(app["servers_total"], 2)
        gone = [s for s in doc["servers"] if s["name"] == "gone"][0]
        self.assertEqual(gone["health"], "down")
        stats = self.ctl_json("show", "stats")
        self.assertEqual(stats["listeners"][0]["requests"], web["requests"])
        self.assertEqual([p["requests"] for p in stats["pools"]],
                         [p["requests"] for p in doc["pools"]])

    def test_tcp_listener_bytes_and_tls_certificate_expiry(self):
        from test_tls import Pki  # the TLS tests' CA and leaf certificates (openssl CLI)
        import ssl
        self.backends = self.start_backends(1)
        self.port, self.admin_port = free_port(), free_port()
        tcp_port, tls_port = free_port(), free_port()
        pki = Pki(self.workdir)
        cert, key = pki.leaf("www", "www.example.test", "DNS:www.example.test,DNS:example.test")
        listeners = ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n' % self.port,
                     'name = "db"\nbind = "127.0.0.1:%d"\nmode = "tcp"\npool = "app"\n' % tcp_port,
                     'name = "secure"\nbind = "127.0.0.1:%d"\npool = "app"\n[listener.tls]\n'
                     'certificates = [ { cert = "%s", key = "%s" } ]\n' % (tls_port, cert, key)]
        text = sluice_config(self.workdir, listeners,
                             [pool_toml("app", [self.backends[0].port])], access_log="off")
        text += '[admin]\nlisten = "127.0.0.1:%d"\n' % self.admin_port
        self.start_sluice(text, self.port)
        before, _ = self.scrape()
        request = b"GET /bytes/5000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as s:
            s.sendall(request)
            reply = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:100])
        m = self.wait_for(lambda m: value(m, "sluice_listener_active_connections",
                                          listener="db") == 0 and
                          value(m, "sluice_listener_connections_total", listener="db") ==
                          value(before, "sluice_listener_connections_total", listener="db") + 1,
                          "the tcp session closed")
        # Exact bytes both ways, through the TCP listener.
        self.assertEqual(value(m, "sluice_listener_bytes_received_total", listener="db") -
                         value(before, "sluice_listener_bytes_received_total", listener="db"),
                         len(request))
        self.assertEqual(value(m, "sluice_listener_bytes_sent_total", listener="db") -
                         value(before, "sluice_listener_bytes_sent_total", listener="db"),
                         len(reply))
        # A tcp listener has no request counts (admin.md: http listeners).
        self.assertFalse([k for k in m if k[0] == "sluice_listener_requests_total" and
                          ("listener", "db") in k[1]])
        self.assertIsNotNone(value(m, "sluice_listener_requests_total", listener="secure",
                                   code="2xx"))
        # notAfter of the certificate, by its first SAN.
        out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-enddate"],
                             capture_output=True, text=True, check=True).stdout
        not_after = ssl.cert_time_to_seconds(out.strip().split("=", 1)[1])
        self.assertEqual(value(m, "sluice_tls_certificate_expiry_seconds", listener="secure",
                               name="www.example.test"), not_after)
        self.assertFalse([k for k in m if k[0] == "sluice_tls_certificate_expiry_seconds" and
                          ("listener", "secure") not in k[1]])

    def test_403_outside_allow_404_405_and_no_store(self):
        self.start(allow=["10.0.0.0/8"])
        for path in ("/metrics", "/status", "/nowhere"):
            status, headers, _ = http_request(self.admin_port, path=path)
            self.assertEqual(status, 403, path)
            self.assertEqual(headers["cache-control"], "no-store")
        # Now allow loopback through a reload: the list applies at once.
        with open(self.sluice.config_path) as f:
            text = f.read()
        with open(self.sluice.config_path, "w") as f:
            f.write(text.replace('["10.0.0.0/8"]', '["10.0.0.0/8", "127.0.0.1"]'))
        self.sluice.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while http_request(self.admin_port, path="/healthz")[0] != 200:
            self.assertLess(time.monotonic(), deadline, "reload did not allow 127.0.0.1")
            time.sleep(0.1)
        status, headers, body = http_request(self.admin_port, path="/nowhere")
        self.assertEqual((status, headers["cache-control"]), (404, "no-store"))
        status, headers, body = http_request(self.admin_port, "POST", "/metrics", body=b"x=1")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")
        self.assertEqual(headers["cache-control"], "no-store")
        with socket.create_connection(("127.0.0.1", self.admin_port), timeout=10) as s:
            s.sendall(b"HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        head, _, rest = reply.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"), head)
        self.assertEqual(rest, b"")  # HEAD: headers only
        self.assertIn(b"Cache-Control: no-store", head)
        self.assertGreater(int(re.search(rb"Content-Length: (\d+)", head).group(1)), 1000)
        status, headers, body = http_request(self.admin_port, path="/status")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn(b"status.json", body)
        status, _, body = http_request(self.admin_port, path="/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        # Garbage instead of HTTP: a 400, and the endpoint still serves.
        with socket.create_connection(("127.0.0.1", self.admin_port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01 not http\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        self.assertEqual(http_request(self.admin_port, path="/metrics")[0], 200)

    def test_reload_keeps_counters_and_a_removed_servers_series_vanish(self):
        self.start(backends=3)
        for _ in range(9):
            self.assertEqual(http_request(self.port)[0], 200)
        before = self.wait_for(
            lambda m: sum(value(m, "sluice_server_requests_total", pool="app", server=s,
                                code="2xx") for s in ("app1", "app2", "app3")) == 9,
            "the 9 requests")
        served = {s: value(before, "sluice_server_requests_total", pool="app", server=s, code="2xx")
                  for s in ("app1", "app2", "app3")}
        self.assertEqual(sum(served.values()), 9)
        # Remove app3, reload.
        with open(self.sluice.config_path) as f:
            text = f.read()
        removed = '[[pool.server]]\nname = "app3"\naddress = "127.0.0.1:%d"\n' % self.backends[2].port
        self.assertIn(removed, text)
        with open(self.sluice.config_path, "w") as f:
            f.write(text.replace(removed, ""))
        self.sluice.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            after, _ = self.scrape()
            if value(after, "sluice_config_generation") == 2:
                break
            self.assertLess(time.monotonic(), deadline, "reload did not happen")
            time.sleep(0.1)
        self.assertEqual(value(after, "sluice_config_reloads_total", result="ok"), 1)
        self.assertEqual(value(after, "sluice_pool_requests_total", pool="app", code="2xx"), 9)
        self.assertEqual(value(after, "sluice_listener_requests_total", listener="web", code="2xx"),
                         9)
        for s in ("app1", "app2"):
            self.assertEqual(value(after, "sluice_server_requests_total", pool="app", server=s,
                                   code="2xx"), served[s])
        self.assertFalse([k for k in after if ("server", "app3") in k[1]],
                         "app3's series are still there")
        # A reload that fails counts as an error and changes nothing.
        with open(self.sluice.config_path, "a") as f:
            f.write("\n[bogus\n")
        self.sluice.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while value(self.scrape()[0], "sluice_config_reloads_total", result="error") != 1:
            self.assertLess(time.monotonic(), deadline, "failed reload not counted")
            time.sleep(0.1)
        final, _ = self.scrape()
        self.assertEqual(value(final, "sluice_config_generation"), 2)
        self.assertEqual(value(final, "sluice_pool_requests_total", pool="app", code="2xx"), 9)

    def test_gauges_follow_drain_and_health_checks(self):
        backends = self.start_backends(2)
        self.backends = backends
        self.port, self.admin_port = free_port(), free_port()
        pools = [pool_toml("app", [b.port for b in backends],
                           '[pool.health_check]\npath = "/healthz"\ninterval = "200ms"\n'
                           'timeout = "1s"\nrise = 1\nfall = 1\n')]
        self.sluice = self.start_sluice(
            admin_config(self.workdir, self.port, self.admin_port, pools), self.port)
        self.sluice.wait_listening(self.admin_port)
        subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock"), "set",
                        "server", "app/app1", "state", "drain"], check=True, timeout=20,
                       capture_output=True)
        open(backends[1].health_file, "w").close()  # app2's checks fail from now on
        deadline = time.monotonic() + 15
        while True:
            m, _ = self.scrape()
            if (value(m, "sluice_server_up", pool="app", server="app2") == 0 and
                    (value(m, "sluice_server_checks_total", pool="app", server="app2",
                           result="fail") or 0) >= 1 and
                    (value(m, "sluice_server_checks_total", pool="app", server="app1",
                           result="pass") or 0) >= 1):
                break
            self.assertLess(time.monotonic(), deadline, "app2 never went down in /metrics")
            time.sleep(0.2)
        self.assertEqual(value(m, "sluice_server_state", pool="app", server="app1", state="drain"),
                         1)
        self.assertEqual(value(m, "sluice_server_up", pool="app", server="app1"), 0)
        self.assertGreaterEqual(value(m, "sluice_server_checks_total", pool="app", server="app1",
                                      result="pass"), 1)
        self.assertEqual(value(m, "sluice_pool_available_servers", pool="app"), 0)

    def test_queue_and_active_gauges_follow_the_load(self):
        # One slot on the one server: a second slow request waits in the pool's queue.
        self.backends = self.start_backends(1)
        self.port, self.admin_port = free_port(), free_port()
        pools = [pool_toml("app", [self.backends[0].port], "max_conns_per_server = 1\n")]
        self.sluice = self.start_sluice(
            admin_config(self.workdir, self.port, self.admin_port, pools), self.port)
        self.sluice.wait_listening(self.admin_port)
        clients = []
        for _ in range(2):
            c = socket.create_connection(("127.0.0.1", self.port), timeout=20)
            self.add_cleanup(c.close)
            c.sendall(b"GET /slow?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(c)
        m = self.wait_for(lambda m: value(m, "sluice_pool_queue_length", pool="app") == 1 and
                          value(m, "sluice_server_active_requests", pool="app",
                                server="app1") == 1, "one request active, one queued")
        self.assertEqual(value(m, "sluice_listener_active_connections", listener="web"), 2)
        for c in clients:
            self.assertIn(b"200", c.recv(100))
        self.wait_for(lambda m: value(m, "sluice_pool_queue_length", pool="app") == 0 and
                      value(m, "sluice_server_active_requests", pool="app", server="app1") == 0,
                      "the queue empty again", timeout=20)

    def test_healthz_503_from_the_start_of_a_graceful_stop(self):
        # A slow request keeps the graceful stop going while /healthz is asked.
        self.start()
        slow = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        self.add_cleanup(slow.close)
        slow.sendall(b"GET /slow?ms=4000 HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 10
        while True:
            m, _ = self.scrape()
            if value(m, "sluice_listener_active_connections", listener="web") == 1:
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(http_request(self.admin_port, path="/healthz")[0], 200)
        self.sluice.signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while True:
            status, headers, body = http_request(self.admin_port, path="/healthz")
            if status == 503:
                break
            self.assertLess(time.monotonic(), deadline, "/healthz never said 503")
            time.sleep(0.05)
        self.assertEqual(headers["cache-control"], "no-store")
        # Still draining: the slow request completes.
        self.assertIn(b"200", slow.recv(100))


def value_version(samples):
    for name, labels in samples:
        if name == "sluice_build_info":
            return dict(labels)["version"]
    return None


if __name__ == "__main__":
    unittest.main()
