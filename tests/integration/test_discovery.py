"""[pool.discovery] against a real DNS server (dnsmasq) and Gunicorn backends on 127.0.0.2-.4:
initial set, scale out, scale in with an in-flight request completing, outage and NXDOMAIN
within and after hold, SRV ports and weights, health checks, static + discovered servers in one
pool, and a reload that keeps the set."""

import json
import os
import signal
import subprocess
import threading
import time
import unittest

from dns_fixture import Dnsmasq, HostBackend, free_port_on
from harness import SLUICE_BIN, SluiceTestCase, free_port, http_request, sluice_config

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")
HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


class DiscoveryTestCase(SluiceTestCase):
    def start_dns(self, hosts=None, srv=(), host_records=()):
        self.dns = Dnsmasq(self.workdir, hosts, srv, host_records)
        self.add_cleanup(self.dns.stop)
        return self.dns

    def start_host_backends(self, count=3):
        self.backend_port = free_port_on(HOSTS[:count])
        backends = [HostBackend("b%d" % (i + 2), self.workdir, HOSTS[i], self.backend_port)
                    for i in range(count)]
        for b in backends:
            self.add_cleanup(b.stop)
        for b in backends:
            b.wait_listening()
        return backends

    def start_proxy(self, pool_body, algorithm="round_robin", workers=2):
        self.port = free_port()
        self.pool_body = pool_body
        self.algorithm = algorithm
        self.workers = workers
        self.sluice = self.start_sluice(self.config_text(), self.port)

    def config_text(self, extra_global=""):
        return sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % self.port],
            ['name = "app"\nalgorithm = "%s"\n%s' % (self.algorithm, self.pool_body)],
            workers=self.workers, access_log="off",
            extra_global=extra_global + '\n[resolver]\nnameservers = ["127.0.0.1:%d"]\n'
            'timeout = "300ms"\nattempts = 1\n' % self.dns.port)

    def discovery(self, name="app.test", refresh="1s", hold="60s", extra=""):
        return ('  [pool.discovery]\n  name = "%s"\n  port = %d\n  refresh = "%s"\n'
                '  hold = "%s"\n%s' % (name, self.backend_port, refresh, hold, extra))

    def backend_of(self, path="/"):
        status, _, body = http_request(self.port, path=path)
        if status != 200:
            return status
        return json.loads(body)["backend"]

    def seen(self, n=12):
        return [self.backend_of() for _ in range(n)]

    def wait_until(self, predicate, what, timeout=20.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            self.assertLess(time.monotonic(), deadline, "timed out waiting for " + what)
            time.sleep(0.05)
        return time.monotonic()

    def wait_serving(self, names, timeout=20.0):
        """Until a round of requests reaches exactly `names`."""
        want = set(names)
        return self.wait_until(lambda: set(self.seen(3 * max(len(names), 1))) == want,
                               "backends %s" % sorted(want), timeout)

    def ctl(self, *args):
        out = subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")] +
                             list(args), capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout

    def servers(self):
        return {s["name"]: s for s in json.loads(self.ctl("show", "servers", "--json"))["servers"]}


class DiscoveryTest(DiscoveryTestCase):
    def test_initial_set_scale_out_and_scale_in_with_an_in_flight_request(self):
        b2, b3, b4 = self.start_host_backends(3)
        self.start_dns({"app.test": ["127.0.0.2", "127.0.0.3"]})
        self.start_proxy(self.discovery())
        self.wait_serving(["b2", "b3"])
        servers = self.servers()
        p = self.backend_port
        self.assertEqual(sorted(servers), ["127.0.0.2_%d" % p, "127.0.0.3_%d" % p])
        self.assertTrue(all(s["discovered"] for s in servers.values()))
        self.assertIn("~", self.ctl("show", "servers"))

        # Scale out: 127.0.0.4 joins without a reload.
        changed = time.monotonic()
        self.dns.write_hosts({"app.test": HOSTS})
        first_new = self.wait_until(lambda: "b4" in self.seen(6), "b4 to get requests")
        print("scale out: DNS change -> first request to the new server: %.2fs"
              % (first_new - changed), flush=True)
        self.wait_serving(["b2", "b3", "b4"])

        # Scale in while a slow request is in flight on every server: each completes.
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            http_request(self.port, path="/slow?ms=2500", timeout=30))) for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        changed = time.monotonic()
        self.dns.write_hosts({"app.test": ["127.0.0.4"]})
        last_old = changed
        deadline = changed + 20
        while time.monotonic() < deadline:
            got = self.seen(4)
            if "b2" in got or "b3" in got:
                last_old = time.monotonic()
            elif time.monotonic() - last_old > 1.5:
                break
        self.assertEqual(set(self.seen(8)), {"b4"})
        print("scale in: DNS change -> last new request to a removed server: %.2fs"
              % (last_old - changed), flush=True)
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), 6)
        backends = set()
        for status, _, body in results:
            self.assertEqual(status, 200, body)
            backends.add(json.loads(body)["backend"])
        self.assertTrue({"b2", "b3"} <= backends, backends)  # they were in flight there
        out = self.sluice.output()
        self.assertIn("server 127.0.0.2_%d left DNS: draining" % p, out)
        self.wait_until(lambda: "server 127.0.0.3_%d drained: removed" % p in self.sluice.output(),
                        "the drained server to go")
        self.wait_until(lambda: sorted(self.servers()) == ["127.0.0.4_%d" % p],
                        "show servers to list only 127.0.0.4")
        # Logged once each, not once per refresh.
        time.sleep(2.5)
        self.assertEqual(self.sluice.output().count("server 127.0.0.2_%d left DNS" % p), 1)
        self.assertEqual(self.sluice.output().count("server 127.0.0.4_%d discovered" % p), 1)

    def share_of(self, name, seconds, max_requests=300):
        deadline = time.monotonic() + seconds
        give_up = deadline + 10
        hits = total = 0
        while total < max_requests and (time.monotonic() < deadline or
                                        (total < 20 and time.monotonic() < give_up)):
            hits += self.backend_of() == name
            total += 1
            time.sleep(0.005)
        while time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(total, 20)
        print("%s: %d/%d in %.1fs" % (name, hits, total, seconds), flush=True)
        return hits / total

    def test_a_new_address_ramps_up_by_slow_start(self):
        self.start_host_backends(3)
        self.start_dns({"app.test": ["127.0.0.2", "127.0.0.3"]})
        self.start_proxy('slow_start = "5s"\n' + self.discovery(),
                         algorithm="weighted_round_robin")
        self.wait_serving(["b2", "b3"])
        time.sleep(5.5)  # the first servers were discovered after start: they ramped too
        self.dns.write_hosts({"app.test": HOSTS})
        self.wait_until(lambda: "b4" in self.seen(3), "b4 to get requests")
        early = self.share_of("b4", 1.2)
        time.sleep(4.0)
        late = self.share_of("b4", 1.5)
        # Full weight is 1/3 at once; the ramp gives it ~2-13% in the first 1.2 s.
        self.assertLess(early, 0.18, (early, late))
        self.assertGreater(late, 0.25, (early, late))

    def test_outage_keeps_the_servers_for_hold_then_removes_them(self):
        self.start_host_backends(2)
        self.start_dns({"app.test": ["127.0.0.2", "127.0.0.3"]})
        self.start_proxy(self.discovery(hold="4s"))
        self.wait_serving(["b2", "b3"])
        self.dns.pause()  # queries time out
        paused = time.monotonic()
        self.wait_until(lambda: "lookup failed (Timeout" in self.sluice.output(),
                        "the failure to be logged")
        # Within hold: both still serve.
        while time.monotonic() < paused + 2.5:
            self.assertEqual(set(self.seen(4)), {"b2", "b3"})
            time.sleep(0.2)
        # After hold: removed; no server left, so 503.
        gone = self.wait_until(lambda: self.backend_of() == 503, "503 after hold", timeout=15)
        print("outage: servers removed %.2fs after DNS stopped answering (hold 4s)"
              % (gone - paused), flush=True)
        self.assertGreater(gone - paused, 3.0)
        out = self.sluice.output()
        self.assertEqual(out.count("lookup failed"), 1, out)
        self.assertEqual(out.count("longer than hold"), 1, out)
        # DNS answers again: the servers come back.
        self.dns.resume()
        self.wait_serving(["b2", "b3"])
        self.assertEqual(self.sluice.output().count("resolves again"), 1)

    def test_nxdomain_within_and_after_hold(self):
        self.start_host_backends(2)
        self.start_dns({"app.test": ["127.0.0.2", "127.0.0.3"]})
        self.start_proxy(self.discovery(hold="3s"))
        self.wait_serving(["b2", "b3"])
        self.dns.write_hosts({"other.test": ["127.0.0.4"]})  # app.test: NXDOMAIN now
        changed = time.monotonic()
        self.wait_until(lambda: "lookup failed (NXDOMAIN)" in self.sluice.output(),
                        "NXDOMAIN to be logged")
        self.assertEqual(set(self.seen(6)), {"b2", "b3"})  # held
        gone = self.wait_until(lambda: self.backend_of() == 503, "503 after hold", timeout=15)
        self.assertGreater(gone - changed, 2.0)
        self.assertEqual(self.sluice.output().count("lookup failed"), 1)

    def test_health_checks_and_static_servers_with_discovered_ones(self):
        b2, b3 = self.start_host_backends(2)
        static = self.start_backends(1)[0]  # "app1" on 127.0.0.1
        open(b3.health_file, "w").close()   # b3 fails its checks
        self.start_dns({"app.test": ["127.0.0.2", "127.0.0.3"]})
        self.start_proxy(
            '[[pool.server]]\nname = "static"\naddress = "127.0.0.1:%d"\n' % static.port +
            '  [pool.health_check]\n  type = "http"\n  path = "/healthz"\n  interval = "300ms"\n'
            '  timeout = "3s"\n  rise = 1\n  fall = 1\n' + self.discovery())
        self.wait_serving(["app1", "b2"])
        servers = self.servers()
        p = self.backend_port
        self.assertFalse(servers["static"]["discovered"])
        self.assertEqual(servers["127.0.0.3_%d" % p]["health"], "down")
        self.assertEqual(servers["127.0.0.2_%d" % p]["health"], "up")
        os.unlink(b3.health_file)
        self.wait_serving(["app1", "b2", "b3"])
        self.assertIn("server 127.0.0.3_%d is UP" % p, self.sluice.output())
        # set server works on a discovered one.
        self.ctl("set", "server", "app/127.0.0.2_%d" % p, "state", "drain")
        self.wait_serving(["app1", "b3"])
        # ... until it leaves DNS: back in DNS later, it is a new server, in service again.
        self.dns.write_hosts({"app.test": ["127.0.0.3"]})
        self.wait_until(lambda: "127.0.0.2_%d" % p not in self.servers(), "127.0.0.2 to go")
        self.dns.write_hosts({"app.test": ["127.0.0.2", "127.0.0.3"]})
        self.wait_serving(["app1", "b2", "b3"])
        self.assertEqual(self.servers()["127.0.0.2_%d" % p]["admin"], "ready")

    def test_reload_keeps_the_discovered_set_of_an_unchanged_pool(self):
        self.start_host_backends(2)
        self.start_dns({"app.test": ["127.0.0.2", "127.0.0.3"]})
        self.start_proxy(self.discovery())
        self.wait_serving(["b2", "b3"])
        self.dns.pause()  # no DNS at all during the reload
        with open(self.sluice.config_path, "w") as f:
            f.write(self.config_text(extra_global="# reloaded\n"))
        self.sluice.signal(signal.SIGHUP)
        self.wait_until(lambda: "configuration reloaded" in self.sluice.output(), "the reload")
        self.assertEqual(set(self.seen(8)), {"b2", "b3"})
        out = self.sluice.output()
        self.assertEqual(out.count(" discovered"), 2, out)  # not found again
        self.assertEqual(out.count("discovery: following"), 1, out)  # not restarted
        self.dns.resume()


