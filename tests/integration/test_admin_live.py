"""The admin endpoint read by the real tools it is for: `promtool check metrics` on a live
scrape, a real Prometheus server scraping sluice every second (then its HTTP API queried), and
headless Chromium rendering the real /status page from the real /status.json."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
import urllib.parse
import urllib.request

from harness import SOURCE_DIR, SLUICE_BIN, SluiceTestCase, free_port, http_request, pool_toml
from test_admin import admin_config

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "browser"))
import status_page_check  # noqa: E402  (Dom, chromium)

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
CHROMIUM = "/usr/bin/chromium"


class AdminLiveTest(SluiceTestCase):
    def start(self, backends=3, pool_extra=""):
        self.backends = self.start_backends(backends)
        self.port, self.admin_port = free_port(), free_port()
        pools = [pool_toml("app", [b.port for b in self.backends], pool_extra)]
        self.sluice = self.start_sluice(
            admin_config(self.workdir, self.port, self.admin_port, pools), self.port)
        self.sluice.wait_listening(self.admin_port)

    def ctl(self, *args):
        subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")] + list(args),
                       check=True, timeout=20, capture_output=True)

    def test_promtool_accepts_a_live_scrape(self):
        self.assertTrue(os.path.exists(PROMTOOL), "promtool is not installed (Debian prometheus)")
        self.start(backends=2)
        for path in ("/", "/status/404", "/status/503", "/slow?ms=30"):
            http_request(self.port, path=path)
        status, _, body = http_request(self.admin_port, path="/metrics")
        self.assertEqual(status, 200)
        done = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                              timeout=60)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn(b'sluice_pool_request_duration_seconds_bucket{pool="app",le="0.005"}', body)

    def test_a_real_prometheus_scrapes_sluice(self):
        self.assertTrue(os.path.exists(PROMETHEUS), "prometheus is not installed")
        self.start(backends=2)
        n = 6
        for _ in range(n):
            self.assertEqual(http_request(self.port)[0], 200)
        prom_dir = tempfile.mkdtemp(prefix="sluice-prom-")
        self.add_cleanup(lambda: shutil.rmtree(prom_dir, ignore_errors=True))
        config = os.path.join(prom_dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: sluice\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % self.admin_port)
        prom_port = free_port()
        log = open(os.path.join(prom_dir, "prometheus.log"), "wb")
        prom = subprocess.Popen([PROMETHEUS, "--config.file=" + config,
                                 "--storage.tsdb.path=" + os.path.join(prom_dir, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % prom_port],
                                stdout=log, stderr=subprocess.STDOUT)

        def stop_prometheus():
            if prom.poll() is None:
                prom.terminate()
                try:
                    prom.wait(20)
                except subprocess.TimeoutExpired:
                    prom.kill()
                    prom.wait()
            log.close()
        self.add_cleanup(stop_prometheus)

        def query(expr):
            url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (prom_port,
                                                                 urllib.parse.quote(expr))
            with urllib.request.urlopen(url, timeout=5) as r:
                doc = json.loads(r.read())
            self.assertEqual(doc["status"], "success")
            return doc["data"]["result"]

        deadline = time.monotonic() + 90
        up = requests = None
        while time.monotonic() < deadline:
            self.assertIsNone(prom.poll(), "prometheus exited")
            try:
                up = query('up{job="sluice"}')
                requests = query('sluice_listener_requests_total{listener="web",code="2xx"}')
            except OSError:
                time.sleep(0.5)
                continue
            if up and up[0]["value"][1] == "1" and requests:
                break
            time.sleep(0.5)
        self.assertTrue(up and up[0]["value"][1] == "1", "target not up in Prometheus: %r" % up)
        self.assertTrue(requests, "no sluice_listener_requests_total series in Prometheus")
        self.assertEqual(float(requests[0]["value"][1]), n)
        # A histogram query works on what it scraped.
        p99 = query('histogram_quantile(0.99, sum by (le) '
                    '(sluice_pool_request_duration_seconds_bucket{pool="app"}))')
        self.assertTrue(p99, "histogram_quantile over sluice's buckets returned nothing")

    def test_chromium_renders_the_real_status_page(self):
        self.assertTrue(os.path.exists(CHROMIUM), "chromium is not installed")
        self.start(backends=3, pool_extra='[pool.health_check]\npath = "/healthz"\n'
                                          'interval = "200ms"\ntimeout = "2s"\nrise = 1\nfall = 3\n')
        self.ctl("set", "server", "app/app2", "state", "drain")
        open(self.backends[2].health_file, "w").close()  # app3 fails its checks: down
        deadline = time.monotonic() + 30
        while True:
            doc = json.loads(http_request(self.admin_port, path="/status.json")[2])
            health = {s["name"]: s["health"] for s in doc["servers"]}
            # app1 must be up too: under load its first checks may still be under way, and with
            # app2 draining and app3 down it is the only server the requests below can use.
            if health.get("app3") == "down" and health.get("app1") == "up":
                break
            self.assertLess(time.monotonic(), deadline, "app3 never went down: %r" % health)
            time.sleep(0.1)
        for _ in range(5):
            self.assertEqual(http_request(self.port)[0], 200)
        url = "http://127.0.0.1:%d/status" % self.admin_port
        rc, dom_text, err = status_page_check.chromium(CHROMIUM, url, ["--dump-dom"], 5000)
        self.assertEqual(rc, 0, err[-2000:])
        dom = status_page_check.Dom()
        dom.feed(dom_text)
        self.assertEqual(dom.body.get("data-connection"), "live", dom.body)
        servers = {r["attrs"].get("data-server"): r["attrs"].get("data-state")
                   for r in dom.rows if r["table"] == "servers" and "data-server" in r["attrs"]}
        self.assertEqual(servers, {"app1": "up", "app2": "drain", "app3": "down"})
        pools = {r["attrs"]["data-pool"]: r["attrs"] for r in dom.rows
                 if r["table"] == "pools" and "data-pool" in r["attrs"]}
        self.assertEqual((pools["app"]["data-available"], pools["app"]["data-total"]), ("1", "3"))
        listeners = [r["attrs"]["data-listener"] for r in dom.rows if "data-listener" in r["attrs"]]
        self.assertEqual(listeners, ["web"])
        # The screenshot is kept under the build tree (README's picture of the page).
        out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(SLUICE_BIN))),
                           "browser")
        os.makedirs(out, exist_ok=True)
        shot = os.path.join(out, "status_page_sluice.png")
        if os.path.exists(shot):
            os.unlink(shot)
        rc, _, err = status_page_check.chromium(
            CHROMIUM, url, ["--screenshot=" + shot, "--window-size=1400,900"], 5000)
        self.assertEqual(rc, 0, err[-2000:])
        self.assertTrue(os.path.getsize(shot) > 10000, "screenshot missing or empty")


if __name__ == "__main__":
    unittest.main()
