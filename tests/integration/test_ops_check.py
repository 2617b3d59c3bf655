"""`sluice -V` build information and what `sluice -t` checks beyond the config text: that log
files and the state file's directory can be opened (control.md, issue 17)."""

import os
import subprocess
import unittest

from harness import SLUICE_BIN, SluiceTestCase, free_port, pool_toml, sluice_config


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=10)


def position(text, key):
    """"LINE:COL" of the value of `key = ...` in `text` (1-based, the value's first character)."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith(key + " = "):
            return "%d:%d" % (number, len(line) - len(stripped) + len(key) + 4)
    raise AssertionError("no %s in %r" % (key, text))


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
        path, text = self.config(access_log=missing)
        out = run([SLUICE_BIN, "-t", "-c", path])
        self.assertEqual(out.returncode, 1)
        # FILE:LINE:COL at the key's value, as every config error.
        self.assertIn("%s:%s: log.access_log: %s: directory %s: No such file or directory"
                      % (path, position(text, "access_log"), missing, os.path.dirname(missing)),
                      out.stderr)

        path, text = self.config()
        text = (text.replace('state_file = "%s/state.json"' % self.workdir,
                             'state_file = "%s/gone/state.json"' % self.workdir)
                .replace('[log]\n', '[log]\nerror_log = "%s/nope/error.log"\n' % self.workdir))
        with open(path, "w") as f:
            f.write(text)
        out = run([SLUICE_BIN, "-t", "-c", path])
        self.assertEqual(out.returncode, 1)
        self.assertIn("%s:%s: global.state_file: %s/gone/state.json"
                      % (path, position(text, "state_file"), self.workdir), out.stderr)
        self.assertIn("%s:%s: log.error_log: %s/nope/error.log"
                      % (path, position(text, "error_log"), self.workdir), out.stderr)
        self.assertIn("invalid (2 errors)", out.stderr)

    def test_the_shipped_configs_pass_where_their_directories_exist(self):
        # packaging/sluice.toml (/etc/sluice/sluice.toml) and conf/sluice.toml (the reference,
        # shipped as the documentation's example) name /var/log/sluice and /var/lib/sluice,
        # which the package creates; here the same files with those directories moved under
        # the work dir.
        source = os.environ.get("SLUICE_SOURCE_DIR", "../..")
        for d in ("/var/log/sluice", "/var/lib/sluice"):
            os.makedirs(self.workdir + d)
        for shipped in ("packaging/sluice.toml", "conf/sluice.toml"):
            with open(os.path.join(source, shipped)) as f:
                text = f.read()
            for d in ("/var/log/sluice", "/var/lib/sluice"):
                text = text.replace(d + "/", self.workdir + d + "/")
            path = os.path.join(self.workdir, "sluice.toml")
            with open(path, "w") as f:
                f.write(text)
            out = run([SLUICE_BIN, "-t", "-c", path])
            self.assertEqual(out.returncode, 0, shipped + ": " + out.stderr)


if __name__ == "__main__":
    unittest.main()
