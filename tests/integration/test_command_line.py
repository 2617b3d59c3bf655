"""Command lines of sluice and sluicectl (packaging/man/sluice.8, sluicectl.8 and
shared/design/control.md): every option, its spellings, and the usage errors with their exit
status (2)."""

import json
import os
import subprocess
import time
import unittest

from harness import SLUICE_BIN, SluiceTestCase, free_port, pool_toml, sluice_config

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


class SluiceCommandLineTest(SluiceTestCase):
    def valid_config(self):
        path = os.path.join(self.workdir, "ok.toml")
        with open(path, "w") as f:
            f.write(sluice_config(self.workdir,
                                  ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % free_port()],
                                  [pool_toml("app", [free_port()])]))
        return path

    def test_version_and_help_spellings(self):
        for flag in ("--version", "-v"):
            out = run([SLUICE_BIN, flag])
            self.assertEqual(out.returncode, 0, flag)
            self.assertRegex(out.stdout, r"^sluice \d+\.\d+\.\d+\n$")
        for flag in ("--help", "-h"):
            out = run([SLUICE_BIN, flag])
            self.assertEqual(out.returncode, 0, flag)
            self.assertTrue(out.stdout.startswith("usage: sluice [-c FILE] [-t] [--version]"),
                            out.stdout)
            self.assertIn("-c FILE", out.stdout)
            self.assertEqual(out.stderr, "")

    def test_check_with_options_in_any_order(self):
        path = self.valid_config()
        for argv in (["-t", "-c", path], ["-c", path, "-t"], ["-t", "-c" + path]):
            out = run([SLUICE_BIN] + argv)
            self.assertEqual(out.returncode, 0, (argv, out.stderr))
            self.assertEqual(out.stdout, "configuration ok: 1 listeners, 1 pools, 1 servers\n")

    def test_missing_config_file_is_a_configuration_error(self):
        path = os.path.join(self.workdir, "missing.toml")
        out = run([SLUICE_BIN, "-t", "-c", path])
        self.assertEqual(out.returncode, 1)
        self.assertIn(path, out.stderr)

    def test_bad_command_lines_exit_2_with_usage(self):
        path = self.valid_config()
        for argv, message in ((["--bogus"], "sluice: unknown argument '--bogus'"),
                              (["-x"], "sluice: unknown argument '-x'"),
                              (["-t", "extra"], "sluice: unknown argument 'extra'"),
                              (["extra", "--version"], "sluice: unknown argument 'extra'"),
                              (["-c", path, "-t", "more"], "sluice: unknown argument 'more'"),
                              (["-c"], "sluice: option -c needs FILE")):
            out = run([SLUICE_BIN] + argv)
            self.assertEqual(out.returncode, 2, argv)
            self.assertIn(message, out.stderr, argv)
            self.assertIn("usage: sluice", out.stderr, argv)
            self.assertEqual(out.stdout, "", argv)


class SluicectlCommandLineTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")

    def test_help_and_version(self):
        for flag in ("--help", "-h"):
            out = run([SLUICECTL, flag])
            self.assertEqual(out.returncode, 0, flag)
            self.assertTrue(out.stdout.startswith("usage: sluicectl [-s SOCKET] [--json] COMMAND"))
            self.assertIn("exit status: 0 ok, 1 the server answered with an error, 2", out.stdout)
        out = run([SLUICECTL, "--version"])
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^sluicectl \d+\.\d+\.\d+\n$")

    def test_no_command_prints_usage_and_exits_2(self):
        for argv in ([], ["-s", "/tmp/x.sock"], ["--json"], ["--"]):
            out = run([SLUICECTL] + argv)
            self.assertEqual(out.returncode, 2, argv)
            self.assertTrue(out.stderr.startswith("usage: sluicectl"), (argv, out.stderr))

    def test_usage_errors_exit_2(self):
        try_help = "Try 'sluicectl --help'.\n"
        for argv, message in (
                (["--bogus", "status"], "sluicectl: unknown option '--bogus'\n"),
                (["-x", "status"], "sluicectl: unknown option '-x'\n"),
                (["-s"], "sluicectl: option -s needs SOCKET\n"),
                (["--socket"], "sluicectl: option --socket needs SOCKET\n"),
                (["-s", "/tmp/x.sock", "set", "server", "a\nb"],
                 "sluicectl: arguments must not contain line breaks\n"),
                (["-s", "/tmp/x.sock", "x" * 5000], "sluicectl: command longer than 4096 bytes\n")):
            out = run([SLUICECTL] + argv)
            self.assertEqual(out.returncode, 2, argv)
            self.assertEqual(out.stderr, message + try_help, argv)
            self.assertEqual(out.stdout, "", argv)

    def test_every_spelling_of_the_socket_option(self):
        path = os.path.join(self.workdir, "nobody.sock")
        for argv in (["-s", path], ["-s" + path], ["--socket", path], ["--socket=" + path],
                     ["--json", "-s", path], ["-s", path, "--"]):
            out = run([SLUICECTL] + argv + ["status"])
            self.assertEqual(out.returncode, 2, argv)
            self.assertEqual(out.stderr, "sluicectl: cannot connect to %s: No such file or "
                                         "directory (is sluice running?)\n" % path, argv)

    def test_against_a_running_sluice(self):
        port = free_port()
        self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [free_port()])], workers=1), port)
        sock = os.path.join(self.workdir, "control.sock")
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            self.assertLess(time.monotonic(), deadline, "no control socket")
            time.sleep(0.05)
        ctl = [SLUICECTL, "-s", sock]
        for argv in (["--json", "status"], ["status", "--json"], ["--json", "status", "--json"]):
            out = run(ctl + argv)
            self.assertEqual(out.returncode, 0, argv)
            self.assertEqual(json.loads(out.stdout)["workers"], 1, argv)
        out = run(ctl + ["status"])
        self.assertEqual(out.returncode, 0)
        self.assertIn("\nworkers 1\n", out.stdout)
        # After the first word everything is the command's, options included.
        out = run(ctl + ["show", "-s"])
        self.assertEqual(out.returncode, 1)
        self.assertTrue(out.stdout.startswith('error: unknown command "show"'), out.stdout)
        out = run(ctl + ["--", "-x"])
        self.assertEqual(out.returncode, 1)
        self.assertTrue(out.stdout.startswith('error: unknown command "-x"'), out.stdout)
        out = run(ctl + ["set", "server", "app/nope", "state", "drain"])
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stdout, "error: no server app/nope\n")
        # With --json the error is JSON (control.md), and still exit status 1.
        out = run(ctl + ["--json", "set", "server", "app/nope", "state", "drain"])
        self.assertEqual(out.returncode, 1)
        self.assertEqual(json.loads(out.stdout), {"error": "no server app/nope"})


if __name__ == "__main__":
    unittest.main()
