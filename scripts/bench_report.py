#!/usr/bin/python3
"""Helpers for scripts/bench (stdlib only, run with /usr/bin/python3).

  bench_report.py ports N             print N distinct free TCP ports on 127.0.0.1
  bench_report.py ticks PID           "UTIME STIME": clock ticks of PID and all its descendants
  bench_report.py machine             "BUSY TOTAL": clock ticks of all CPUs since boot (/proc/stat)
  bench_report.py wrk FILE            parse wrk --latency output: "REQUESTS RPS P99_MS ERRORS"
  bench_report.py stime FILE N        the same for N `openssl s_time -new` loops (FILE.0 ..
                                      FILE.N-1) that took "elapsed SECONDS" (FILE); P99 nan
  bench_report.py report TSV STATUS   print the markdown report (see scripts/bench)
"""
import os
import re
import socket
import statistics
import sys


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _stat(pid):
    """(ppid, (utime, stime)) from /proc/PID/stat, or None if the process is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return int(rest[1]), (int(rest[11]), int(rest[12]))


def ticks(root):
    """(user, system) CPU ticks of root and every descendant process (threads included)."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(name)
            if st is not None:
                procs[int(name)] = st
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    user, system, todo = 0, 0, [int(root)]
    while todo:
        pid = todo.pop()
        if pid in procs:
            user += procs[pid][1][0]
            system += procs[pid][1][1]
        todo.extend(children.get(pid, []))
    return user, system


