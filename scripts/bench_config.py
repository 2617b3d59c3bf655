#!/usr/bin/python3
"""Config scale bench: what loading a config of 1,000 / 10,000 / 20,000 servers costs sluice,
beside `haproxy -c` on the equivalent haproxy.cfg. Asserts nothing; prints a markdown table.

  scripts/bench_config.py                      the default sizes, median of 3 runs each
  scripts/bench_config.py --sizes 2000 --runs 1
  scripts/bench_config.py --sluice OLD/sluice --sluicectl OLD/sluicectl   (a "before" binary)
  scripts/bench_config.py --keep DIR           write the generated configs to DIR and keep them

Each size is N servers in 10 pools, `127.x.y.z:port` literals nobody listens on (no DNS, no
health checks, so nothing but the config is measured). Rows, each the median of --runs:
  sluice -t         `sluice -t -c FILE`: wall time, and the CPU time (user + system) it used
  sluice reload     a running sluice (started on a 10-server config) whose file is replaced by
                    the N-server one, then `sluicectl reload`: wall time until the reply, and the
                    CPU the sluice process used meanwhile. Before each run the small file is
                    reloaded again, so every timed reload adds N servers. "ctl stall" is the
                    longest a `status` sent every 20 ms during that reload waited for its reply
                    (the control socket is served by the main thread).
  haproxy -c        `haproxy -c -f FILE` on the same pools and servers: wall and CPU time
Ratios are sluice / haproxy -c. The machine's other load makes wall times noisy; CPU times less.
Called by scripts/bench (BENCH_CONFIG=0 skips it). Runtime: about 30-60 s.
"""

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POOLS = 10
CLK_TCK = os.sysconf("SC_CLK_TCK")


def server_address(n):
    return "127.%d.%d.%d" % ((n >> 16) & 255, (n >> 8) & 255, 1 + (n & 127)), 20000 + n % 40000


def pool_servers(servers):
    """[(pool index, [server number, ...]), ...]: servers split evenly over POOLS pools."""
    per = servers // POOLS
    out = []
    for p in range(POOLS):
        count = per + (1 if p < servers % POOLS else 0)
        start = sum(len(s) for _, s in out)
        out.append((p, list(range(start, start + count))))
    return out


def sluice_toml(servers, workdir, port):
    out = ['[global]\nworkers = 1\ncontrol_socket = "%s/control.sock"\n'
           'state_file = "%s/state.json"\n' % (workdir, workdir),
           '[log]\nlevel = "warn"\naccess_log = "off"\n',
           '[[listener]]\nname = "web"\nbind = "127.0.0.1:%d"\npool = "pool0"\n' % port]
    for p, numbers in pool_servers(servers):
        out.append('[[pool]]\nname = "pool%d"\nalgorithm = "least_conn"\n' % p)
        for n in numbers:
            host, sport = server_address(n)
            out.append('  [[pool.server]]\n  name = "s%d"\n  address = "%s:%d"\n  weight = %d\n'
                       % (n, host, sport, 1 + n % 10))
    return "\n".join(out)


