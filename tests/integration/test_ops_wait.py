"""`sluicectl wait server POOL/NAME idle [TIMEOUT]` (control.md): the drain-then-deploy step."""

import os
import subprocess
import threading
import time
import unittest

from harness import SluiceTestCase, free_port, http_request, pool_toml, sluice_config

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")


class WaitServerTest(SluiceTestCase):
    def ctl(self, *args):
        return subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock"),
                               *args], capture_output=True, text=True, timeout=60)

    def test_wait_replies_once_the_drained_server_is_idle_or_times_out(self):
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")
        backends = self.start_backends(1)
        port = free_port()
        self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [backends[0].port])]), port)
        self.assertEqual(self.ctl("wait", "server", "app/app1", "idle").stdout,
                         "ok: server app/app1 is idle\n")

        result = {}

        def slow():
            result["status"] = http_request(port, path="/slow?ms=2000", timeout=20)[0]
        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)  # in flight at the backend now
        self.assertEqual(self.ctl("set", "server", "app/app1", "state", "drain").returncode, 0)
        out = self.ctl("wait", "server", "app/app1", "idle", "200ms")
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stdout, r"^error: timeout: server app/app1 still has 1 active")
        out = self.ctl("--json", "wait", "server", "app/app1", "idle", "200ms")
        self.assertRegex(out.stdout, r'^\{"error":"timeout: server app/app1 still has 1 active')
        started = time.monotonic()
        out = self.ctl("wait", "server", "app/app1", "idle", "20s")
        waited = time.monotonic() - started
        t.join(20)
        self.assertEqual(result.get("status"), 200)
        self.assertEqual((out.returncode, out.stdout), (0, "ok: server app/app1 is idle\n"))
        self.assertGreater(waited, 0.3)  # it did wait for the request (about 1.5 s left)

        for bad, why in [(["wait", "server", "app/nope", "idle"], "no server app/nope"),
                         (["wait", "server", "app/app1", "busy"], "usage: wait server"),
                         (["wait", "server", "app/app1", "idle", "5"], "TIMEOUT \"5\"")]:
            out = self.ctl(*bad)
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn(why, out.stdout)


if __name__ == "__main__":
    unittest.main()
