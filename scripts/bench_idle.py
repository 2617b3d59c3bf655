#!/usr/bin/python3
"""Idle keep-alive connection memory: sluice, HAProxy and nginx (stdlib only, /usr/bin/python3).

A private nginx (return 200 "ok") is the backend; sluice, HAProxy and nginx-as-proxy each run with
ONE worker in front of it on free 127.0.0.1 ports (as scripts/bench runs them). For each proxy and
each N: open N keep-alive client connections (in batches of 100) that each make one GET / and
read its response, then hold them. Measured: the RSS of the proxy's worker process (sluice: its
one process, threads included; HAProxy: its one process; nginx: the worker, not the master)
before the connections and once they are all held, as bytes per connection (read SETTLE_S after
the last response: sluice parks a keep-alive connection idle for its 1 s grace, and trims the
heap 0.1 s after a run of parkings, so the figure is that of parked connections); then 200 new
requests (each on a new connection) while the N are held: their p99 latency (on a loaded
machine the scheduler dominates it: the log line gives p50, max and the load average). The
connections are closed before the next proxy; every N starts fresh processes (memory freed by
an earlier N would hide this one's cost). Prints a markdown table with the sluice/HAProxy and
sluice/nginx ratios (and writes it to build/bench/idle.md). Asserts nothing.

N defaults to "5000 max": max is as many as this process's descriptor limit allows (hard limit
minus a margin for the proxies' upstream sockets and this script's own), the same N for all.

Usage: scripts/bench_idle.py [N ...]
Environment: SLUICE_BIN (build/release/src/sluice), BENCH_KEEP_TMP=1 keeps the temp dir,
BENCH_IDLE_ONLY=sluice,nginx measures only those.
"""
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLUICE_BIN = os.environ.get("SLUICE_BIN", os.path.join(ROOT, "build/release/src/sluice"))
BATCH = 100  # connections opened at once: their transient buffers count too
PROBES = 200
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h; not in Python's socket module
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
SETTLE_S = 2.5  # after the last connection's response: sluice's parking grace (1 s) and trim


def log(msg):
    print("bench_idle: " + msg, file=sys.stderr, flush=True)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def raise_nofile():
    """Soft descriptor limit up to the hard one (inherited by the proxies); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for %d" % pid)


def children(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(rest[1]) == pid:
                out.append(int(name))
    return out


def response_done(buf):
    """True once buf holds a whole response head plus its Content-Length body."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return len(buf) >= end + 4 + length


def one_request(port, timeout=5.0):
    """GET / on a new connection; returns seconds taken (connect included)."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(REQUEST)
        buf = b""
        while not response_done(buf):
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed before the response ended")
            buf += chunk
    return time.perf_counter() - t0


def open_idle(port, n, held):
    """Opens n connections, each sends one request and reads its response; appends to held."""
    sel = selectors.DefaultSelector()
    try:
        for start in range(0, n, BATCH):
            pending = {}
            for _ in range(min(BATCH, n - start)):
                s = socket.socket()
                # From 127.0.0.2: the held connections' ephemeral ports are not searched through
                # by every probe's connect() from 127.0.0.1 (that search, not the proxy, made new
                # connections slow with ~18,000 held).
                s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                s.bind(("127.0.0.2", 0))
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                pending[s.fileno()] = [s, False, b""]  # socket, request sent, response so far
                sel.register(s, selectors.EVENT_WRITE)
            deadline = time.time() + 30
            while pending:
                if time.time() > deadline:
                    raise RuntimeError("%d connections did not complete a request" % len(pending))
                for key, _ in sel.select(timeout=1):
                    entry = pending[key.fd]
                    s = entry[0]
                    if not entry[1]:
                        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            raise RuntimeError("connect failed: %s" % os.strerror(err))
                        s.send(REQUEST)
                        entry[1] = True
                        sel.modify(s, selectors.EVENT_READ)
                        continue
                    chunk = s.recv(65536)
                    if not chunk:
                        raise RuntimeError("proxy closed an idle connection")
                    entry[2] += chunk
                    if response_done(entry[2]):
                        sel.unregister(s)
                        del pending[key.fd]
                        held.append(s)
    finally:
        sel.close()


def p99(samples):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * 0.99))]


class Proc:
    def __init__(self, name, cmd, logfile, port):
        self.name, self.port = name, port
        self.log = open(logfile, "w")
        self.popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ok(self):
        for _ in range(100):
            if self.popen.poll() is not None:
                return False
            try:
                one_request(self.port, timeout=1)
                return True
            except OSError:
                time.sleep(0.1)
            except RuntimeError:
                time.sleep(0.1)
        return False

    def worker_pid(self):
        """The process whose RSS counts: nginx's worker, else the process itself."""
        if self.name == "nginx":
            kids = children(self.popen.pid)
            if kids:
                return kids[0]
        return self.popen.pid

    def stop(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()


NGINX_TEMP = """  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
"""


def nginx_conf(d, body, conns, nofile):
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(d, "tmp", sub), exist_ok=True)
    return ("daemon off;\nworker_processes 1;\nworker_rlimit_nofile %d;\nerror_log %s/error.log "
            "warn;\npid %s/nginx.pid;\nevents { worker_connections %d; }\nhttp {\n%s"
            "  access_log off;\n  keepalive_requests 10000000;\n  keepalive_timeout 300s;\n%s}\n"
            % (nofile, d, d, conns, NGINX_TEMP.format(d=os.path.join(d, "tmp")), body))