def machine():
    """(busy, total) ticks over all CPUs: the first line of /proc/stat (idle and iowait are not
    busy; guest time is already counted in user)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    total = sum(fields[:8])
    return total - fields[3] - fields[4], total


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("bad latency %r" % text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(path):
    with open(path) as f:
        out = f.read()
    m = re.search(r"^\s*(\d+) requests in ", out, re.M)
    requests = int(m.group(1)) if m else 0
    m = re.search(r"^Requests/sec:\s*([0-9.]+)", out, re.M)
    rps = float(m.group(1)) if m else 0.0
    m = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    p99 = _to_ms(m.group(1)) if m else float("nan")
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    return requests, rps, p99, errors


def parse_stime(path, clients):
    """Sum of `clients` s_time runs: connections made, per second of the wall-clock time they
    took together. A loop without its summary line, or whose connections read no response,
    counts its connections (at least 1) as errors."""
    with open(path) as f:
        m = re.search(r"elapsed ([0-9.]+)", f.read())
    elapsed = float(m.group(1)) if m else 0.0
    connections, errors = 0, 0
    for i in range(clients):
        try:
            with open("%s.%d" % (path, i)) as f:
                out = f.read()
        except OSError:
            out = ""
        found = re.findall(r"^(\d+) connections in \d+ real seconds, (\d+) bytes read", out, re.M)
        if not found:
            errors += 1
            continue
        n, per_connection = int(found[-1][0]), int(found[-1][1])
        if per_connection == 0:
            errors += max(n, 1)
        else:
            connections += n
    rps = connections / elapsed if elapsed > 0 else 0.0
    return connections, rps, float("nan"), errors


# Kinds of load (scripts/bench rows NAME + suffix) and how the ratio table names them.
KINDS = (("", "keep-alive, small responses"),
         ("-close", "a new connection per request"),
         ("-64k", "64 KiB responses"),
         ("-tls", "TLS keep-alive"),
         ("-handshake", "full TLS handshake per request"))


def _fmt_ms(ms):
    if ms != ms:  # nan
        return "n/a"
    return "%.2f ms" % ms if ms < 100 else "%.0f ms" % ms


def report(tsv, status_arg):
    """tsv rows: proxy round requests rps p99_ms user_us sys_us machine_us busy_pct errors
    (user/sys: the proxy's CPU per request; machine: every CPU's busy time per request, wrk and
    the backend included; busy_pct: how busy the CPUs were during the run).
    status_arg: "name=status,name=status" in display order; status "ok" or a reason."""
    order, status = [], {}
    for item in status_arg.split(","):
        name, _, st = item.partition("=")
        order.append(name)
        status[name] = st
    rows = {}
    if os.path.exists(tsv):
        with open(tsv) as f:
            for line in f:
                p = line.split()
                if len(p) == 10:
                    rows.setdefault(p[0], []).append(
                        (int(p[2]), float(p[3]), float(p[4]), float(p[5]), float(p[6]),
                         float(p[7]), float(p[8]), int(p[9])))
    med = {}
    lines = ["| proxy | median req/s | median p99 | CPU µs/req | user | kernel | machine µs/req "
             "| errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in order:
        runs = rows.get(name, [])
        if not runs:
            reason = status.get(name) or "no runs"
            lines.append("| %s | %s | | | | | | |" % (name, reason if reason != "ok" else "no runs"))
            continue
        m = {
            "rps": statistics.median(r[1] for r in runs),
            "p99": statistics.median(r[2] for r in runs),
            "cpu": statistics.median(r[3] + r[4] for r in runs),
            "user": statistics.median(r[3] for r in runs),
            "sys": statistics.median(r[4] for r in runs),
            "machine": statistics.median(r[5] for r in runs),
            "busy": statistics.median(r[6] for r in runs),
        }
        errs = sum(r[7] for r in runs)
        med[name] = m
        lines.append("| %s | %.0f | %s | %.1f | %.1f | %.1f | %.1f | %d |" % (
            name, m["rps"], _fmt_ms(m["p99"]), m["cpu"], m["user"], m["sys"], m["machine"], errs))
    lines.append("")
    lines.append("| load | sluice/haproxy req/s | sluice/haproxy CPU/req | sluice/nginx req/s "
                 "| sluice/nginx CPU/req |")
    lines.append("|---|---:|---:|---:|---:|")

    def ratio(ours, theirs, key):
        if ours in med and theirs in med and med[theirs][key]:
            return "%.2f" % (med[ours][key] / med[theirs][key])
        return "n/a"

    for suffix, label in KINDS:
        ours = "sluice" + suffix
        if ours not in status:
            continue  # kind not run (BENCH_ROWS)
        if ours not in med:
            lines.append("| %s | n/a (sluice %s) | | | |" % (label, status.get(ours) or "no runs"))
            continue
        lines.append("| %s | %s | %s | %s | %s |" % (
            label, ratio(ours, "haproxy" + suffix, "rps"), ratio(ours, "haproxy" + suffix, "cpu"),
            ratio(ours, "nginx" + suffix, "rps"), ratio(ours, "nginx" + suffix, "cpu")))
    lines.append("")
    if "sluice-admin" in med and "sluice" in med and med["sluice"]["cpu"]:
        lines.append("admin endpoint scraped every 1 s: CPU/req %.2f of plain sluice's, req/s %.2f"
                     % (med["sluice-admin"]["cpu"] / med["sluice"]["cpu"],
                        med["sluice-admin"]["rps"] / med["sluice"]["rps"]))
    if "sluice-ratelimit" in med and "sluice" in med and med["sluice"]["cpu"]:
        lines.append("rate limit checked on every request: CPU/req %.2f of plain sluice's, "
                     "req/s %.2f" % (med["sluice-ratelimit"]["cpu"] / med["sluice"]["cpu"],
                                     med["sluice-ratelimit"]["rps"] / med["sluice"]["rps"]))
    if "sluice" in med and "haproxy" in med and med["haproxy"]["cpu"]:
        s, h = med["sluice"], med["haproxy"]
        # With every CPU busy, req/s = CPUs / (machine CPU per request). The proxy's share of that
        # is its CPU/req; the rest (wrk, backend) is what the proxy cannot change.
        rest = s["machine"] - s["cpu"]
        need = h["machine"] / 1.2 - rest
        if lines[-1]:
            lines.append("")
        lines.append("What bounds the plain ratios (medians):")
        lines.append("- CPUs busy during the runs: sluice %.0f%%, haproxy %.0f%%; per request the "
                     "whole machine spent %.1f µs (sluice runs) and %.1f µs (haproxy runs), the "
                     "proxy's own share %.1f and %.1f." % (s["busy"], h["busy"], s["machine"],
                                                           h["machine"], s["cpu"], h["cpu"]))
        lines.append("- kernel time per request: sluice %.1f µs, haproxy %.1f µs; sluice's kernel "
                     "time alone is %.2f of haproxy's whole CPU/req." % (
                         s["sys"], h["sys"], s["sys"] / h["cpu"]))
        lines.append("- 1.2x haproxy's req/s would need sluice at %.1f µs CPU/req (%.2f of "
                     "haproxy's), if the rest of the machine's cost per request stayed at "
                     "%.1f µs." % (need, need / h["cpu"], rest))
    return "\n".join(lines)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "ports":
        print(" ".join(str(p) for p in free_ports(int(argv[2]))))
    elif cmd == "ticks":
        print(*ticks(argv[2]))
    elif cmd == "machine":
        print(*machine())
    elif cmd in ("wrk", "stime"):
        if cmd == "wrk":
            requests, rps, p99, errors = parse_wrk(argv[2])
        else:
            requests, rps, p99, errors = parse_stime(argv[2], int(argv[3]))
        print(requests, "%.2f" % rps, "%.4f" % p99, errors)
    elif cmd == "report":
        print(report(argv[2], argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
