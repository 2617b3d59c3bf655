#!/usr/bin/python3
"""Helpers for scripts/bench (stdlib only, run with /usr/bin/python3).

  bench_report.py ports N             print N distinct free TCP ports on 127.0.0.1
  bench_report.py ticks PID           utime+stime clock ticks of PID and all its descendants
  bench_report.py wrk FILE            parse wrk --latency output: "REQUESTS RPS P99_MS ERRORS"
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
    """(ppid, utime+stime) from /proc/PID/stat, or None if the process is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return int(rest[1]), int(rest[11]) + int(rest[12])


def ticks(root):
    """CPU ticks of root and every descendant process (threads are included in each)."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(name)
            if st is not None:
                procs[int(name)] = st
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [int(root)]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][1]
        todo.extend(children.get(pid, []))
    return total


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


def _fmt_ms(ms):
    if ms != ms:  # nan
        return "n/a"
    return "%.2f ms" % ms if ms < 100 else "%.0f ms" % ms


def report(tsv, status_arg):
    """tsv rows: proxy round requests rps p99_ms cpu_us_per_req errors.
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
                if len(p) == 7:
                    rows.setdefault(p[0], []).append(
                        (int(p[2]), float(p[3]), float(p[4]), float(p[5]), int(p[6])))
    med = {}
    lines = ["| proxy | median req/s | median p99 | CPU µs/req | errors |",
             "|---|---:|---:|---:|---:|"]
    for name in order:
        runs = rows.get(name, [])
        if not runs:
            reason = status.get(name) or "no runs"
            lines.append("| %s | %s | | | |" % (name, reason if reason != "ok" else "no runs"))
            continue
        rps = statistics.median(r[1] for r in runs)
        p99 = statistics.median(r[2] for r in runs)
        cpu = statistics.median(r[3] for r in runs)
        errs = sum(r[4] for r in runs)
        med[name] = (rps, p99, cpu)
        lines.append("| %s | %.0f | %s | %.1f | %d |" % (name, rps, _fmt_ms(p99), cpu, errs))
    lines.append("")
    if "sluice" in med and "haproxy" in med and med["haproxy"][0] and med["haproxy"][2]:
        lines.append("sluice/haproxy req/s ratio: %.2f" % (med["sluice"][0] / med["haproxy"][0]))
        lines.append("sluice/haproxy CPU/req ratio: %.2f" % (med["sluice"][2] / med["haproxy"][2]))
    else:
        lines.append("sluice/haproxy req/s ratio: n/a (sluice %s)" % status.get("sluice", "?"))
        lines.append("sluice/haproxy CPU/req ratio: n/a")
    if "sluice-tls" in med and "haproxy-tls" in med and med["haproxy-tls"][0] and \
            med["haproxy-tls"][2]:
        lines.append("TLS: sluice/haproxy req/s ratio: %.2f"
                     % (med["sluice-tls"][0] / med["haproxy-tls"][0]))
        lines.append("TLS: sluice/haproxy CPU/req ratio: %.2f"
                     % (med["sluice-tls"][2] / med["haproxy-tls"][2]))
    return "\n".join(lines)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "ports":
        print(" ".join(str(p) for p in free_ports(int(argv[2]))))
    elif cmd == "ticks":
        print(ticks(argv[2]))
    elif cmd == "wrk":
        requests, rps, p99, errors = parse_wrk(argv[2])
        print(requests, "%.2f" % rps, "%.4f" % p99, errors)
    elif cmd == "report":
        print(report(argv[2], argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