class CheckOnlyTest(SluiceTestCase):
    def test_check_mode_validates_discovery_without_asking_dns(self):
        # The only nameserver is a port nobody answers on: -t must not wait for it.
        dead = free_port()
        path = os.path.join(self.workdir, "t.toml")
        with open(path, "w") as f:
            f.write(sluice_config(
                self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % free_port()],
                ['name = "app"\n  [pool.discovery]\n  name = "app.test"\n  port = 8000\n'],
                extra_global='\n[resolver]\nnameservers = ["127.0.0.1:%d"]\ntimeout = "5s"\n'
                'attempts = 3\n' % dead))
        started = time.monotonic()
        out = subprocess.run([SLUICE_BIN, "-t", "-c", path], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertLess(time.monotonic() - started, 4.0)  # well under one DNS timeout
        # And an invalid discovery table is a FILE:LINE:COL error.
        with open(path, "a") as f:
            f.write('[[pool]]\nname = "bad"\n  [pool.discovery]\n  name = "x.test"\n')
        out = subprocess.run([SLUICE_BIN, "-t", "-c", path], capture_output=True, text=True,
                             timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('[pool.discovery] is missing required key "port"', out.stdout + out.stderr)
        self.assertRegex(out.stdout + out.stderr, r"t\.toml:\d+:\d+: ")


class SrvDiscoveryTest(DiscoveryTestCase):
    def test_srv_targets_ports_weights_and_priority(self):
        a, b, c = self.start_backends(3)  # app1..app3 on 127.0.0.1, own ports
        self.start_dns(
            srv=["_http._tcp.app.test,a.test,%d,10,3" % a.port,
                 "_http._tcp.app.test,b.test,%d,10,1" % b.port,
                 "_http._tcp.app.test,c.test,%d,20,5" % c.port],
            host_records=["a.test,127.0.0.1", "b.test,127.0.0.1", "c.test,127.0.0.1"])
        self.start_proxy('  [pool.discovery]\n  srv = "_http._tcp.app.test"\n  refresh = "1s"\n',
                         algorithm="weighted_round_robin", workers=1)
        self.wait_until(lambda: len(self.servers()) == 3, "three SRV servers")
        servers = self.servers()
        self.assertEqual(servers["127.0.0.1_%d" % a.port]["weight"], 3)
        self.assertEqual(servers["127.0.0.1_%d" % b.port]["weight"], 1)
        self.assertEqual(servers["127.0.0.1_%d" % c.port]["backup"], True)
        self.assertEqual(servers["127.0.0.1_%d" % a.port]["address"], "127.0.0.1:%d" % a.port)
        got = self.seen(40)
        self.assertEqual(got.count("app1"), 30, got)  # 3:1, the backup (priority 20) unused
        self.assertEqual(got.count("app2"), 10, got)


if __name__ == "__main__":
    unittest.main()
