"""Active health checks ([pool.health_check]) through the real sluice binary: Gunicorn/Django
backends whose /healthz can be switched to 503 (backend.health_file) or that are killed, and
raw-socket upstreams that record the check request or never answer.

Timings are short (interval 200ms) and every assertion on time has generous slack: the point is
"within interval * fall + timeout, not after many intervals", not millisecond precision."""

import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest

from harness import (RecordingUpstream, SluiceTestCase, free_port, http_request, pool_toml,
                     sluice_config)

INTERVAL = 0.2
# Longer than the interval on purpose: a Django worker's first request can take most of a second
# on a busy machine; backends are warmed up first, this is the margin on top.
TIMEOUT = 0.5
RISE = 2
FALL = 2
# Scheduling noise on a loaded 2-core CI machine, process start, log flushing.
SLACK = 3.0


def health_check_toml(type_="http", interval="200ms", timeout="500ms", rise=RISE, fall=FALL,
                      extra=""):
    """A [pool.health_check] sub-table (it must follow the pool's plain keys)."""
    return ('[pool.health_check]\ntype = "%s"\ninterval = "%s"\ntimeout = "%s"\n'
            'rise = %d\nfall = %d\n%s' % (type_, interval, timeout, rise, fall, extra))


def warm_up(backends):
    """Django's first request in each Gunicorn worker is slow (lazy imports, URL resolver): make
    it before sluice checks, so a cold start is not mistaken for a failed check."""
    for b in backends:
        fast = 0
        for _ in range(40):
            start = time.monotonic()
            http_request(b.port, path="/healthz")
            fast = fast + 1 if time.monotonic() - start < 0.05 else 0
            if fast >= 6:
                break