def start_all(tmp, nofile, max_conns):
    p_backend, p_sluice, p_haproxy, p_nginx = free_ports(4)
    procs = {}
    b = os.path.join(tmp, "backend")
    os.makedirs(b)
    with open(os.path.join(b, "nginx.conf"), "w") as f:
        f.write(nginx_conf(b, "  server {\n    listen 127.0.0.1:%d backlog=4096;\n    location / "
                           "{ default_type text/plain; return 200 \"ok\"; }\n  }\n" % p_backend,
                           8192, 16384).replace("daemon off;", "daemon off;\nmaster_process off;"))
    backend = Proc("backend", ["nginx", "-p", b, "-e", b + "/error.log", "-c", b + "/nginx.conf"],
                   b + "/stderr.log", p_backend)
    if not backend.wait_ok():
        raise RuntimeError("backend nginx did not start")
    procs["backend"] = backend

    s = os.path.join(tmp, "sluice")
    os.makedirs(s)
    with open(os.path.join(s, "sluice.toml"), "w") as f:
        f.write("""[global]
workers = 1
shutdown_timeout = "1s"
control_socket = "{s}/control.sock"
state_file = "{s}/state.json"

[log]
level = "warn"
error_log = "stderr"
access_log = "off"

[[listener]]
name = "bench"
bind = "127.0.0.1:{port}"
mode = "http"
pool = "backend"
forwarded_headers = false
request_id_header = ""
idle_timeout = "300s"

[[pool]]
name = "backend"
algorithm = "round_robin"
keepalive = 32

  [[pool.server]]
  name = "nginx"
  address = "127.0.0.1:{backend}"
""".format(s=s, port=p_sluice, backend=p_backend))
    if os.access(SLUICE_BIN, os.X_OK):
        procs["sluice"] = Proc("sluice", [SLUICE_BIN, "-c", s + "/sluice.toml"], s + "/stderr.log",
                               p_sluice)
    else:
        log("sluice not built (%s)" % SLUICE_BIN)

    h = os.path.join(tmp, "haproxy")
    os.makedirs(h)
    with open(os.path.join(h, "haproxy.cfg"), "w") as f:
        f.write("""global
  nbthread 1
  maxconn {maxconn}
  ulimit-n {nofile}
  no strict-limits  # maxconn counts both sides; idle clients hold no server connection

defaults
  mode http
  option http-keep-alive
  http-reuse always
  maxconn {maxconn}
  timeout connect 5s
  timeout client 300s
  timeout server 60s
  timeout http-keep-alive 300s

frontend bench
  bind 127.0.0.1:{port}
  default_backend backend

backend backend
  server nginx 127.0.0.1:{backend}
""".format(maxconn=max_conns + PROBES, nofile=nofile, port=p_haproxy, backend=p_backend))
    procs["haproxy"] = Proc("haproxy", ["haproxy", "-db", "-f", h + "/haproxy.cfg"],
                            h + "/stderr.log", p_haproxy)

    n = os.path.join(tmp, "nginx")
    os.makedirs(n)
    with open(os.path.join(n, "nginx.conf"), "w") as f:
        f.write(nginx_conf(n, """  upstream backend {
    server 127.0.0.1:%d;
    keepalive 32;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:%d backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
""" % (p_backend, p_nginx), nofile, nofile))
    procs["nginx"] = Proc("nginx", ["nginx", "-p", n, "-e", n + "/error.log", "-c",
                                    n + "/nginx.conf"], n + "/stderr.log", p_nginx)
    return procs


