"""systemd readiness (control.md "systemd"): sd_notify datagrams on a real AF_UNIX notify socket
the test binds and hands to sluice as NOTIFY_SOCKET, as systemd does for Type=notify."""

import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness import (SLUICE_BIN, RecordingUpstream, SluiceTestCase, free_port, http_request,
                     pool_toml, sluice_config)


class NotifySocket:
    """The service manager's side: a datagram socket collecting sd_notify messages."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def next(self, timeout=15.0):
        """The next datagram as a dict of its assignments (None after `timeout`). The periodic
        STATUS=-only refreshes (every 5 s) are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return None
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            self.messages.append(fields)
            if set(fields) != {"STATUS"}:
                return fields

    def close(self):
        self.sock.close()


def start_notified(test, config_text, notify):
    path = os.path.join(test.workdir, "sluice.toml")
    with open(path, "w") as f:
        f.write(config_text)
    log = open(os.path.join(test.workdir, "sluice.log"), "wb")
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    proc = subprocess.Popen([SLUICE_BIN, "-c", path], stdout=log, stderr=subprocess.STDOUT,
                            env=env)

    def stop():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    test.add_cleanup(stop)
    return proc


def sluice_log(test):
    with open(os.path.join(test.workdir, "sluice.log"), "rb") as f:
        return f.read().decode("utf-8", "replace")


class NotifyTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        self.notify = NotifySocket(self.workdir)
        self.add_cleanup(self.notify.close)
        self.upstream = RecordingUpstream()
        self.add_cleanup(self.upstream.close)

    def config(self, port, workers=2):
        return sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [self.upstream.port])], workers=workers)

    def test_ready_only_when_serving_then_reloading_ready_and_stopping(self):
        port = free_port()
        proc = start_notified(self, self.config(port, workers=3), self.notify)
        ready = self.notify.next()
        self.assertIsNotNone(ready, "no READY=1 within 15 s; log:\n" + sluice_log(self))
        self.assertEqual(ready.get("READY"), "1", ready)
        self.assertRegex(ready.get("STATUS", ""), r"^generation 1, \d+ connections")
        # READY=1 means serving: the first request right after it succeeds, no waiting.
        status, _, body = http_request(port)
        self.assertEqual((status, body), (200, b"ok"))

        proc.send_signal(signal.SIGHUP)
        reloading = self.notify.next()
        self.assertEqual(reloading.get("RELOADING"), "1", reloading)
        self.assertRegex(reloading.get("MONOTONIC_USEC", ""), r"^\d+$")
        ready = self.notify.next()
        self.assertEqual(ready.get("READY"), "1", ready)
        self.assertRegex(ready.get("STATUS", ""), r"^generation 2, ")

        proc.send_signal(signal.SIGTERM)
        stopping = self.notify.next()
        self.assertEqual(stopping.get("STOPPING"), "1", stopping)
        self.assertEqual(proc.wait(15), 0, sluice_log(self))

    def test_upgrade_sends_mainpid_of_the_new_process(self):
        sluicectl = os.environ.get("SLUICECTL_BIN", "")
        if not sluicectl or not os.path.exists(sluicectl):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")
        port = free_port()
        proc = start_notified(self, self.config(port), self.notify)
        self.assertEqual(self.notify.next().get("READY"), "1", sluice_log(self))
        out = subprocess.run([sluicectl, "-s", os.path.join(self.workdir, "control.sock"),
                              "upgrade"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + sluice_log(self))
        new_pid = int(out.stdout.split("-> ")[1].split()[0])
        handover = self.notify.next()
        # One message from the old process names the new main process; nothing before it.
        self.assertEqual(handover.get("MAINPID"), str(new_pid), self.notify.messages)
        self.assertEqual(handover.get("READY"), "1")
        self.assertEqual(proc.wait(15), 0, sluice_log(self))  # the old one drained and exited
        self.assertIsNone(self.notify.next(timeout=0.5), "the old process sent STOPPING=1")
        os.kill(new_pid, signal.SIGTERM)
        stopping = self.notify.next()
        self.assertEqual(stopping.get("STOPPING"), "1", stopping)

    def test_bind_failure_exits_non_zero_without_ready(self):
        port = free_port()
        taken = socket.socket()
        taken.bind(("127.0.0.1", port))  # no SO_REUSEPORT: sluice's bind must fail
        taken.listen(1)
        self.add_cleanup(taken.close)
        proc = start_notified(self, self.config(port), self.notify)
        self.assertEqual(proc.wait(15), 1, sluice_log(self))
        self.assertIn("bind 127.0.0.1:%d" % port, sluice_log(self))
        message = self.notify.next(timeout=0.5)
        self.assertIsNone(message, "sluice sent %r before failing" % message)

    def test_systemd_run_start_fails_on_bind_error(self):
        # Needs a running systemd (PID 1) to start a transient Type=notify unit.
        if not os.path.isdir("/run/systemd/system") or not shutil.which("systemd-run"):
            self.skipTest("no running systemd on this machine (/run/systemd/system absent)")
        port = free_port()
        taken = socket.socket()
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        self.add_cleanup(taken.close)
        path = os.path.join(self.workdir, "sluice.toml")
        with open(path, "w") as f:
            f.write(self.config(port))
        user = [] if os.geteuid() == 0 else ["--user"]
        out = subprocess.run(["systemd-run", *user, "--wait", "--collect", "-p", "Type=notify",
                              SLUICE_BIN, "-c", path], capture_output=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)


class JournalStreamTest(SluiceTestCase):
    def test_priority_prefixes_and_no_timestamp_when_stderr_is_the_journal(self):
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        port = free_port()
        path = os.path.join(self.workdir, "sluice.toml")
        with open(path, "w") as f:
            f.write(sluice_config(
                self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
                [pool_toml("app", [upstream.port])], access_log="off"))
        log_path = os.path.join(self.workdir, "journal.log")
        log = open(log_path, "wb")
        self.add_cleanup(log.close)
        st = os.fstat(log.fileno())
        env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        proc = subprocess.Popen([SLUICE_BIN, "-c", path], stderr=log, stdout=subprocess.DEVNULL,
                                env=env)
        self.add_cleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        deadline = time.monotonic() + 15
        while "sluice ready" not in open(log_path).read():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        with open(path, "a") as f:
            f.write("\n[global.broken\n")
        proc.send_signal(signal.SIGHUP)  # an invalid config: logged at error
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(15), 0)
        lines = open(log_path).read().splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>\[(error|warn|info|debug)\] ")
        self.assertTrue(any(l.startswith("<6>[info] sluice started") for l in lines), lines)
        self.assertTrue(any(l.startswith("<3>[error] SIGHUP") for l in lines), lines)


if __name__ == "__main__":
    unittest.main()
