"""Process model: command line, config validation, graceful stop, connection cap."""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import (SLUICE_BIN, SluiceTestCase, free_port, http_request, pool_toml,
                     read_response, sluice_config)


class CommandLineTest(SluiceTestCase):
    def test_version(self):
        out = subprocess.run([SLUICE_BIN, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^sluice \d+\.\d+\.\d+")

    def test_check_valid_config(self):
        path = os.path.join(self.workdir, "ok.toml")
        with open(path, "w") as f:
            f.write(sluice_config(self.workdir,
                                  ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % free_port()],
                                  [pool_toml("app", [free_port(), free_port()])]))
        out = subprocess.run([SLUICE_BIN, "-t", "-c", path], capture_output=True, text=True,
                             timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "configuration ok: 1 listeners, 1 pools, 2 servers")

    def test_check_invalid_config_reports_file_line_col(self):
        path = os.path.join(self.workdir, "bad.toml")
        with open(path, "w") as f:
            f.write('[global]\nworkers = 1\nworker = 2\n\n[[listener]]\nname = "web"\n'
                    'bind = "127.0.0.1:1"\npool = "nope"\n')
        out = subprocess.run([SLUICE_BIN, "-t", "-c", path], capture_output=True, text=True,
                             timeout=10)
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr, r"%s:3:\d+: .*worker" % path)
        self.assertIn('did you mean "workers"', out.stderr)
        self.assertRegex(out.stderr, r"%s:8:\d+: .*nope" % path)

    def test_invalid_config_does_not_start(self):
        path = os.path.join(self.workdir, "bad.toml")
        port = free_port()
        with open(path, "w") as f:
            f.write('[[listener]]\nname = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n'
                    'idle_timeout = 5\n[[pool]]\nname = "app"\n' % port)
        out = subprocess.run([SLUICE_BIN, "-c", path], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr, r"bad.toml:5:\d+: ")
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


class GracefulStopTest(SluiceTestCase):
    def test_sigterm_drains_an_in_flight_slow_request(self):
        backends = self.start_backends(1)
        port = free_port()
        sluice = self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [backends[0].port])]), port)
        result = {}

        def slow():
            result["response"] = http_request(port, path="/slow?ms=1500", timeout=15)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)  # the request is now in flight at the backend
        sluice.signal(signal.SIGTERM)
        time.sleep(0.3)
        # Listeners are closed at once: new connections are refused while the drain goes on.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        t.join(15)
        status, headers, body = result["response"]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["slept_ms"], 1500)
        self.assertEqual(sluice.proc.wait(10), 0)

    def test_sigterm_closes_idle_keep_alive_connections(self):
        backends = self.start_backends(1)
        port = free_port()
        sluice = self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [backends[0].port])]), port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(read_response(s)[0], 200)
            start = time.monotonic()
            sluice.signal(signal.SIGTERM)
            s.settimeout(5)
            self.assertEqual(s.recv(10), b"")
        self.assertEqual(sluice.proc.wait(10), 0)
        self.assertLess(time.monotonic() - start, 5)

    def test_shutdown_timeout_bounds_the_drain(self):
        backends = self.start_backends(1)
        port = free_port()
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [backends[0].port])])
        config = config.replace('shutdown_timeout = "10s"', 'shutdown_timeout = "1s"')
        sluice = self.start_sluice(config, port)
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.add_cleanup(s.close)
        s.sendall(b"GET /slow?ms=8000 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        start = time.monotonic()
        sluice.signal(signal.SIGTERM)
        self.assertEqual(sluice.proc.wait(10), 0)
        self.assertLess(time.monotonic() - start, 4)


class ConnectionCapTest(SluiceTestCase):
    def test_max_connections_pauses_accepting_and_recovers(self):
        backends = self.start_backends(1)
        port = free_port()
        sluice = self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [backends[0].port])], workers=1,
            extra_global="max_connections = 2"), port)
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
        for s in held:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(read_response(s)[0], 200)
        # A third client waits in the backlog: connected by the kernel, not served.
        third = socket.create_connection(("127.0.0.1", port), timeout=5)
        third.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        third.settimeout(0.7)
        with self.assertRaises(socket.timeout):
            third.recv(10)
        # Freeing a slot lets it in.
        held[0].close()
        status, _, _, _ = read_response(third, timeout=5)
        self.assertEqual(status, 200)
        third.close()
        held[1].close()
        self.assertIsNone(sluice.proc.poll())


if __name__ == "__main__":
    unittest.main()
