"""Hot reload and runtime server management through sluicectl and signals, under real traffic."""

import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time
import unittest

from harness import (SluiceTestCase, free_port, http_request, read_response, sluice_config)

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")


def server_toml(name, port, extra=""):
    return '[[pool.server]]\nname = "%s"\naddress = "127.0.0.1:%d"\n%s\n' % (name, port, extra)


def big_pool_toml(servers):
    """A pool "big" of `servers` servers at addresses nobody listens on (no checks)."""
    return 'name = "big"\n' + "".join(
        '[[pool.server]]\nname = "s%d"\naddress = "127.1.%d.%d:%d"\n'
        % (i, i // 250, 1 + i % 250, 20000 + i % 40000) for i in range(servers))


def read_to_eof(sock):
    """Everything a control connection replies (it closes after its reply)."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


class HeldConfigFile:
    """The config path turned into a FIFO whose write end the test holds, so a reload that
    opens it reads until release(), as from a stalled network mount. Deterministic where a
    big file is not: the read is under way from the moment sluice has the FIFO open
    (wait_open, from /proc/PID/fd) until the test writes the text and closes."""

    def __init__(self, test, path):
        self.path = os.path.realpath(path)
        tmp = self.path + ".fifo"
        os.mkfifo(tmp)
        os.replace(tmp, self.path)
        # O_RDWR: open does not wait for a reader, and the reader sees no EOF before release.
        self.fd = os.open(self.path, os.O_RDWR)
        test.add_cleanup(self.close)

    def wait_open(self, pid, timeout=30):
        fd_dir = "/proc/%d/fd" % pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(os.path.join(fd_dir, fd)) == self.path:
                        return
                except OSError:
                    pass  # closed while listed
            time.sleep(0.02)
        raise AssertionError("sluice never opened the config file %s" % self.path)

    def release(self, text):
        data = text.encode()
        while data:  # sluice's reader drains the pipe as it fills
            data = data[os.write(self.fd, data):]
        self.close()

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Load:
    """Steady mixed load: keep-alive GETs, POSTs with bodies, slow requests. Counts failures."""

    def __init__(self, port, seconds):
        self.port = port
        self.stop_at = time.monotonic() + seconds
        self.errors = []
        self.ok = 0
        self.slow_ok = 0
        self.backends = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._keepalive_gets),
                        threading.Thread(target=self._keepalive_gets),
                        threading.Thread(target=self._posts),
                        threading.Thread(target=self._slow)]
        for t in self.threads:
            t.start()

    def _record(self, status, body, slow=False):
        with self.lock:
            if status != 200:
                self.errors.append(status)
                return
            self.ok += 1
            if slow:
                self.slow_ok += 1
            name = json.loads(body)["backend"]
            self.backends[name] = self.backends.get(name, 0) + 1

    def _keepalive_gets(self):
        sock = None
        while time.monotonic() < self.stop_at:
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                status, headers, body, _ = read_response(sock)
                self._record(status, body)
                if headers.get("connection", "").lower() == "close":
                    sock.close()
                    sock = None
            except Exception as e:  # noqa: BLE001 - every failure counts
                with self.lock:
                    self.errors.append(repr(e))
                sock = None
        if sock:
            sock.close()

    def _posts(self):
        body = os.urandom(20000)
        while time.monotonic() < self.stop_at:
            try:
                status, _, rbody = http_request(self.port, "POST", "/echo", body=body)
                if status == 200 and json.loads(rbody)["length"] != len(body):
                    status = "short body"
                self._record(status, rbody)
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.errors.append(repr(e))

    def _slow(self):
        while time.monotonic() < self.stop_at:
            try:
                status, _, body = http_request(self.port, path="/slow?ms=400")
                self._record(status, body, slow=True)
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.errors.append(repr(e))

    def join(self):
        for t in self.threads:
            t.join(60)


class ReloadTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")

    def config(self, servers, algorithm="round_robin", extra_pool="", extra_global="", workers=2):
        return sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % self.port],
            ['name = "app"\nalgorithm = "%s"\n%s\n' % (algorithm, extra_pool) +
             "".join(server_toml(b.name, b.port) for b in servers)],
            workers=workers, extra_global=extra_global, access_log="off")

    def write_config(self, text):
        tmp = self.sluice.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.sluice.config_path)

    def ctl(self, *args, expect=0):
        out = subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")] +
                             list(args), capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, expect, out.stdout + out.stderr)
        return out.stdout

    def start(self, servers, **kwargs):
        self.port = free_port()
        self.sluice = self.start_sluice(self.config(servers, **kwargs), self.port)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(self.workdir, "control.sock")):
            self.assertLess(time.monotonic(), deadline, "no control socket")
            time.sleep(0.05)

    def backends_seen(self, n=12):
        return [json.loads(http_request(self.port)[2])["backend"] for _ in range(n)]

    def test_twenty_reloads_under_load_lose_nothing(self):
        b = self.start_backends(3)
        self.start([b[0], b[1]])
        configs = [self.config([b[0], b[1], b[2]], "least_conn"),
                   self.config([b[1], b[2]], "round_robin"),
                   self.config([b[0], b[2]], "weighted_round_robin"),
                   self.config([b[0], b[1]], "power_of_two")]
        load = Load(self.port, seconds=9)
        for i in range(20):
            time.sleep(0.35)
            self.write_config(configs[i % len(configs)])
            if i % 2 == 0:
                self.assertIn("ok: generation", self.ctl("reload"))
            else:
                self.sluice.signal(signal.SIGHUP)
        load.join()
        self.assertEqual(load.errors, [])
        self.assertGreater(load.ok, 100)
        self.assertGreater(load.slow_ok, 5)
        self.assertEqual(set(load.backends), {"app1", "app2", "app3"})
        self.assertIn("generation", self.ctl("status"))

    def test_invalid_reload_reports_errors_and_keeps_serving(self):
        b = self.start_backends(1)
        self.start(b)
        with open(self.sluice.config_path, "a") as f:
            f.write('\n[[pool]]\nname = "app"\nalgoritm = "random"\n')
        out = self.ctl("reload", expect=1)
        self.assertTrue(out.startswith("error: "), out)
        self.assertRegex(out, r"sluice\.toml:\d+:\d+: ")
        self.assertIn('did you mean "algorithm"', out)
        self.assertEqual(http_request(self.port)[0], 200)
        self.assertIn("generation 1", self.ctl("status"))

    def test_drain_maint_weight_add_del_change_real_traffic(self):
        b = self.start_backends(3)
        self.start([b[0], b[1]], workers=1)
        self.assertEqual(set(self.backends_seen()), {"app1", "app2"})
        self.ctl("set", "server", "app/app1", "state", "drain")
        self.assertEqual(set(self.backends_seen()), {"app2"})
        self.ctl("set", "server", "app/app1", "state", "maint")
        self.assertEqual(set(self.backends_seen()), {"app2"})
        self.ctl("set", "server", "app/app1", "state", "ready")
        self.assertEqual(set(self.backends_seen()), {"app1", "app2"})
        # weight only matters to weighted algorithms: switch by reload, then set a weight.
        self.write_config(self.config([b[0], b[1]], "weighted_round_robin",
                                      workers=1))
        self.ctl("reload")
        self.ctl("set", "server", "app/app2", "weight", "3")
        seen = self.backends_seen(12)
        self.assertEqual((seen.count("app1"), seen.count("app2")), (3, 9), seen)
        self.ctl("add", "server", "app/app3", "127.0.0.1:%d" % b[2].port)
        self.assertIn("app3", self.backends_seen(12))
        self.ctl("del", "server", "app/app1")
        self.assertNotIn("app1", self.backends_seen(12))
        table = self.ctl("show", "servers")
        self.assertIn("app3", table)
        self.assertNotIn("app1 ", table)
        data = json.loads(self.ctl("show", "servers", "--json"))
        self.assertEqual(sorted(s["name"] for s in data["servers"]), ["app2", "app3"])

    def test_runtime_changes_survive_reload_and_restart(self):
        b = self.start_backends(3)
        self.start([b[0], b[1]], workers=1)
        self.ctl("set", "server", "app/app1", "state", "drain")
        self.ctl("add", "server", "app/app3", "127.0.0.1:%d" % b[2].port)
        self.assertEqual(set(self.backends_seen()), {"app2", "app3"})
        self.ctl("reload")
        self.assertEqual(set(self.backends_seen()), {"app2", "app3"})
        self.assertEqual(self.sluice.stop(), 0)
        # Restart on the same config and state file.
        self.sluice = self.start_sluice(open(self.sluice.config_path).read(), self.port,
                                        name="sluice2")
        self.assertEqual(set(self.backends_seen()), {"app2", "app3"})
        self.ctl("clear", "server", "app/app1")
        self.assertEqual(set(self.backends_seen()), {"app1", "app2", "app3"})

    def test_control_socket_limits_and_mode(self):
        b = self.start_backends(1)
        self.start(b, extra_global='control_socket_mode = "0600"')
        path = os.path.join(self.workdir, "control.sock")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            s.sendall(b"x" * 4096 + b"\n")
            reply = s.recv(4096)
            self.assertTrue(reply.startswith(b"error: "), reply)
        # A silent client is dropped after 5 s while traffic flows normally.
        silent = socket.socket(socket.AF_UNIX)
        silent.connect(path)
        start = time.monotonic()
        statuses = []
        while time.monotonic() - start < 1.0:
            statuses.append(http_request(self.port)[0])
        self.assertEqual(set(statuses), {200})
        silent.settimeout(10)
        self.assertEqual(silent.recv(10), b"")
        self.assertGreater(time.monotonic() - start, 4.0)
        silent.close()
        self.ctl("help")
        self.ctl("no-such-command", expect=1)

    def test_reload_of_a_thousand_server_config(self):
        b = self.start_backends(1)
        self.start(b)
        pool = 'name = "big"\n' + "".join(
            '[[pool.server]]\nname = "s%d"\naddress = "127.0.0.%d:%d"\n'
            % (i, 1 + i // 250, 20000 + i) for i in range(1000))
        text = self.config(b) + "[[pool]]\n" + pool
        self.write_config(text)
        start = time.monotonic()
        out = self.ctl("reload")
        elapsed = time.monotonic() - start
        self.assertIn("ok: generation", out)
        print("\nreload of a 1,000-server config took %.0f ms" % (elapsed * 1000))
        self.assertEqual(http_request(self.port)[0], 200)

    def test_the_control_socket_answers_while_a_read_is_held(self):
        # The file is read and checked off the main thread: `status` sent while a reload's read
        # is under way (the file is a held FIFO, like a stalled mount) is answered at once,
        # still on generation 1; on the main thread it would wait for the read to end.
        b = self.start_backends(1)
        self.start(b)
        held = HeldConfigFile(self, self.sluice.config_path)
        reload_sock = self.raw_control("reload")
        held.wait_open(self.sluice.proc.pid)
        self.assertIn("\ngeneration 1\n", self.ctl("status"))
        self.assertEqual(http_request(self.port)[0], 200)
        held.release(self.config(b) + "[[pool]]\n" + big_pool_toml(2000))
        reply = read_to_eof(reload_sock)
        self.assertTrue(reply.startswith(b"ok: generation 2\n"), reply[:200])
        self.assertIn("\ngeneration 2\n", self.ctl("status"))
        self.assertIn("big", self.ctl("show", "pools"))
        self.assertEqual(http_request(self.port)[0], 200)

    def test_a_reload_asked_for_during_a_read_reads_the_file_again(self):
        # The first reload is still reading when the file is replaced and a second reload is
        # asked for: the second must see the new file, so it is answered by a read that starts
        # after it (generation 3 holds "late", not the first read's "big").
        b = self.start_backends(1)
        self.start(b)
        held = HeldConfigFile(self, self.sluice.config_path)
        first = self.raw_control("reload")
        held.wait_open(self.sluice.proc.pid)
        self.write_config(self.config(b) + '[[pool]]\nname = "late"\n' +
                          server_toml("late1", b[0].port))
        second = self.raw_control("reload")
        time.sleep(0.3)  # let sluice take the second line while the first read is held
        held.release(self.config(b) + "[[pool]]\n" + big_pool_toml(2000))
        self.assertTrue(read_to_eof(first).startswith(b"ok: generation 2\n"))
        self.assertTrue(read_to_eof(second).startswith(b"ok: generation 3\n"))
        pools = self.ctl("show", "pools")
        self.assertIn("late", pools)
        self.assertNotIn("big", pools)

    def raw_control(self, line):
        """A control connection that has sent `line`; its reply is read later (read_to_eof)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.add_cleanup(sock.close)
        sock.settimeout(120)
        sock.connect(os.path.join(self.workdir, "control.sock"))
        sock.sendall(line.encode() + b"\n")
        return sock

    def test_a_stop_while_a_reload_reads_the_file_exits_cleanly(self):
        # SIGTERM while a reload's read is held: sluice waits for the read, never applies it,
        # and exits 0; the reload gets an error or no reply, never "ok".
        b = self.start_backends(1)
        self.start(b)
        held = HeldConfigFile(self, self.sluice.config_path)
        reload_sock = self.raw_control("reload")
        held.wait_open(self.sluice.proc.pid)
        self.sluice.signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assertIsNone(self.sluice.proc.poll(), "exited before the read it waits for ended")
        held.release(self.config(b) + "[[pool]]\n" + big_pool_toml(2000))
        self.assertEqual(self.sluice.stop(timeout=60), 0, self.sluice.output()[-3000:])
        try:
            reply = read_to_eof(reload_sock)
        except ConnectionResetError:
            reply = b""
        self.assertFalse(reply.startswith(b"ok"), reply[:200])
        # Never applied: no generation 2 (the audit line says "not reloaded" for the refusal).
        self.assertNotIn("generation 2", self.sluice.output())


if __name__ == "__main__":
    unittest.main()
