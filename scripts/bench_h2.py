#!/usr/bin/python3
"""HTTP/2 row of the bench: sluice, HAProxy and nginx terminating TLS + HTTP/2 (ALPN h2) in
front of the same plain HTTP/1.1 backend (a private nginx answering 200 "ok"), one worker each,
driven by h2load (Debian nghttp2-client) in interleaved rounds. Per proxy: requests/s and the
proxy's CPU time per request (utime + stime from /proc/PID/stat over the run). Prints a markdown
table with sluice/HAProxy and sluice/nginx ratios; asserts nothing.

Usage: scripts/bench_h2.py [SLUICE_BIN]   (default build/release/src/sluice)
Environment: BENCH_H2_CLIENTS (10), BENCH_H2_STREAMS (10: -m, streams per connection),
             BENCH_H2_DURATION (5, seconds per run), BENCH_ROUNDS (3).
"""

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLUICE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/src/sluice")
CLIENTS = int(os.environ.get("BENCH_H2_CLIENTS", "10"))
STREAMS = int(os.environ.get("BENCH_H2_STREAMS", "10"))
DURATION = int(os.environ.get("BENCH_H2_DURATION", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    """utime + stime of `pid` and its reaped children, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def wait_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def nginx_conf(tmp, name, body):
    d = os.path.join(tmp, name)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    temp = "".join("  %s_temp_path %s/%s;\n" % (k, d, k.split("_")[0])
                   for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    temp = temp.replace("/client;", "/body;")
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write("daemon off;\nmaster_process off;\nworker_processes 1;\n"
                "error_log %s/error.log warn;\npid %s/nginx.pid;\n"
                "events { worker_connections 8192; }\nhttp {\n%s  access_log off;\n"
                "  keepalive_requests 10000000;\n  keepalive_timeout 120s;\n%s}\n"
                % (d, d, temp, body))
    return ["nginx", "-p", d, "-e", os.path.join(d, "error.log"), "-c", path]


def h2load(port):
    """One timed h2load run; returns (requests done, failed)."""
    p = subprocess.run(["h2load", "-c", str(CLIENTS), "-m", str(STREAMS), "-D", str(DURATION),
                        "--warm-up-time=1", "https://127.0.0.1:%d/" % port],
                       capture_output=True, text=True, timeout=DURATION + 60)
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed", p.stdout)
    if not m:
        return 0, -1
    return int(m.group(3)), int(m.group(5))


def main():
    for tool in ("h2load", "nginx", "haproxy", "openssl"):
        if shutil.which(tool) is None:
            print("bench_h2: %s not found: run scripts/setup" % tool, file=sys.stderr)
            return 1
    tmp = tempfile.mkdtemp(prefix="sluice-bench-h2.")
    procs = {}
    try:
        key, cert = os.path.join(tmp, "tls.key"), os.path.join(tmp, "tls.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=bench",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        both = os.path.join(tmp, "tls-haproxy.pem")
        with open(both, "w") as f:
            f.write(open(cert).read() + open(key).read())
        ports = {n: free_port() for n in ("backend", "sluice", "haproxy", "nginx")}

        def start(name, args, port):
            log = open(os.path.join(tmp, name + ".log"), "wb")
            procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
            return wait_port(port, procs[name])

        start("backend", nginx_conf(tmp, "backend",
                                    "  server {\n    listen 127.0.0.1:%d;\n    location / { "
                                    "default_type text/plain; return 200 \"ok\"; }\n  }\n"
                                    % ports["backend"]), ports["backend"])
        status = {}
        sluice_toml = os.path.join(tmp, "sluice.toml")
        with open(sluice_toml, "w") as f:
            f.write('[global]\nworkers = 1\ncontrol_socket = "%s/control.sock"\n'
                    'state_file = "%s/state.json"\n[log]\nlevel = "warn"\naccess_log = "off"\n'
                    '[[listener]]\nname = "h2"\nbind = "127.0.0.1:%d"\npool = "backend"\n'
                    'forwarded_headers = false\nrequest_id_header = ""\n'
                    'http2_max_concurrent_streams = 128\n'
                    '  [listener.tls]\n  certificates = [ { cert = "%s", key = "%s" } ]\n'
                    '[[pool]]\nname = "backend"\nkeepalive = 128\n'
                    '  [[pool.server]]\n  name = "nginx"\n  address = "127.0.0.1:%d"\n'
                    % (tmp, tmp, ports["sluice"], cert, key, ports["backend"]))
        if not os.access(SLUICE, os.X_OK):
            status["sluice"] = "not built"
        elif not start("sluice", [SLUICE, "-c", sluice_toml], ports["sluice"]):
            status["sluice"] = "failed to start"
        haproxy_cfg = os.path.join(tmp, "haproxy.cfg")
        with open(haproxy_cfg, "w") as f:
            f.write("global\n  nbthread 1\n  maxconn 4096\ndefaults\n  mode http\n"
                    "  option http-keep-alive\n  http-reuse always\n  timeout connect 5s\n"
                    "  timeout client 60s\n  timeout server 60s\nfrontend h2\n"
                    "  bind 127.0.0.1:%d ssl crt %s alpn h2,http/1.1\n"
                    "  default_backend backend\nbackend backend\n  server nginx 127.0.0.1:%d\n"
                    % (ports["haproxy"], both, ports["backend"]))
        if not start("haproxy", ["haproxy", "-db", "-f", haproxy_cfg], ports["haproxy"]):
            status["haproxy"] = "failed to start"
        nginx_proxy = ("  upstream backend {\n    server 127.0.0.1:%d;\n    keepalive 128;\n"
                       "    keepalive_requests 10000000;\n  }\n  server {\n"
                       "    listen 127.0.0.1:%d ssl http2;\n    ssl_certificate %s;\n"
                       "    ssl_certificate_key %s;\n    http2_max_concurrent_streams 128;\n"
                       "    location / {\n      proxy_pass http://backend;\n"
                       "      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n"
                       "    }\n  }\n" % (ports["backend"], ports["nginx"], cert, key))
        if not start("nginx", nginx_conf(tmp, "nginx", nginx_proxy), ports["nginx"]):
            status["nginx"] = "failed to start"

        names = [n for n in ("sluice", "haproxy", "nginx") if n not in status]
        runs = {n: [] for n in names}
        for n in names:  # warm-up: connections, caches
            subprocess.run(["h2load", "-c", str(CLIENTS), "-m", str(STREAMS), "-n", "2000",
                            "https://127.0.0.1:%d/" % ports[n]], capture_output=True, timeout=60)
        for _ in range(ROUNDS):
            for n in names:
                pid = procs[n].pid
                t0, c0 = time.monotonic(), cpu_ticks(pid)
                done, failed = h2load(ports[n])
                c1, t1 = cpu_ticks(pid), time.monotonic()
                # h2load -D counts the measured window only (after its warm-up second); CPU is
                # over the whole run, so per-request CPU slightly overstates every proxy alike.
                runs[n].append((done / DURATION, (c1 - c0) / TICK * 1e6 / max(done, 1), failed,
                                t1 - t0))
        print("| proxy (TLS 1.3, h2, %d conns x %d streams) | median req/s | CPU µs/req | failed |"
              % (CLIENTS, STREAMS))
        print("|---|---:|---:|---:|")
        med = {}
        for n in ("sluice", "haproxy", "nginx"):
            if n in status:
                print("| %s | %s | | |" % (n, status[n]))
                continue
            rps = statistics.median(r[0] for r in runs[n])
            cpu = statistics.median(r[1] for r in runs[n])
            med[n] = (rps, cpu)
            print("| %s | %.0f | %.1f | %d |" % (n, rps, cpu, sum(r[2] for r in runs[n])))
        for other in ("haproxy", "nginx"):
            if "sluice" in med and other in med:
                print("\nh2: sluice/%s req/s ratio: %.2f, CPU/req ratio: %.2f"
                      % (other, med["sluice"][0] / med[other][0], med["sluice"][1] / med[other][1]))
        return 0
    finally:
        # Each one on its own: one that already exited (sluice failing to start) must not leave
        # the others running.
        for p in procs.values():
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(5)
            except ProcessLookupError:
                pass  # its group is gone already
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
