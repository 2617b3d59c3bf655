"""Hostile edges of the process (issue 12): descriptor exhaustion must not flood the log, idle
connections must not lock an admin out of the control socket, and an error reply on the control
socket must not be lost to a reset."""

import os
import re
import resource
import select
import socket
import subprocess
import time
import unittest

from harness import (SLUICE_BIN, RecordingUpstream, Sluice, SluiceTestCase, free_port,
                     http_request, pool_toml, sluice_config)

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")
MAX_CONTROL_CLIENTS = 64  # control::kMaxControlClients


class LimitedSluice(Sluice):
    """Sluice started with a low RLIMIT_NOFILE (soft and hard)."""

    def __init__(self, workdir, config_text, nofile):
        # Sluice.__init__'s own, with a preexec_fn (it starts the process, so is not called).
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "sluice.toml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, "sluice.log")
        self.log = open(self.log_path, "wb")

        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen([SLUICE_BIN, "-c", self.config_path], stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=limit)


def exhaustion_lines(text):
    return [line for line in text.splitlines() if "Too many open files" in line]


def workers_saying(lines, what):
    """The workers ("worker 0", ...) that logged a line containing `what`."""
    return {re.search(r"(worker \d+): accept", line).group(1) for line in lines if what in line}


class FdExhaustionTest(SluiceTestCase):
    NOFILE = 64  # sluice itself holds ~21 descriptors with 2 workers and one listener
    CLIENTS = 150
    HOLD_SECONDS = 6.5  # past one 5 s summary period

    def test_emfile_is_logged_once_then_summarized_and_recovery_is_logged(self):
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        port = free_port()
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n'
                           'client_header_timeout = "60s"' % port],
            [pool_toml("app", [upstream.port])], workers=2, access_log="off")
        sluice = LimitedSluice(self.workdir, config, self.NOFILE)
        self.add_cleanup(lambda: self._stop_sluice(sluice))
        sluice.wait_listening(port)
        self.assertEqual(http_request(port)[0], 200)

        # Connected by the kernel (backlog), accepted by sluice until it runs out of descriptors.
        clients = []
        try:
            for _ in range(self.CLIENTS):
                clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            deadline = time.monotonic() + 10
            while not exhaustion_lines(sluice.output()):
                self.assertLess(time.monotonic(), deadline,
                                "sluice never ran out of descriptors:\n" + sluice.output())
                time.sleep(0.1)
            time.sleep(self.HOLD_SECONDS)
            during = exhaustion_lines(sluice.output())
        finally:
            for c in clients:
                c.close()

        # Each worker logs its first pause, then at most one summary per 5 s; before, every
        # 100 ms pause was a line (~20 a second with 2 workers).
        self.assertLessEqual(len(during), 2 * 3, "\n".join(during))
        self.assertTrue(any("paused" in line and "in the last" in line for line in during),
                        "no summary line:\n" + "\n".join(during))

        # Once the clients are gone it serves again, and says that accepting recovered.
        deadline = time.monotonic() + 15
        while True:
            try:
                if http_request(port, timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            self.assertLess(time.monotonic(), deadline, "sluice does not serve after EMFILE")
            time.sleep(0.2)
        # Every worker that paused says so once it has gone a second without pausing.
        paused = workers_saying(during, "pausing accepts")
        self.assertTrue(paused, "\n".join(during))
        deadline = time.monotonic() + 10
        while workers_saying(exhaustion_lines(sluice.output()), "accepting again") != paused:
            self.assertLess(time.monotonic(), deadline,
                            "no recovery line:\n" + "\n".join(exhaustion_lines(sluice.output())))
            time.sleep(0.1)
        lines = exhaustion_lines(sluice.output())
        self.assertLessEqual(len(lines), 2 * 4, "\n".join(lines))
        self.assertIsNone(sluice.proc.poll())


class ControlSocketEdgesTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        port = free_port()
        self.sluice = self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [upstream.port])], workers=1, access_log="off"), port)
        self.path = os.path.join(self.workdir, "control.sock")
        # A whole exchange, not a bare connect: a connection closed unread would still hold a
        # slot on the server for a moment.
        deadline = time.monotonic() + 10
        while True:
            try:
                self.assertTrue(self.exchange(b"help\n")[0].startswith(b"commands"))
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline, "no control socket")
                time.sleep(0.05)

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.path)
        return s

    def ctl(self, *args):
        return subprocess.run([SLUICECTL, "-s", self.path] + list(args), capture_output=True,
                              text=True, timeout=30)

    def test_idle_connections_cannot_lock_out_an_admin(self):
        idle = []
        try:
            start = time.monotonic()
            for _ in range(MAX_CONTROL_CLIENTS):
                idle.append(self.connect())
            idle[1].sendall(b"stat")  # a partial line is still idle
            for attempt in range(3):
                if attempt > 0:
                    idle.append(self.connect())  # refilled, as an attacker would
                out = self.ctl("status")
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertIn("pid", out.stdout)
            # Made room by dropping the oldest idle ones, silently; the newest are still open.
            for s in idle[:3]:
                self.assertEqual(s.recv(100), b"")
            elapsed = time.monotonic() - start
            self.assertLess(elapsed, 4.5, "too slow to tell eviction from the 5 s idle timeout")
            readable, _, _ = select.select(idle[3:], [], [], 0)
            self.assertEqual(readable, [], "a newer idle connection was closed")
        finally:
            for s in idle:
                s.close()
        out = self.ctl("status")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def exchange(self, payload):
        """Sends `payload` in one write, reads until the server closes. Returns (reply, how it
        ended: "eof" or "reset")."""
        s = self.connect()
        try:
            s.sendall(payload)
            reply = b""
            while True:
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    return reply, "reset"
                if not data:
                    return reply, "eof"
                reply += data
        finally:
            s.close()

    def test_a_reply_is_not_lost_to_a_reset_when_more_bytes_follow_the_line(self):
        # One command per connection: the first line runs, the rest is ignored (read and
        # dropped, so closing does not reset the connection under the reply).
        cases = [
            ("two lines", b"status\nstatus\n", b"version "),
            ("a 100 KB second line", b"status\n" + b"x" * 100000 + b"\n", b"version "),
            ("a 100 KB first line", b"y" * 100000 + b"\n", b"error: command longer than"),
            ("an unknown command, then more", b"nope\n" + b"z" * 100000 + b"\n", b"error: "),
        ]
        for name, payload, prefix in cases:
            endings = {}
            for _ in range(200):
                reply, ending = self.exchange(payload)
                self.assertTrue(reply.startswith(prefix), (name, reply[:200]))
                self.assertTrue(reply.endswith(b"\n"), (name, reply[-200:]))
                if prefix == b"version ":  # the whole status reply, up to its last line
                    self.assertIn(b"\nrequests served ", reply, name)
                endings[ending] = endings.get(ending, 0) + 1
            self.assertEqual(endings, {"eof": 200}, name)
        self.assertIsNone(self.sluice.proc.poll())


if __name__ == "__main__":
    unittest.main()
