"""Zero-downtime binary upgrade (control.md "Zero-downtime binary upgrade"): `sluicectl upgrade`
and SIGUSR2 under load, one of them after the binary file was replaced on disk, and a failed
upgrade (broken config) that leaves the old process serving."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import json
import unittest

from harness import (SLUICE_BIN, EchoServer, RawServer, SluiceTestCase, free_port, http_request, pool_toml,
                     read_response, sha256, sluice_config)

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")


def process_state(pid):
    """'R', 'S', ... from /proc/PID/stat; None when gone. 'Z': exited, not reaped (a reparented
    process whose new parent does not reap)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def running(pid):
    return process_state(pid) not in (None, "Z", "X")


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.05)
    return False


class Load:
    """Clients that run until stop(): keep-alive GETs, one request per new connection, POSTs with
    a body checked end to end, slow requests. Every outcome is counted."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "failures": 0, "refused": 0, "keepalive_retries": 0}
        self.errors = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=fn, daemon=True) for fn in
                        [self.keepalive, self.keepalive, self.new_connections,
                         self.new_connections, self.posts, self.slow]]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(30)

    def count(self, key, error=None):
        with self.lock:
            self.counts[key] += 1
            if error is not None and len(self.errors) < 20:
                self.errors.append(error)

    def checked(self, fn):
        try:
            ok, why = fn()
        except ConnectionRefusedError as e:
            self.count("refused", "refused: %r" % e)
            return
        except Exception as e:  # noqa: BLE001 - every failure counts
            self.count("failures", "%s: %r" % (fn.__name__, e))
            return
        self.count("requests" if ok else "failures", None if ok else why)

    def new_connections(self):
        def get():
            status, _, body = http_request(self.port, path="/")
            return status == 200, "GET / -> %s %r" % (status, body[:80])
        while not self.stopping.is_set():
            self.checked(get)

    def posts(self):
        body = os.urandom(64 * 1024)
        digest = sha256(body)

        def post():
            status, _, reply = http_request(self.port, "POST", "/echo", body=body)
            return status == 200 and digest.encode() in reply, "POST -> %s" % status
        while not self.stopping.is_set():
            self.checked(post)

    def slow(self):
        def get():
            status, _, _ = http_request(self.port, path="/slow?ms=300")
            return status == 200, "slow -> %s" % status
        while not self.stopping.is_set():
            self.checked(get)

    def keepalive(self):
        sock = None
        request = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % self.port).encode()
        while not self.stopping.is_set():
            fresh = sock is None
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                sock.sendall(request)
                # A reused connection closed by the server while idle, before any byte of a
                # response: the request was not processed; HTTP clients retry it (RFC 9110
                # 9.2.2). Counted apart; on a fresh connection the same is a failure.
                first = sock.recv(1, socket.MSG_PEEK)
                if not first:
                    raise ConnectionResetError("closed before a response")
            except ConnectionRefusedError as e:
                self.count("refused", "keep-alive connect: %r" % e)
                sock = None
                continue
            except OSError as e:
                if sock is not None:
                    sock.close()
                sock = None
                self.count("failures" if fresh else "keepalive_retries",
                           "keep-alive%s: %r" % (" (fresh)" if fresh else "", e))
                continue
            try:
                status, headers, body, _ = read_response(sock, 10)
            except Exception as e:  # noqa: BLE001
                self.count("failures", "keep-alive response: %r" % e)
                sock.close()
                sock = None
                continue
            self.count("requests" if status == 200 else "failures",
                       None if status == 200 else "keep-alive -> %s" % status)
            if headers.get("connection", "").lower() == "close":
                sock.close()
                sock = None
        if sock is not None:
            sock.close()


class UpgradeTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")
        self.pids = []  # every sluice process of this test; all must be gone at the end

        def kill_all():
            for pid in self.pids:
                if running(pid):
                    os.kill(pid, signal.SIGKILL)
        self.add_cleanup(kill_all)

    def ctl(self, *args):
        return subprocess.run([SLUICECTL, "-s", self.control, *args], capture_output=True,
                              text=True, timeout=120)

    def status_pid(self):
        out = self.ctl("status")
        for line in out.stdout.splitlines():
            if line.startswith("pid "):
                return int(line.split()[1])
        return None

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def start(self, config_text):
        """sluice from a copy of the binary in the work dir (so the test can replace it)."""
        bindir = os.path.join(self.workdir, "bin")
        os.mkdir(bindir)
        self.exe = os.path.join(bindir, "sluice")
        shutil.copy2(SLUICE_BIN, self.exe)
        self.config_path = os.path.join(self.workdir, "sluice.toml")
        self.control = os.path.join(self.workdir, "control.sock")
        self.write_config(config_text)
        self.log_path = os.path.join(self.workdir, "sluice.log")
        log = open(self.log_path, "wb")
        self.add_cleanup(log.close)
        proc = subprocess.Popen([self.exe, "-c", self.config_path], stdout=log,
                                stderr=subprocess.STDOUT)
        self.pids.append(proc.pid)
        return proc

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def test_upgrades_under_load_fail_and_refuse_nothing(self):
        backends = self.start_backends(2)
        echo = EchoServer()
        self.add_cleanup(echo.close)
        port, tcp_port = free_port(), free_port()
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port,
             'name = "l4"\nmode = "tcp"\nbind = "127.0.0.1:%d"\npool = "echo"' % tcp_port],
            [pool_toml("app", [b.port for b in backends]), pool_toml("echo", [echo.port])],
            access_log="off").replace('shutdown_timeout = "10s"', 'shutdown_timeout = "60s"')
        first = self.start(config)
        deadline = time.monotonic() + 15
        while self.status_pid() != first.pid:
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.05)

        # A long TCP session through the first process: it must outlive three upgrades.
        session = socket.create_connection(("127.0.0.1", tcp_port), timeout=10)
        session_lines = {"ok": 0, "bad": 0}
        session_stop = threading.Event()

        def talk():
            n = 0
            while not session_stop.is_set():
                line = b"line %d\n" % n
                try:
                    session.sendall(line)
                    got = b""
                    while len(got) < len(line):
                        chunk = session.recv(len(line) - len(got))
                        if not chunk:
                            raise ConnectionResetError("TCP session closed")
                        got += chunk
                    session_lines["ok" if got == line else "bad"] += 1
                except OSError:
                    session_lines["bad"] += 1
                    return
                n += 1
                time.sleep(0.05)
        talker = threading.Thread(target=talk, daemon=True)
        talker.start()

        load = Load(port)
        load.start()
        time.sleep(1.0)
        timings = []
        current = first.pid

        def upgrade_by_command():
            started = time.monotonic()
            out = self.ctl("upgrade")
            timings.append(time.monotonic() - started)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr + self.log())
            self.assertRegex(out.stdout, r"^ok: upgraded, pid %d -> \d+ \(version " % current)
            new = int(out.stdout.split("-> ")[1].split()[0])
            self.pids.append(new)
            return new

        # 1: `sluicectl upgrade`.
        previous, current = current, upgrade_by_command()
        self.assertTrue(running(current))
        self.assertEqual(self.status_pid(), current)
        time.sleep(1.0)

        # 2: after replacing the binary file on disk (as a package upgrade does): the new
        # process runs the new file.
        replacement = self.exe + ".new"
        shutil.copy2(SLUICE_BIN, replacement)
        os.rename(replacement, self.exe)
        previous, current = current, upgrade_by_command()
        self.assertEqual(os.readlink("/proc/%d/exe" % current), self.exe)
        self.assertEqual(os.stat("/proc/%d/exe" % current).st_ino, os.stat(self.exe).st_ino)
        self.assertTrue(wait_gone(previous, 15), "the previous process did not exit")
        time.sleep(1.0)

        # 3: SIGUSR2.
        started = time.monotonic()
        os.kill(current, signal.SIGUSR2)
        deadline = time.monotonic() + 30
        while True:
            pid = self.status_pid()
            if pid is not None and pid != current:
                break
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.02)
        timings.append(time.monotonic() - started)
        self.pids.append(pid)
        previous, current = current, pid
        self.assertTrue(wait_gone(previous, 15), "the previous process did not exit")
        time.sleep(1.0)

        # A failed upgrade: the new process finds a broken config, exits; the old one serves on.
        self.write_config(config + "\n[global.nonsense\n")
        out = self.ctl("upgrade")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertRegex(out.stdout, r"^error: upgrade failed: the new process exited with "
                                     r"status 1 before it was ready")
        self.assertEqual(self.status_pid(), current)
        self.assertTrue(running(current))
        self.write_config(config)
        time.sleep(1.0)

        load.stop()
        session_stop.set()
        talker.join(10)
        counts = dict(load.counts, upgrades=3,
                      seconds_per_upgrade=" ".join("%.3f" % t for t in timings),
                      tcp_session_lines=session_lines["ok"])
        sys.stderr.write("\nupgrade under load: %r\n" % counts)
        self.assertEqual(load.counts["failures"], 0, load.errors)
        self.assertEqual(load.counts["refused"], 0, load.errors)
        self.assertGreater(load.counts["requests"], 100)
        self.assertEqual(session_lines["bad"], 0)
        self.assertGreater(session_lines["ok"], 50)

        # The first process held on for the TCP session; it exits once the session ends.
        self.assertIsNone(first.poll())
        session.close()
        self.assertEqual(first.wait(15), 0, self.log())
        # The current one serves, and stops as usual.
        self.assertEqual(http_request(port)[0], 200)
        os.kill(current, signal.SIGTERM)
        self.assertTrue(wait_gone(current, 15))
        self.assertNotIn("Sanitizer", self.log())

    def server_health(self):
        out = self.ctl("show", "servers", "--json")
        return {r["name"]: r["health"] for r in json.loads(out.stdout)["servers"]}

    def test_server_health_carries_over(self):
        # app1 answers checks; app2 accepts and never answers, so each of its checks takes the
        # whole 3 s timeout: a new process that started it up again would show it up for 3 s.
        backends = self.start_backends(1)
        hang = RawServer(lambda conn: time.sleep(30))
        self.add_cleanup(hang.close)
        port = free_port()
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [backends[0].port, hang.port],
                       '[pool.health_check]\npath = "/healthz"\ninterval = "1s"\n'
                       'timeout = "3s"\nrise = 1\nfall = 1')])
        first = self.start(config)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.server_health() == {"app1": "up", "app2": "down"}:
                    break
            except (ValueError, KeyError):
                pass
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.1)
        # A runtime change made before the upgrade holds after it (the state file).
        self.assertEqual(self.ctl("set", "server", "app/app1", "weight", "7").returncode, 0)
        out = self.ctl("upgrade")
        self.assertEqual(out.returncode, 0, out.stdout + self.log())
        new = int(out.stdout.split("-> ")[1].split()[0])
        self.pids.append(new)
        self.assertEqual(self.status_pid(), new)
        self.assertEqual(self.server_health(), {"app1": "up", "app2": "down"})
        rows = json.loads(self.ctl("show", "servers", "--json").stdout)["servers"]
        self.assertEqual({r["name"]: r["weight"] for r in rows}, {"app1": 7, "app2": 1})
        self.assertEqual(first.wait(15), 0, self.log())
        os.kill(new, signal.SIGTERM)
        self.assertTrue(wait_gone(new, 15))

    def test_a_binary_that_cannot_be_executed_leaves_the_old_one_serving(self):
        upstream_port = free_port()
        port = free_port()
        first = self.start(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [upstream_port])]))
        deadline = time.monotonic() + 15
        while self.status_pid() != first.pid:
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.05)
        os.rename(self.exe, self.exe + ".away")
        out = self.ctl("upgrade")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertEqual(out.stdout, "error: upgrade failed: cannot execute the new binary: "
                                     "No such file or directory\n")
        os.rename(self.exe + ".away", self.exe)
        self.assertEqual(self.status_pid(), first.pid)
        self.assertEqual(http_request(port)[0], 502)  # still serving (no upstream there)
        first.send_signal(signal.SIGTERM)
        self.assertEqual(first.wait(15), 0, self.log())


if __name__ == "__main__":
    unittest.main()
