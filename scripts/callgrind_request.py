#!/usr/bin/python3
"""Instructions per keep-alive HTTP/1.1 request through sluice, measured with callgrind.

Usage:
  scripts/callgrind_request.py [--repeat 2] [--small 500] [--large 2500] [--access-log]
                               [--annotate 25] [--keep DIR] SLUICE_BIN [SLUICE_BIN ...]

For each binary (and each repeat) the script starts a trivial keep-alive backend (a Python
socket server answering every request with a fixed small 200 and Content-Length), writes a
sluice config with ONE worker proxying one HTTP listener to it (access log off unless
--access-log), runs sluice under
  valgrind --tool=callgrind --dump-instr=no --collect-atstart=yes
sends N requests one after another on one client connection, stops sluice with SIGTERM and reads
the total Ir (all threads). It does that for N = --small and N = --large and prints
  (Ir(large) - Ir(small)) / (large - small)  = instructions per request,
so start-up, shutdown and the first upstream connect cancel out. Ports are chosen at run time.
--annotate K prints the K functions whose self cost grew most between the two runs of the last
repeat, divided by (large - small): where a request's instructions go. Several binaries are
measured in the same invocation so that figures compare (e.g. a base build and a new build).
Debian's /usr/bin/python3 and valgrind; nothing else.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n"
REQUEST = b"GET /bench HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: callgrind\r\nAccept: */*\r\n\r\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """Keep-alive backend: one thread per connection, one fixed reply per request head."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _serve(conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:  # requests carry no body
                    buf = buf.split(b"\r\n\r\n", 1)[1]
                    conn.sendall(REPLY)

    def close(self):
        self.sock.close()


def config_text(workdir, listen_port, backend_port, access_log):
    return f'''[global]
workers = 1
shutdown_timeout = "5s"
control_socket = "{workdir}/control.sock"
state_file = "{workdir}/state.json"

[log]
level = "warn"
error_log = "{workdir}/error.log"
access_log = "{workdir + '/access.log' if access_log else 'off'}"

[[listener]]
name = "web"
bind = "127.0.0.1:{listen_port}"
mode = "http"
pool = "app"

[[pool]]
name = "app"
keepalive = 4

[[pool.server]]
name = "app1"
address = "127.0.0.1:{backend_port}"
'''


def read_response(sock, buf):
    """Reads one response to REPLY's shape; returns the bytes after it."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1")
            match = re.search(r"(?im)^content-length:\s*(\d+)", head)
            if not head.startswith("HTTP/1.1 200") or not match:
                raise RuntimeError("unexpected response head: %r" % head)
            total = end + 4 + int(match.group(1))
            if len(buf) >= total:
                return buf[total:]
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("sluice closed the client connection")
        buf += data


def measure(binary, requests, access_log, keep_file=None):
    """Total Ir of one sluice run that served `requests` keep-alive requests."""
    workdir = tempfile.mkdtemp(prefix="cg-request-")
    backend = Backend()
    proc = None
    try:
        listen_port = free_port()
        conf = os.path.join(workdir, "sluice.toml")
        with open(conf, "w") as f:
            f.write(config_text(workdir, listen_port, backend.port, access_log))
        out = os.path.join(workdir, "callgrind.out")
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--dump-instr=no", "--collect-atstart=yes",
             "--callgrind-out-file=" + out, binary, "-c", conf],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "valgrind.log"), "wb"))
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError("sluice exited early; see " + workdir)
            try:
                client = socket.create_connection(("127.0.0.1", listen_port), timeout=0.5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("sluice is not listening; see " + workdir)
                time.sleep(0.1)
        with client:
            client.settimeout(60)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = b""
            for _ in range(requests):
                client.sendall(REQUEST)
                buf = read_response(client, buf)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        proc = None
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
        if keep_file:
            shutil.copyfile(out, keep_file)
        return total
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        backend.close()
        shutil.rmtree(workdir, ignore_errors=True)


def self_costs(path):
    """{function: self Ir} from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no",
                           "--show-percs=no", path], capture_output=True, text=True,
                          check=True).stdout
    costs = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if match and ":" in match.group(2):
            costs[match.group(2)] = costs.get(match.group(2), 0) + int(match.group(1).replace(",", ""))
    return costs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binaries", nargs="+", metavar="SLUICE_BIN")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=2500)
    parser.add_argument("--access-log", action="store_true", help="write an access log file")
    parser.add_argument("--annotate", type=int, default=0, metavar="K")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind outputs here")
    args = parser.parse_args()
    keep = args.keep or (tempfile.mkdtemp(prefix="cg-keep-") if args.annotate else None)
    if keep:
        os.makedirs(keep, exist_ok=True)
    span = args.large - args.small
    for index, binary in enumerate(args.binaries):
        figures = []
        for run in range(args.repeat):
            files = [None, None]
            if keep:
                files = [os.path.join(keep, "b%d.r%d.n%d.out" % (index, run, n))
                         for n in (args.small, args.large)]
            small = measure(binary, args.small, args.access_log, files[0])
            large = measure(binary, args.large, args.access_log, files[1])
            figures.append((large - small) / span)
        print("%s: %s instructions/request" % (binary, "  ".join("%.0f" % f for f in figures)),
              flush=True)
        if args.annotate:
            before, after = self_costs(files[0]), self_costs(files[1])
            delta = {fn: after.get(fn, 0) - before.get(fn, 0) for fn in set(before) | set(after)}
            for fn, cost in sorted(delta.items(), key=lambda kv: -kv[1])[:args.annotate]:
                print("  %8.1f  %s" % (cost / span, fn))
    if keep:
        print("callgrind outputs kept in " + keep)


if __name__ == "__main__":
    sys.exit(main())
