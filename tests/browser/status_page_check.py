#!/usr/bin/python3
"""Renders the status page in headless Chromium and checks the DOM its script builds.

A stand-in HTTP server on 127.0.0.1 (port chosen at run time) serves src/admin/status_page.html
at /status and a made-up /status.json whose counters grow on every fetch, as sluice's would.
Two scenes:

  live  every fetch answers: each server's row has its pool, name and state (up, down, drain,
        maint, ejected, backup mark), pools their availability and latency, listeners their
        rates (computed by the page from successive readings, so they must be above zero);
  lost  the server stops answering after two fetches (connection closed without a reply, as
        when sluice is gone): the page must say so and keep the last rows, marked stale.

Screenshots of both land in the output directory (default build/release/browser). The real
sluice's /status is checked by tests/integration/test_admin_live.py, which reuses chromium() and
Dom from here.

Usage: tests/browser/status_page_check.py [--html FILE] [--out DIR] [--chromium PATH]
Exit status 0 when every check passed, 1 otherwise (each failure printed).
"""

import argparse
import copy
import html.parser
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What each scene serves; counters below grow by STEP per fetch.
FIXTURE = {
    "status": {"version": "0.1.0", "pid": 4242, "uptime_s": 93784,
               "config_file": "/etc/sluice/sluice.toml", "generation": 3, "workers": 2,
               "open_connections": 17, "requests": 123456},
    "listeners": [
        {"name": "web", "bind": "0.0.0.0:8080", "mode": "http", "connections_total": 5000,
         "active_connections": 15,
         "requests": {"1xx": 0, "2xx": 100000, "3xx": 2000, "4xx": 900, "5xx": 40},
         "bytes_received": 40_000_000, "bytes_sent": 900_000_000},
        {"name": "db", "bind": "127.0.0.1:5433", "mode": "tcp", "connections_total": 300,
         "active_connections": 2, "bytes_received": 1_000_000, "bytes_sent": 8_000_000},
    ],
    "pools": [
        {"name": "app", "algorithm": "least_conn", "servers_available": 2, "servers_total": 5,
         "active": 9, "queued": 0,
         "requests": {"1xx": 0, "2xx": 90000, "3xx": 2000, "4xx": 800, "5xx": 35},
         "latency_ms": {"p50": 12.4, "p90": 48, "p99": 310}},
        {"name": "static", "algorithm": "round_robin", "servers_available": 1,
         "servers_total": 1, "active": 0, "queued": 0,
         "requests": {"1xx": 0, "2xx": 10000, "3xx": 0, "4xx": 100, "5xx": 5},
         "latency_ms": {"p50": None, "p90": None, "p99": None}},
    ],
    "servers": [
        {"pool": "app", "name": "app1", "address": "10.0.0.11:8000", "weight": 1,
         "backup": False, "admin": "ready", "health": "up", "ejected": False, "active": 5,
         "requests": 40000, "failures": 3, "last_check": "HTTP 200",
         "last_change": "2026-11-24T08:00:00.000Z",
         "runtime": {"added": False, "weight": False, "admin": False},
         "requests_by_code": {"1xx": 0, "2xx": 39000, "3xx": 800, "4xx": 190, "5xx": 10}},
        {"pool": "app", "name": "app2", "address": "10.0.0.12:8000", "weight": 2,
         "backup": False, "admin": "drain", "health": "up", "ejected": False, "active": 1,
         "requests": 30000, "failures": 0, "last_check": "HTTP 200",
         "last_change": "-", "runtime": {"added": False, "weight": True, "admin": True},
         "requests_by_code": {"1xx": 0, "2xx": 29500, "3xx": 400, "4xx": 100, "5xx": 0}},
        {"pool": "app", "name": "app3", "address": "10.0.0.13:8000", "weight": 1,
         "backup": False, "admin": "ready", "health": "down", "ejected": False, "active": 0,
         "requests": 15000, "failures": 120, "last_check": "connect: connection refused",
         "last_change": "2026-11-24T09:58:00.000Z",
         "runtime": {"added": False, "weight": False, "admin": False},
         "requests_by_code": {"1xx": 0, "2xx": 14000, "3xx": 500, "4xx": 480, "5xx": 20}},
        {"pool": "app", "name": "app4", "address": "10.0.0.14:8000", "weight": 1,
         "backup": False, "admin": "maint", "health": "up", "ejected": False, "active": 0,
         "requests": 5000, "failures": 0, "last_check": "HTTP 200", "last_change": "-",
         "runtime": {"added": True, "weight": False, "admin": True},
         "requests_by_code": {"1xx": 0, "2xx": 5000, "3xx": 0, "4xx": 0, "5xx": 0}},
        {"pool": "app", "name": "app5", "address": "10.0.0.15:8000", "weight": 1,
         "backup": False, "admin": "ready", "health": "up", "ejected": True, "active": 0,
         "requests": 2000, "failures": 40, "last_check": "HTTP 200", "last_change": "-",
         "runtime": {"added": False, "weight": False, "admin": False},
         "requests_by_code": {"1xx": 0, "2xx": 1900, "3xx": 0, "4xx": 30, "5xx": 5}},
        {"pool": "app", "name": "spare", "address": "10.0.0.20:8000", "weight": 1,
         "backup": True, "admin": "ready", "health": "up", "ejected": False, "active": 0,
         "requests": 0, "failures": 0, "last_check": "HTTP 200", "last_change": "-",
         "runtime": {"added": False, "weight": False, "admin": False},
         "requests_by_code": {"1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}},
        {"pool": "static", "name": "cdn <origin> & \"co\"", "address": "10.0.1.1:80",
         "weight": 1, "backup": False, "admin": "ready", "health": "up", "ejected": False,
         "active": 0, "requests": 10105, "failures": 0, "last_check": "no check",
         "last_change": "-", "runtime": {"added": False, "weight": False, "admin": False},
         "requests_by_code": {"1xx": 0, "2xx": 10000, "3xx": 0, "4xx": 100, "5xx": 5}},
    ],
}
EXPECTED_STATES = {("app", "app1"): "up", ("app", "app2"): "drain", ("app", "app3"): "down",
                   ("app", "app4"): "maint", ("app", "app5"): "ejected",
                   ("app", "spare"): "up", ("static", "cdn <origin> & \"co\""): "up"}
STEP = 40  # 2xx requests per fetch on web and app1; 5xx: 1 per fetch


def reading(n):
    """The fixture as the n-th fetch (0-based) sees it: counters grow, the rest stays."""
    data = copy.deepcopy(FIXTURE)
    data["status"]["uptime_s"] += 2 * n
    web = data["listeners"][0]
    web["requests"]["2xx"] += STEP * n
    web["requests"]["5xx"] += n
    web["connections_total"] += 3 * n
    web["bytes_received"] += 20_000 * n
    web["bytes_sent"] += 2_000_000 * n
    data["listeners"][1]["bytes_sent"] += 50_000 * n
    app = data["pools"][0]
    app["requests"]["2xx"] += STEP * n
    app["requests"]["5xx"] += n
    app1 = data["servers"][0]
    app1["requests_by_code"]["2xx"] += STEP * n
    app1["requests_by_code"]["5xx"] += n
    app1["requests"] += (STEP + 1) * n
    return data


class StandIn(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, page, answer_fetches):
        super().__init__(("127.0.0.1", 0), Handler)
        self.page = page
        self.answer_fetches = answer_fetches  # None: always
        self.fetches = 0
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/status":
            self.reply(200, "text/html; charset=utf-8", self.server.page)
        elif path == "/status.json":
            with self.server.lock:
                n = self.server.fetches
                self.server.fetches += 1
            limit = self.server.answer_fetches
            if limit is not None and n >= limit:
                self.close_connection = True  # sluice gone: no reply at all
                return
            self.reply(200, "application/json", json.dumps(reading(n)).encode())
        else:
            self.reply(404, "text/plain", b"not found\n")

    def reply(self, code, content_type, body):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class Dom(html.parser.HTMLParser):
    """Rows (tr, li) with data-* attributes and their text; body attributes; #lost text."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.rows = []    # {"tag", "attrs", "table", "cells": [text per td]}
        self.lost = ""
        self.stack = []   # open elements: (tag, attrs)
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        table = next((x.get("id") for t, x in reversed(self.stack) if t in ("table", "ul")), None)
        if tag in ("tr", "li") and any(k.startswith("data-") for k in a):
            self.rows.append({"tag": tag, "attrs": a, "table": table, "cells": [], "text": ""})
        if tag == "td" and self.rows and self.inside_row():
            self.cell = []
        if tag not in ("meta", "link", "br", "img", "input"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[-1]["cells"].append("".join(self.cell).strip())
            self.cell = None
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.rows and self.inside_row():
            self.rows[-1]["text"] += data
        if any(x.get("id") == "lost" for _, x in self.stack):
            self.lost += data

    def inside_row(self):
        return any(t in ("tr", "li") and any(k.startswith("data-") for k in x)
                   for t, x in self.stack)


def chromium(binary, url, extra, budget_ms):
    profile = tempfile.mkdtemp(prefix="sluice-chromium-")
    try:
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--user-data-dir=" + profile, "--hide-scrollbars",
               "--virtual-time-budget=%d" % budget_ms] + extra + [url]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode(
            "utf-8", "replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def browse(args, page, answer_fetches, extra):
    """One Chromium run against a fresh stand-in (its own fetch count): (rc, stdout, stderr)."""
    server = StandIn(page, answer_fetches)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = "http://127.0.0.1:%d/status" % server.server_address[1]
    try:
        # Virtual time: the page's 2 s refresh timers fire without waiting for real; 9 s of it
        # is five readings.
        return chromium(args.chromium, url, extra, 9000) + (server.fetches,)
    finally:
        server.shutdown()
        server.server_close()


def run_scene(args, page, answer_fetches, name):
    rc, dom, err, fetches = browse(args, page, answer_fetches, ["--dump-dom"])
    if rc != 0 or "<body" not in dom:
        raise RuntimeError("%s: chromium --dump-dom exited %d\n%s" % (name, rc, err[-2000:]))
    shot = os.path.join(args.out, "status_page_%s.png" % name)
    if os.path.exists(shot):
        os.unlink(shot)
    rc, _, err, _ = browse(args, page, answer_fetches,
                           ["--screenshot=" + shot, "--window-size=1400,1000"])
    if rc != 0 or not os.path.exists(shot):
        raise RuntimeError("%s: chromium --screenshot exited %d\n%s" % (name, rc, err[-2000:]))
    parsed = Dom()
    parsed.feed(dom)
    with open(os.path.join(args.out, "status_page_%s.html" % name), "w") as f:
        f.write(dom)
    return parsed, shot, fetches


def number(text):
    try:
        return float(text.replace("k", "e3").replace("M", "e6"))
    except ValueError:
        return None


def check_live(dom, failures):
    def expect(cond, what):
        if not cond:
            failures.append("live: " + what)

    expect(dom.body.get("data-connection") == "live",
           "body data-connection=%r, want 'live'" % dom.body.get("data-connection"))
    expect(int(dom.body.get("data-fetches", "0")) >= 3,
           "data-fetches=%r, want >= 3 readings" % dom.body.get("data-fetches"))
    servers = {(r["attrs"].get("data-pool"), r["attrs"].get("data-server")): r
               for r in dom.rows if r["table"] == "servers" and "data-server" in r["attrs"]}
    expect(set(servers) == set(EXPECTED_STATES),
           "server rows %s, want %s" % (sorted(servers), sorted(EXPECTED_STATES)))
    for key, state in EXPECTED_STATES.items():
        row = servers.get(key)
        if not row:
            continue
        expect(row["attrs"].get("data-state") == state,
               "%s/%s data-state=%r, want %r" % (key + (row["attrs"].get("data-state"), state)))
        expect(row["cells"] and row["cells"][0].split()[0].lower() == state,
               "%s/%s state cell %r, want it to begin with %r" % (key + (row["cells"][:1], state)))
        expect(row["cells"][1].rstrip("*") == key[1],
               "%s/%s name cell %r" % (key + (row["cells"][1],)))
    spare = servers.get(("app", "spare"))
    if spare:
        expect(spare["attrs"].get("data-backup") == "true" and "backup" in spare["cells"][0],
               "the backup server is not marked backup: %r" % spare["cells"][:1])
    app1 = servers.get(("app", "app1"))
    if app1:
        expect(app1["attrs"].get("data-backup") == "false", "app1 marked backup")
        req_rate = number(app1["cells"][5])
        expect(req_rate is not None and req_rate > 0,
               "app1 req/s %r, want a rate above 0 from successive readings" % app1["cells"][5])
    app2 = servers.get(("app", "app2"))
    if app2:
        expect(app2["cells"][3] == "2*", "app2 runtime weight cell %r, want '2*'" % app2["cells"][3])
    problems = {(r["attrs"].get("data-pool"), r["attrs"].get("data-server")): r["attrs"].get(
        "data-state") for r in dom.rows if r["table"] == "problems"}
    expect(problems == {k: v for k, v in EXPECTED_STATES.items() if v != "up"},
           "problems list %r" % problems)

    listeners = {r["attrs"]["data-listener"]: r for r in dom.rows if "data-listener" in r["attrs"]}
    expect(set(listeners) == {"web", "db"}, "listener rows %r" % sorted(listeners))
    if "web" in listeners:
        cells = listeners["web"]["cells"]
        rps = number(cells[5])
        # STEP + 1 requests per 2 s reading: ~20.5/s (virtual time makes it close to exact).
        expect(rps is not None and 10 <= rps <= 41, "web req/s %r, want about 20" % cells[5])
        expect(number(cells[7]) is not None and number(cells[7]) > 0,
               "web 5xx/s %r, want above 0" % cells[7])
    if "db" in listeners:
        expect(listeners["db"]["cells"][5] == "-", "tcp listener shows a request rate")
    pools = {r["attrs"]["data-pool"]: r for r in dom.rows
             if r["table"] == "pools" and "data-pool" in r["attrs"]}
    expect(set(pools) == {"app", "static"}, "pool rows %r" % sorted(pools))
    if "app" in pools:
        a = pools["app"]
        expect(a["attrs"].get("data-available") == "2" and a["attrs"].get("data-total") == "5",
               "app availability attrs %r" % a["attrs"])
        expect(a["cells"][7:10] == ["12 ms", "48 ms", "310 ms"],
               "app p50/p90/p99 %r" % a["cells"][7:10])
    if "static" in pools:
        expect(pools["static"]["cells"][7] == "-", "empty latency shown as %r"
               % pools["static"]["cells"][7])


def check_lost(dom, failures):
    def expect(cond, what):
        if not cond:
            failures.append("lost: " + what)

    expect(dom.body.get("data-connection") == "lost",
           "body data-connection=%r, want 'lost'" % dom.body.get("data-connection"))
    expect("Cannot reach sluice" in dom.lost and "stale" in dom.lost,
           "#lost banner says %r" % dom.lost)
    servers = [r for r in dom.rows if r["table"] == "servers" and "data-server" in r["attrs"]]
    expect(len(servers) == len(EXPECTED_STATES), "the last good rows are gone (%d)" % len(servers))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--html", default=os.path.join(ROOT, "src/admin/status_page.html"))
    parser.add_argument("--out", default=os.path.join(ROOT, "build/release/browser"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(args.html, "rb") as f:
        page = f.read()

    failures = []
    live, live_shot, live_fetches = run_scene(args, page, None, "live")
    check_live(live, failures)
    lost, lost_shot, _ = run_scene(args, page, 2, "lost")
    check_lost(lost, failures)

    print("status.json fetches by the page in the live scene: %d" % live_fetches)
    print("screenshots: %s %s" % (live_shot, lost_shot))
    for f in failures:
        print("FAIL " + f)
    print("%s: %d failure(s)" % ("FAILED" if failures else "ok", len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