def haproxy_cfg(servers, port):
    out = ["global\n  maxconn 1000\n",
           "defaults\n  mode http\n  timeout connect 3s\n  timeout client 60s\n"
           "  timeout server 60s\n",
           "frontend web\n  bind 127.0.0.1:%d\n  default_backend pool0\n" % port]
    for p, numbers in pool_servers(servers):
        lines = ["backend pool%d\n  balance leastconn\n" % p]
        for n in numbers:
            host, sport = server_address(n)
            lines.append("  server s%d %s:%d weight %d\n" % (n, host, sport, 1 + n % 10))
        out.append("".join(lines))
    return "\n".join(out)


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_run(cmd):
    """(wall s, CPU s of the child) of one run; raises when cmd fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), proc.stdout.decode()[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def proc_cpu(pid):
    """CPU seconds (user + system, all threads) a running process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class RunningSluice:
    def __init__(self, sluice, sluicectl, workdir, config_path):
        self.socket_path = os.path.join(workdir, "control.sock")
        self.ctl = [sluicectl, "-s", self.socket_path]
        self.log = open(os.path.join(workdir, "sluice.log"), "wb")
        self.proc = subprocess.Popen([sluice, "-c", config_path], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        try:
            while self.command("status")[0] != 0:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("sluice did not start; see %s" % self.log.name)
                time.sleep(0.05)
        except BaseException:  # also a missing sluicectl: never leave this sluice running
            self.stop()
            raise

    def command(self, *words):
        proc = subprocess.run(self.ctl + list(words), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        return proc.returncode, proc.stdout.decode()

    def reload(self):
        rc, out = self.command("reload")
        if rc != 0 or not out.startswith("ok"):
            raise RuntimeError("reload failed:\n" + out[-2000:])

    def timed_reload(self):
        """(wall s, CPU s of sluice, longest status reply s while the reload ran)."""
        stalls = []
        done = threading.Event()

        def poll_status():
            # A raw socket, not sluicectl: starting a process every 20 ms would load the CPUs
            # the reload runs on.
            while not done.is_set():
                start = time.monotonic()
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.socket_path)
                    s.sendall(b"status\n")
                    while s.recv(4096):
                        pass
                stalls.append(time.monotonic() - start)
                done.wait(0.02)

        cpu0 = proc_cpu(self.proc.pid)
        poller = threading.Thread(target=poll_status)
        start = time.monotonic()
        poller.start()
        self.reload()
        wall = time.monotonic() - start
        done.set()
        poller.join()
        return wall, proc_cpu(self.proc.pid) - cpu0, max(stalls) if stalls else 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def median(values):
    return statistics.median(values)


def fmt_s(seconds):
    return "%.3f s" % seconds


def ratio(a, b):
    return "%.1fx" % (a / b) if b > 0 else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,20000", help="server counts, comma-separated")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--sluice", default=os.path.join(ROOT, "build/release/src/sluice"))
    ap.add_argument("--sluicectl", default=os.path.join(ROOT, "build/release/src/sluicectl"))
    ap.add_argument("--haproxy", default=shutil.which("haproxy") or "haproxy")
    ap.add_argument("--keep", default="", help="directory to write the configs to and keep")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    workdir = args.keep or tempfile.mkdtemp(prefix="sluice-bench-config.")
    os.makedirs(workdir, exist_ok=True)
    port = free_port()
    live_path = os.path.join(workdir, "live.toml")
    small = sluice_toml(POOLS, workdir, port)
    write_atomic(live_path, small)
    running = RunningSluice(args.sluice, args.sluicectl, workdir, live_path)
    rows = []
    try:
        for servers in sizes:
            toml_path = os.path.join(workdir, "sluice-%d.toml" % servers)
            cfg_path = os.path.join(workdir, "haproxy-%d.cfg" % servers)
            big = sluice_toml(servers, workdir, port)
            with open(toml_path, "w") as f:
                f.write(big)
            with open(cfg_path, "w") as f:
                f.write(haproxy_cfg(servers, port))
            check, reload, haproxy = [], [], []
            for _ in range(args.runs):
                check.append(timed_run([args.sluice, "-t", "-c", toml_path]))
                haproxy.append(timed_run([args.haproxy, "-c", "-q", "-f", cfg_path]))
                write_atomic(live_path, small)
                running.reload()
                write_atomic(live_path, big)
                reload.append(running.timed_reload())
            rows.append((servers, check, reload, haproxy, os.path.getsize(toml_path)))
            print("bench_config: %d servers done" % servers, file=sys.stderr)
    finally:
        running.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    version = subprocess.run([args.sluice, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT).stdout.decode().splitlines()[:1]
    print("## Config scale (%s; %d pools; median of %d; load average %s)"
          % (version[0] if version else "sluice", POOLS, args.runs,
             " ".join(open("/proc/loadavg").read().split()[:3])))
    print()
    print("| servers | file | sluice -t wall / CPU | reload wall / CPU | ctl stall in reload "
          "| haproxy -c wall / CPU | -t / haproxy (wall, CPU) | reload / haproxy (wall, CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    for servers, check, reload, haproxy, size in rows:
        t_wall, t_cpu = median([c[0] for c in check]), median([c[1] for c in check])
        r_wall, r_cpu = median([r[0] for r in reload]), median([r[1] for r in reload])
        stall = median([r[2] for r in reload])
        h_wall, h_cpu = median([h[0] for h in haproxy]), median([h[1] for h in haproxy])
        print("| {:,} | {:,} KiB | {} / {} | {} / {} | {} | {} / {} | {}, {} | {}, {} |".format(
            servers, size // 1024, fmt_s(t_wall), fmt_s(t_cpu), fmt_s(r_wall), fmt_s(r_cpu),
            fmt_s(stall), fmt_s(h_wall), fmt_s(h_cpu), ratio(t_wall, h_wall), ratio(t_cpu, h_cpu),
            ratio(r_wall, h_wall), ratio(r_cpu, h_cpu)))


if __name__ == "__main__":
    main()
