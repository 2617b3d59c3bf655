"""Audit trail and honest replies (control.md, last paragraph of "Control socket protocol")."""

import os
import signal
import subprocess
import time
import unittest

from harness import RecordingUpstream, SluiceTestCase, free_port, pool_toml, sluice_config

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")


class AuditTest(SluiceTestCase):
    def ctl(self, *args):
        return subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock"),
                               *args], capture_output=True, text=True, timeout=60)

    def test_changes_are_logged_with_uid_and_a_failed_log_open_is_an_error(self):
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        port = free_port()
        access_log = os.path.join(self.workdir, "access.log")

        def config(access):
            return sluice_config(
                self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
                [pool_toml("app", [upstream.port])], access_log=access)
        sluice = self.start_sluice(config(access_log), port)
        self.assertEqual(self.ctl("set", "server", "app/app1", "weight", "3").returncode, 0)
        self.assertEqual(self.ctl("show", "pools").returncode, 0)

        # The new access log's directory does not exist: the config is live, the reply an error.
        with open(sluice.config_path, "w") as f:
            f.write(config(os.path.join(self.workdir, "missing", "access.log")))
        out = self.ctl("reload")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertRegex(out.stdout, r"^error: configuration reloaded \(generation 2\), but 1 "
                                     r"part\(s\) failed\naccess_log: .*missing/access.log")
        out = self.ctl("--json", "reload")
        self.assertTrue(out.stdout.startswith('{"error":"configuration reloaded (generation 3)'),
                        out.stdout)
        sluice.signal(signal.SIGHUP)
        time.sleep(0.5)

        log = sluice.output()
        uid = os.getuid()
        self.assertIn('control: "set server app/app1 weight 3" from uid %d (pid ' % uid, log)
        self.assertRegex(log, r'control: "reload" from uid %d \(pid \d+\): error: configuration '
                              r'reloaded \(generation 2\)' % uid)
        self.assertIn("SIGHUP: configuration reloaded, generation 4, but some parts failed", log)
        self.assertNotIn('"show pools"', log)  # reads are not audited
        self.assertEqual(log.count('control: "set server app/app1 weight 3"'), 1)


class PoolWarningTest(SluiceTestCase):
    def test_no_available_server_and_recovery_are_warned_once_each(self):
        backends = self.start_backends(1)
        port = free_port()
        sluice = self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [backends[0].port],
                       '[pool.health_check]\npath = "/healthz"\ninterval = "200ms"\n'
                       'rise = 1\nfall = 1')]), port)

        def wait_for(text, timeout=15):
            deadline = time.monotonic() + timeout
            while text not in sluice.output():
                self.assertLess(time.monotonic(), deadline, sluice.output())
                time.sleep(0.1)
        open(backends[0].health_file, "w").close()  # /healthz answers 503 now
        wait_for("[warn] pool app has no available server (1 servers): requests get 503")
        os.remove(backends[0].health_file)
        wait_for("[warn] pool app recovered: 1 of 1 servers available")
        time.sleep(1.0)
        out = sluice.output()
        self.assertEqual(out.count("pool app has no available server"), 1, out)
        self.assertEqual(out.count("pool app recovered"), 1, out)


if __name__ == "__main__":
    unittest.main()