class HealthCheckCase(SluiceTestCase):
    """Helpers shared by the tests below (no tests of its own)."""

    def start_backends(self, n=3, **kwargs):
        backends = super().start_backends(n, **kwargs)
        warm_up(backends)
        return backends

    def start_proxy(self, ports, check, pool_keys="retries = 0\n", workers=2):
        port = free_port()
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\nmode = "http"\npool = "app"' % port],
            [pool_toml("app", ports, pool_keys + check)], workers=workers)
        self.sluice = self.start_sluice(config, port)
        self.started = time.monotonic()
        return port

    def wait_log(self, pattern, timeout):
        """Waits until sluice's output matches `pattern`; returns (match, seconds waited)."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            m = re.search(pattern, self.sluice.output())
            if m:
                return m, time.monotonic() - start
            if time.monotonic() > deadline:
                self.fail("no log line matching %r within %.1fs; log:\n%s"
                          % (pattern, timeout, self.sluice.output()[-3000:]))
            time.sleep(0.02)

    def backends_seen(self, port, n=60):
        """Sends n requests; returns the list of backend names (fails on any non-200)."""
        seen = []
        for i in range(n):
            status, headers, body = http_request(port, path="/?i=%d" % i)
            self.assertEqual(status, 200, body)
            name = json.loads(body)["backend"]
            self.assertEqual(headers.get("x-backend"), name)
            seen.append(name)
        return seen

    def settle(self):
        """Lets the first checks finish (they are decisive: a change before them would be
        reported as "(first check)" instead of a rise/fall run)."""
        time.sleep(TIMEOUT + 3 * INTERVAL)

    def wait_all_seen(self, port, names, timeout=10.0):
        deadline = time.monotonic() + timeout
        seen = set()
        while time.monotonic() < deadline:
            seen.update(self.backends_seen(port, 12))
            if set(names) <= seen:
                return
        self.fail("backends %s not all seen within %.0fs (seen %s)" % (names, timeout, seen))


class HealthCheckTest(HealthCheckCase):
    # --- http check: /healthz turns 503, then recovers ------------------------------------

    def test_503_leaves_rotation_within_fall_intervals_and_returns_after_rise(self):
        backends = self.start_backends(3)
        port = self.start_proxy([b.port for b in backends], health_check_toml())
        self.wait_all_seen(port, ["app1", "app2", "app3"])
        self.settle()

        open(backends[1].health_file, "w").close()
        _, waited = self.wait_log(
            r"pool app server app2 is DOWN: HTTP 503 from /healthz \(2/2 failed\)", 15)
        self.assertLess(waited, INTERVAL * FALL + TIMEOUT + SLACK)
        # From detection on, no request reaches app2 (retries = 0: nothing hides a miss).
        seen = self.backends_seen(port, 90)
        self.assertNotIn("app2", seen)
        self.assertEqual(set(seen), {"app1", "app3"})

        os.unlink(backends[1].health_file)
        _, waited = self.wait_log(r"pool app server app2 is UP: HTTP 200 \(2/2 passed\)", 15)
        self.assertLess(waited, INTERVAL * RISE + TIMEOUT + SLACK)
        self.wait_all_seen(port, ["app1", "app2", "app3"], timeout=5)
        out = self.sluice.output()
        # Exactly one change each way, logged at warn.
        self.assertEqual(len(re.findall(r"\[warn\] pool app server app2 is DOWN", out)), 1, out)
        self.assertEqual(len(re.findall(r"\[warn\] pool app server app2 is UP", out)), 1, out)
        self.assertNotRegex(out, r"server app[13] is (DOWN|UP)")

    def test_one_failed_check_below_fall_does_not_remove_a_server(self):
        backends = self.start_backends(2)
        # fall = 1000: a 503 streak of a second can never reach it.
        port = self.start_proxy([b.port for b in backends], health_check_toml(fall=1000))
        self.wait_all_seen(port, ["app1", "app2"])
        self.settle()
        open(backends[0].health_file, "w").close()
        time.sleep(1.0)
        os.unlink(backends[0].health_file)
        self.assertNotIn("is DOWN", self.sluice.output())
        self.wait_all_seen(port, ["app1", "app2"], timeout=5)

    # --- killed backends: http and tcp checks ---------------------------------------------

    def check_killed_backend_is_detected(self, type_):
        backends = self.start_backends(3)
        port = self.start_proxy([b.port for b in backends], health_check_toml(type_=type_))
        self.wait_all_seen(port, ["app1", "app2", "app3"])
        self.settle()
        backends[2].kill()
        _, waited = self.wait_log(
            r"pool app server app3 is DOWN: connect: connection refused \(2/2 failed\)", 15)
        self.assertLess(waited, INTERVAL * FALL + TIMEOUT + SLACK)
        seen = self.backends_seen(port, 60)  # all 200 with retries = 0
        self.assertEqual(set(seen), {"app1", "app2"})

    def test_killed_backend_is_detected_by_the_http_check(self):
        self.check_killed_backend_is_detected("http")

    def test_killed_backend_is_detected_by_the_tcp_check(self):
        self.check_killed_backend_is_detected("tcp")

    def test_tcp_check_brings_a_restarted_backend_back(self):
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        late = self.dead_socket()
        self.start_proxy([upstream.port, late.getsockname()[1]], health_check_toml(type_="tcp"))
        self.wait_log(r"pool app server app2 is DOWN: connect: connection refused "
                      r"\(first check\)", SLACK)
        # Something starts listening on the dead port: two passes bring it back.
        late.listen(64)

        def accept_and_close():
            while True:
                try:
                    conn, _ = late.accept()
                except OSError:
                    return
                conn.close()

        threading.Thread(target=accept_and_close, daemon=True).start()
        self.wait_log(r"pool app server app2 is UP: TCP connect ok \(2/2 passed\)",
                      INTERVAL * RISE + TIMEOUT + SLACK)

    # --- start: a failed first check marks a server down at once --------------------------

    def test_failed_first_check_at_start_marks_the_server_down_at_once(self):
        backends = self.start_backends(2)
        dead = self.dead_port()  # nothing listens here
        # A long interval and a high fall: only the first-check rule can explain a quick DOWN.
        port = self.start_proxy(
            [backends[0].port, dead, backends[1].port],
            health_check_toml(interval="3s", timeout="1s", fall=5))
        self.wait_log(r"\[warn\] pool app server app2 is DOWN: connect: connection refused "
                      r"\(first check\)", 15)
        # Well before the second check (3s) could even run, let alone fall = 5 of them.
        self.assertLess(time.monotonic() - self.started, 2.5)
        # retries = 0: a request sent to the dead server would come back as 502. (Servers are
        # named by position: app1 and app3 are the backends whose own names are app1 and app2.)
        seen = self.backends_seen(port, 90)
        self.assertEqual(set(seen), {"app1", "app2"})
        self.assertNotIn("app1 is DOWN", self.sluice.output())
        self.assertNotIn("app3 is DOWN", self.sluice.output())

    def test_healthy_servers_at_start_serve_from_the_first_request(self):
        backends = self.start_backends(2)
        port = self.start_proxy([b.port for b in backends],
                                health_check_toml(interval="5s", timeout="1s"))
        # No waiting for rise: servers present at start begin up.
        self.assertEqual(set(self.backends_seen(port, 8)), {"app1", "app2"})

    # --- the check request itself ---------------------------------------------------------

    def test_http_check_request_and_expect_status(self):
        ready = RecordingUpstream(reply=b"HTTP/1.1 204 No Content\r\n\r\n", close_after=True)
        self.add_cleanup(ready.close)
        other = RecordingUpstream(reply=b"HTTP/1.1 204 No Content\r\n\r\n", close_after=True)
        self.add_cleanup(other.close)
        port = free_port()
        check_default = health_check_toml(
            extra='path = "/status/ready?x=1"\nexpect_status = "200"\n')
        check_host = health_check_toml(
            extra='host = "health.example"\nexpect_status = "200,204"\n')
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\nmode = "http"\npool = "app"' % port],
            [pool_toml("app", [ready.port], check_default),
             pool_toml("b", [other.port], check_host)])
        self.sluice = self.start_sluice(config, port)
        # 204 is outside "200": down at the first check, with the status and the path.
        self.wait_log(r"pool app server app1 is DOWN: HTTP 204 from /status/ready\?x=1 "
                      r"\(first check\)", SLACK)
        time.sleep(INTERVAL * 3)
        self.assertNotIn("pool b server b1 is DOWN", self.sluice.output())
        with ready.lock:
            received = bytes(ready.received).decode("latin-1")
        first = received.split("\r\n\r\n")[0]
        lines = first.split("\r\n")
        self.assertEqual(lines[0], "GET /status/ready?x=1 HTTP/1.1")
        headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
        self.assertEqual(headers["host"], "127.0.0.1:%d" % ready.port)  # the server's address
        self.assertEqual(headers["user-agent"], "sluice-health-check")
        self.assertEqual(headers["connection"], "close")
        with other.lock:
            received = bytes(other.received).decode("latin-1")
        self.assertIn("\r\nHost: health.example\r\n", received)

    def test_unanswered_check_times_out(self):
        silent = RecordingUpstream(reply=lambda data: None)  # accepts, reads, never answers
        self.add_cleanup(silent.close)
        backends = self.start_backends(1)
        port = self.start_proxy([backends[0].port, silent.port], health_check_toml())
        self.wait_log(r"pool app server app2 is DOWN: timeout after 500ms waiting for the "
                      r"response \(first check\)", TIMEOUT + SLACK)
        self.assertEqual(set(self.backends_seen(port, 30)), {"app1"})

    def test_checks_run_once_per_process_not_per_worker(self):
        ok = RecordingUpstream(reply=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                               close_after=True)
        self.add_cleanup(ok.close)
        self.start_proxy([ok.port], health_check_toml(interval="200ms"), workers=4)
        time.sleep(2.0)
        with ok.lock:
            checks = ok.connections
        # About 10 checks in 2s (plus start-up time); 4 workers each checking would be ~40.
        self.assertGreaterEqual(checks, 5)
        self.assertLessEqual(checks, 18)
        self.assertNotIn("is DOWN", self.sluice.output())


class HealthCheckReloadTest(HealthCheckCase):
    """update(snapshot, initial = false): servers added by a reload begin down; known servers
    keep their health across the reload."""

    def config_text(self, port, ports, check):
        return sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\nmode = "http"\npool = "app"' % port],
            [pool_toml("app", ports, "retries = 0\n" + check)])

    def reload(self, text, generation):
        with open(self.sluice.config_path, "w") as f:
            f.write(text)
        self.sluice.signal(signal.SIGHUP)
        self.wait_log(r"configuration reloaded, generation %d" % generation, 15)

    def test_servers_added_by_reload_begin_down_and_join_after_their_first_pass(self):
        backends = self.start_backends(2)
        dead = self.dead_port()
        check = health_check_toml(interval="300ms", timeout="500ms", rise=3)
        port = self.start_proxy([backends[0].port], check)
        self.wait_all_seen(port, ["app1"])
        # Steady traffic through the reload: with retries = 0, one request sent to the dead
        # server (had it begun up for even a moment) would come back as 502.
        failures, names = [], set()
        stop = threading.Event()

        def load():
            while not stop.is_set():
                try:
                    status, _, body = http_request(port, path="/")
                except OSError as e:
                    failures.append(repr(e))
                    continue
                if status != 200:
                    failures.append(status)
                else:
                    names.add(json.loads(body)["backend"])
                time.sleep(0.005)  # steady, not saturating: the checks must not starve

        thread = threading.Thread(target=load, daemon=True)
        thread.start()
        try:
            time.sleep(0.3)
            self.reload(self.config_text(port, [backends[0].port, dead, backends[1].port], check),
                        2)
            # Joins on its FIRST pass (rise = 3 applies to servers that went down).
            _, waited = self.wait_log(r"pool app server app3 is UP: HTTP 200 \(first check\)", 15)
            self.assertLess(waited, SLACK)
            self.wait_log(r"pool app server app2 stays DOWN: first check failed: connect: "
                          r"connection refused", 15)
            deadline = time.monotonic() + 10
            while "app2" not in names and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(15)
        self.assertEqual(failures, [], self.sluice.output()[-3000:])
        self.assertEqual(names, {"app1", "app2"})  # backend names: servers app1 and app3
        self.assertNotIn("server app2 is UP", self.sluice.output())

    def test_a_down_server_stays_down_across_a_reload(self):
        backends = self.start_backends(2)
        check = health_check_toml()
        port = self.start_proxy([b.port for b in backends], check)
        self.wait_all_seen(port, ["app1", "app2"])
        self.settle()
        open(backends[1].health_file, "w").close()
        self.wait_log(r"pool app server app2 is DOWN: HTTP 503 from /healthz \(2/2 failed\)", 15)
        # Same servers, other settings: state and runs carry over; nothing is re-learned.
        self.reload(self.config_text(port, [b.port for b in backends],
                                     health_check_toml(fall=3, rise=3)), 2)
        self.assertEqual(set(self.backends_seen(port, 40)), {"app1"})
        os.unlink(backends[1].health_file)
        _, waited = self.wait_log(r"pool app server app2 is UP: HTTP 200 \(3/3 passed\)", 15)
        self.assertLess(waited, 3 * INTERVAL + TIMEOUT + SLACK)
        out = self.sluice.output()
        self.assertEqual(out.count("server app2 is DOWN"), 1, out)
        self.assertEqual(out.count("server app2 is UP"), 1, out)
        self.assertNotIn("server app1 is", out)

    def test_a_pool_that_loses_its_check_serves_all_its_servers(self):
        backends = self.start_backends(2)
        port = self.start_proxy([b.port for b in backends], health_check_toml())
        open(backends[1].health_file, "w").close()
        self.wait_log(r"pool app server app2 is DOWN", 15)
        self.reload(self.config_text(port, [b.port for b in backends], ""), 2)
        self.wait_all_seen(port, ["app1", "app2"], timeout=5)


SLUICECTL = os.environ.get("SLUICECTL_BIN") or os.path.join(
    os.path.dirname(os.environ.get("SLUICE_BIN", "")), "sluicectl")


class HealthCheckAdminStateTest(HealthCheckCase):
    def ctl(self, *args):
        out = subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")] +
                             list(args), capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout

    def test_maint_stops_the_checks_and_ready_resumes_them(self):
        if not os.path.exists(SLUICECTL):
            self.skipTest("sluicectl not built (set SLUICECTL_BIN)")
        ok = RecordingUpstream(reply=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                               close_after=True)
        self.add_cleanup(ok.close)
        other = RecordingUpstream(reply=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                                  close_after=True)
        self.add_cleanup(other.close)
        self.start_proxy([ok.port, other.port], health_check_toml())
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(self.workdir, "control.sock")):
            self.assertLess(time.monotonic(), deadline, "no control socket")
            time.sleep(0.05)
        time.sleep(0.5)
        self.ctl("set", "server", "app/app1", "state", "maint")
        time.sleep(0.5)  # a check already running may still finish
        with ok.lock:
            before = ok.connections
        time.sleep(1.5)
        with ok.lock:
            self.assertEqual(ok.connections, before, "checks went on in maint")
        with other.lock:
            other_before = other.connections
        self.ctl("set", "server", "app/app1", "state", "ready")
        time.sleep(1.5)
        with ok.lock:
            self.assertGreaterEqual(ok.connections, before + 3, "checks did not resume")
        with other.lock:
            self.assertGreaterEqual(other.connections, other_before + 3)
        self.assertNotIn("is DOWN", self.sluice.output())


if __name__ == "__main__":
    unittest.main()
