"""Hostile and failing peers on the HTTP data path (issue 12): a response body that stalls, a
client that goes away while its request waits, an upstream flooding interim responses, and an
upstream parse error logged once. Raw-socket upstreams and clients against the real binary."""

import json
import os
import socket
import subprocess
import threading
import time
import unittest

from harness import (RawServer, RecordingUpstream, SluiceTestCase, free_port, pool_toml,
                     read_head, read_response, sluice_config, take_unread)

SLUICECTL = os.environ.get("SLUICECTL_BIN", "")


def read_until_close(sock, timeout):
    """Every byte until the peer closes (FIN or RST), and whether it did: (bytes, False) when the
    connection was still open after `timeout` seconds of silence."""
    sock.settimeout(timeout)
    got = bytearray()
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        return bytes(got), False
    return bytes(got), True


def wait_closed(conn, timeout):
    """Reads (and drops) what the peer sends until it closes: True when it did within
    `timeout` seconds of silence, False when the connection was still open."""
    conn.settimeout(timeout)
    try:
        while conn.recv(65536):
            pass
    except socket.timeout:
        return False
    except OSError:
        pass  # reset: closed too
    return True


class HardeningTest(SluiceTestCase):
    def start_proxy(self, upstream_port, pool_extra="", listener_extra=""):
        if not SLUICECTL or not os.path.exists(SLUICECTL):
            self.fail("SLUICECTL_BIN is not set to the built sluicectl (run through ctest)")
        port = free_port()
        self.access_log = os.path.join(self.workdir, "access.log")
        config = sluice_config(
            self.workdir,
            ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n%s' % (port, listener_extra)],
            [pool_toml("app", [upstream_port], "retries = 0\n" + pool_extra)], workers=1,
            access_log=self.access_log)
        config = config.replace('[log]\n', '[log]\naccess_log_format = "json"\n')
        self.sluice = self.start_sluice(config, port)
        return port

    def raw_upstream(self, handler):
        server = RawServer(handler)
        self.add_cleanup(server.close)
        return server

    def ctl_json(self, *args):
        sock = os.path.join(self.workdir, "control.sock")
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            self.assertLess(time.monotonic(), deadline, "no control socket")
            time.sleep(0.05)
        out = subprocess.run([SLUICECTL, "-s", sock] + list(args) + ["--json"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout)

    def ctl_text(self, *args):
        out = subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")] +
                             list(args), capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout

    def server_failures(self):
        return self.ctl_json("show", "servers")["servers"][0]["failures"]

    def access_entries(self, count=1, timeout=10):
        """The access log's JSON entries, once it has at least `count`."""
        deadline = time.monotonic() + timeout
        while True:
            entries = []
            if os.path.exists(self.access_log):
                with open(self.access_log) as f:
                    entries = [json.loads(line) for line in f.read().splitlines() if line]
            if len(entries) >= count or time.monotonic() > deadline:
                self.assertGreaterEqual(len(entries), count, "access log: %r" % entries)
                return entries
            time.sleep(0.05)

    # --- an upstream parse error is logged once -----------------------------------------------

    def test_bad_upstream_response_is_logged_once(self):
        bad = RecordingUpstream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.add_cleanup(bad.close)
        port = self.start_proxy(bad.port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(read_response(s)[0], 502)
        self.access_entries()  # the request is over: everything about it was logged
        lines = [line for line in self.sluice.output().splitlines()
                 if "Content-Length can't be present with Transfer-Encoding" in line]
        self.assertEqual(len(lines), 1, "\n".join(lines))
        self.assertIn("pool app server app1", lines[0])


if __name__ == "__main__":
    unittest.main()
