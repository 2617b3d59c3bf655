"""Hostile config files are errors, never crashes: not for `sluice -t`, not for a running sluice
asked to reload one (config.md, "Validation rules"). toml11's parser recurses without a limit,
so a deeply nested file used to kill the process (SIGSEGV) in all three cases."""

import os
import re
import signal
import subprocess
import time
import unittest

from harness import SLUICE_BIN, SluiceTestCase, free_port, http_request, sluice_config

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")

DEEP_ARRAYS = "deep = " + "[" * 10000 + "]" * 10000 + "\n"
DEEP_INLINE_TABLES = "deep = " + "{ a = " * 5000 + "1" + " }" * 5000 + "\n"


class HostileConfigTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")

    def config(self, backend, extra_top=""):
        # extra_top goes before [global]: a top-level key.
        return extra_top + sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % self.port],
            ['name = "app"\n[[pool.server]]\nname = "%s"\naddress = "127.0.0.1:%d"\n'
             % (backend.name, backend.port)],
            workers=2, access_log="off")

    def write_config(self, text):
        tmp = self.sluice.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.sluice.config_path)

    def ctl(self, *args, expect=0):
        out = subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")] +
                             list(args), capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, expect, out.stdout + out.stderr)
        return out.stdout + out.stderr

    def backend_seen(self):
        status, _, body = http_request(self.port)
        self.assertEqual(status, 200)
        return re.search(rb'"backend": "(\w+)"', body).group(1).decode()

    def test_sluice_t_reports_deep_nesting_with_its_position(self):
        self.port = free_port()
        b = self.start_backends(1)
        path = os.path.join(self.workdir, "deep.toml")
        for hostile in (DEEP_ARRAYS, DEEP_INLINE_TABLES):
            with open(path, "w") as f:
                f.write(self.config(b[0], hostile))
            out = subprocess.run([SLUICE_BIN, "-t", "-c", path], capture_output=True, text=True,
                                 timeout=60)
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            self.assertRegex(out.stderr, re.escape(path) + r":1:\d+: .*nested deeper than 64")

    def test_running_sluice_survives_reload_and_sighup_of_a_deep_file(self):
        b = self.start_backends(2)
        self.port = free_port()
        self.sluice = self.start_sluice(self.config(b[0]), self.port)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(self.workdir, "control.sock")):
            self.assertLess(time.monotonic(), deadline, "no control socket")
            time.sleep(0.05)
        self.assertEqual(self.backend_seen(), "app1")

        # Valid apart from the nesting, and pointing at the other backend: applied, it would
        # send traffic to app2.
        for hostile in (DEEP_ARRAYS, DEEP_INLINE_TABLES):
            self.write_config(self.config(b[1], hostile))
            out = self.ctl("reload", expect=1)
            self.assertRegex(out, r"sluice\.toml:1:\d+: .*nested deeper than 64")
            self.assertIsNone(self.sluice.proc.poll(), "sluice died on reload")
            self.assertEqual(self.backend_seen(), "app1")

        self.sluice.signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while "SIGHUP reload: " not in self.sluice.output():
            self.assertIsNone(self.sluice.proc.poll(), "sluice died on SIGHUP")
            self.assertLess(time.monotonic(), deadline, "no SIGHUP reload error logged")
            time.sleep(0.05)
        self.assertRegex(self.sluice.output(), r"SIGHUP reload: .*nested deeper than 64")
        self.assertIsNone(self.sluice.proc.poll(), "sluice died on SIGHUP")
        self.assertEqual([self.backend_seen() for _ in range(4)], ["app1"] * 4)
        self.assertIn("generation 1", self.ctl("status"))

        # And a fixed file is taken as usual.
        self.write_config(self.config(b[1]))
        self.assertIn("ok: generation 2", self.ctl("reload"))
        self.assertEqual(self.backend_seen(), "app2")


if __name__ == "__main__":
    unittest.main()
