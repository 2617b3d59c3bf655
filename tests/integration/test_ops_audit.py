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


if __name__ == "__main__":
    unittest.main()
