"""`sluice -V` build information and what `sluice -t` checks beyond the config text: that log
files and the state file's directory can be opened (control.md, issue 17)."""

import os
import subprocess
import unittest

from harness import SLUICE_BIN, SluiceTestCase, free_port, pool_toml, sluice_config


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=10)


class CheckTest(SluiceTestCase):
    def config(self, **kwargs):
        path = os.path.join(self.workdir, "c.toml")
        text = sluice_config(self.workdir,
                             ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % free_port()],
                             [pool_toml("app", [free_port()])], **kwargs)
        with open(path, "w") as f:
            f.write(text)
        return path, text

    def test_build_information(self):
        out = run([SLUICE_BIN, "-V"])
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^sluice \d+\.\d+\.\d+\nbuilt with OpenSSL \d+\.\d+\.\d+.*, "
                                     r"libuv \d+\.\d+\.\d+, llhttp \d+\.\d+\.\d+, "
                                     r"toml11 \d+\.\d+\.\d+\n$")

    def test_log_files_and_state_directory_must_be_openable(self):
        path, _ = self.config(access_log=os.path.join(self.workdir, "access.log"))
        self.assertEqual(run([SLUICE_BIN, "-t", "-c", path]).returncode, 0)

        missing = os.path.join(self.workdir, "nodir", "access.log")
        path, _ = self.config(access_log=missing)
        out = run([SLUICE_BIN, "-t", "-c", path])
        self.assertEqual(out.returncode, 1)
        self.assertIn("%s: log.access_log: %s: directory %s: No such file or directory"
                      % (path, missing, os.path.dirname(missing)), out.stderr)

        path, text = self.config()
        with open(path, "w") as f:
            f.write(text.replace('state_file = "%s/state.json"' % self.workdir,
                                 'state_file = "%s/gone/state.json"' % self.workdir)
                    .replace('[log]\n', '[log]\nerror_log = "%s/nope/error.log"\n' % self.workdir))
        out = run([SLUICE_BIN, "-t", "-c", path])
        self.assertEqual(out.returncode, 1)
        self.assertIn("global.state_file: %s/gone/state.json" % self.workdir, out.stderr)
        self.assertIn("log.error_log: %s/nope/error.log" % self.workdir, out.stderr)
        self.assertIn("invalid (2 errors)", out.stderr)

    def test_the_shipped_config_passes_where_its_directories_exist(self):
        # packaging/sluice.toml names /var/log/sluice and /var/lib/sluice, which the package
        # creates; here the same file with those directories moved under the work dir.
        shipped = os.path.join(os.environ.get("SLUICE_SOURCE_DIR", "../.."), "packaging",
                               "sluice.toml")
        with open(shipped) as f:
            text = f.read()
        for d in ("/var/log/sluice", "/var/lib/sluice"):
            os.makedirs(self.workdir + d)
            text = text.replace(d + "/", self.workdir + d + "/")
        path = os.path.join(self.workdir, "sluice.toml")
        with open(path, "w") as f:
            f.write(text)
        out = run([SLUICE_BIN, "-t", "-c", path])
        self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main()