def measure(proc, n):
    """(bytes per connection, p99 ms of PROBES new requests, RSS after) with n held."""
    for _ in range(20):  # warm: the first requests set up pools and caches
        one_request(proc.port)
    time.sleep(0.5)
    pid = proc.worker_pid()
    before = rss_bytes(pid)
    held = []
    try:
        open_idle(proc.port, n, held)
        time.sleep(SETTLE_S)
        after = rss_bytes(pid)
        lat = [one_request(proc.port) for _ in range(PROBES)]
        log("%s N=%d: new requests p50 %.2f ms, max %.2f ms (machine load %s)"
            % (proc.name, n, sorted(lat)[len(lat) // 2] * 1000, max(lat) * 1000,
               open("/proc/loadavg").read().split()[0]))
    finally:
        for s in held:
            s.close()
    time.sleep(1.0)  # let the proxy see the closes before the next N
    return (after - before) / n, p99(lat) * 1000, after


def main():
    nofile = raise_nofile()
    # This process holds N sockets plus a few; each proxy holds N plus its upstream and probes.
    max_n = (nofile - 2000) // 1000 * 1000
    ns = [max_n if a == "max" else int(a) for a in (sys.argv[1:] or ["5000", "max"])]
    only = os.environ.get("BENCH_IDLE_ONLY", "sluice,haproxy,nginx").split(",")
    results = {}  # (name, n) -> (B/conn, p99 ms, rss)
    for n in ns:
        # Fresh processes for each N: memory freed by an earlier N would hide this one's cost.
        tmp = tempfile.mkdtemp(prefix="sluice-bench-idle.")
        procs = {}
        try:
            procs = start_all(tmp, nofile, n)
            names = [x for x in ("sluice", "haproxy", "nginx") if x in procs and x in only]
            for name in list(names):
                if not procs[name].wait_ok():
                    procs[name].log.flush()
                    with open(procs[name].log.name) as f:
                        log("%s did not start: %s" % (name, f.read()[-2000:]))
                    names.remove(name)
            for name in names:
                try:
                    results[(name, n)] = measure(procs[name], n)
                    r = results[(name, n)]
                    log("%s N=%d: %.0f B/conn, p99 %.2f ms, RSS %.1f MiB"
                        % (name, n, r[0], r[1], r[2] / 2**20))
                except (OSError, RuntimeError) as e:
                    log("%s N=%d failed: %s" % (name, n, e))
        finally:
            for p in reversed(list(procs.values())):
                p.stop()
            if os.environ.get("BENCH_KEEP_TMP") == "1":
                log("kept " + tmp)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    lines = ["## idle keep-alive connections (one request each, then held; one worker)", "",
             "| N | sluice B/conn | HAProxy B/conn | nginx B/conn | sluice/HAProxy | "
             "sluice/nginx | p99 new req ms (sluice / HAProxy / nginx) | sluice RSS MiB | "
             "sluice RSS at 1,000,000 (extrapolated) |",
             "|---|---|---|---|---|---|---|---|---|"]

    def cell(name, n, i, fmt):
        r = results.get((name, n))
        return fmt % r[i] if r else "-"

    def ratio(n, other):
        a, b = results.get(("sluice", n)), results.get((other, n))
        return "%.2f" % (a[0] / b[0]) if a and b and b[0] > 0 else "-"

    for n in ns:
        s = results.get(("sluice", n))
        extra = "%.0f MiB" % ((s[2] + s[0] * (1_000_000 - n)) / 2**20) if s else "-"
        lines.append("| %d | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s |" % (
            n, cell("sluice", n, 0, "%.0f"), cell("haproxy", n, 0, "%.0f"),
            cell("nginx", n, 0, "%.0f"), ratio(n, "haproxy"), ratio(n, "nginx"),
            cell("sluice", n, 1, "%.2f"), cell("haproxy", n, 1, "%.2f"),
            cell("nginx", n, 1, "%.2f"), "%.1f" % (s[2] / 2**20) if s else "-", extra))
    text = "\n".join(lines)
    os.makedirs(os.path.join(ROOT, "build/bench"), exist_ok=True)
    with open(os.path.join(ROOT, "build/bench/idle.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
