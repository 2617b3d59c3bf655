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

    # --- response_timeout bounds the silence inside a response body -------------------------

    def test_stalled_response_body_cuts_the_client_and_counts_a_failure(self):
        upstream_closed = threading.Event()

        def upstream(conn):
            head, _ = read_head(conn)
            if head is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nx")
            if wait_closed(conn, 60):  # then silence, until sluice lets go
                upstream_closed.set()

        server = self.raw_upstream(upstream)
        port = self.start_proxy(server.port, 'response_timeout = "1s"')
        failures_before = self.server_failures()
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            start = time.monotonic()
            s.sendall(b"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
            got, closed = read_until_close(s, 15)
            self.assertTrue(closed, "client connection still open 15 s into a stalled body "
                            "(response_timeout = 1s)")
            elapsed = time.monotonic() - start
        head, _, body = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), got[:200])
        self.assertLess(len(body), 100, "a cut body must never look complete")
        self.assertGreaterEqual(elapsed, 0.9, "cut before response_timeout")
        self.assertTrue(upstream_closed.wait(10), "upstream connection left open")
        entry = self.access_entries()[-1]
        self.assertEqual(entry["termination"], "upstream_timeout_mid_response", entry)
        self.assertEqual(entry["status"], 200, entry)
        self.assertGreater(self.server_failures(), failures_before)

    def test_slow_but_steady_body_is_not_cut(self):
        def upstream(conn):
            head, _ = read_head(conn)
            if head is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            for i in range(10):  # 4 s in all, never 1 s of silence
                time.sleep(0.4)
                conn.sendall(b"%d" % i)
            wait_closed(conn, 10)

        server = self.raw_upstream(upstream)
        port = self.start_proxy(server.port, 'response_timeout = "1s"')
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            s.sendall(b"GET /steady HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body, _ = read_response(s, timeout=15)
        self.assertEqual((status, body), (200, b"0123456789"))
        self.assertEqual(self.access_entries()[-1]["termination"], "ok")
        self.assertEqual(self.server_failures(), 0)

    def test_client_slow_to_read_is_not_an_upstream_timeout(self):
        # The upstream could send everything at once; sluice holds it back because the client
        # does not read. That wait is the client's, not upstream silence.
        total = 32 * 1024 * 1024
        block = bytes(range(256)) * 4096  # 1 MiB

        def upstream(conn):
            head, _ = read_head(conn)
            if head is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
            for _ in range(total // len(block)):
                conn.sendall(block)
            wait_closed(conn, 30)

        server = self.raw_upstream(upstream)
        port = self.start_proxy(server.port, 'response_timeout = "1s"')
        s = socket.socket()
        self.add_cleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.settimeout(15)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(3.5)  # not reading: three response_timeouts of backpressure
        status, _, body, _ = read_response(s, timeout=30)
        self.assertEqual(status, 200)
        self.assertEqual(len(body), total)
        self.assertEqual(body[:len(block)], block)
        self.assertEqual(self.access_entries()[-1]["termination"], "ok")

    def test_upstream_waiting_for_the_request_body_is_not_cut(self):
        # The response streams while the request body still arrives: the upstream is silent
        # because the client is (client_body_timeout is the limit then, not response_timeout).
        def upstream(conn):
            head, body = read_head(conn)
            if head is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            echoed = 0
            while True:
                if len(body) > echoed:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(body) - echoed, body[echoed:]))
                    echoed = len(body)
                if echoed >= 10:
                    break
                chunk = conn.recv(65536)
                if not chunk:
                    return
                body += chunk
            conn.sendall(b"0\r\n\r\n")
            wait_closed(conn, 10)

        server = self.raw_upstream(upstream)
        port = self.start_proxy(server.port, 'response_timeout = "1s"')
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
            time.sleep(2.5)
            s.sendall(b"56789")
            status, _, body, _ = read_response(s, timeout=15)
        self.assertEqual((status, body), (200, b"0123456789"))
        self.assertEqual(self.access_entries()[-1]["termination"], "ok")

    # --- a client that goes away aborts its exchange ------------------------------------------

    def client_goes_away(self, leave):
        got_request = threading.Event()
        upstream_closed = threading.Event()

        def upstream(conn):
            head, _ = read_head(conn)
            if head is None:
                return
            got_request.set()
            if wait_closed(conn, 60):  # never answers
                upstream_closed.set()

        server = self.raw_upstream(upstream)
        port = self.start_proxy(server.port, 'response_timeout = "60s"')
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.add_cleanup(s.close)
        s.sendall(b"GET /never HTTP/1.1\r\nHost: x\r\nUser-Agent: leaver\r\n\r\n")
        self.assertTrue(got_request.wait(10), "request never reached the upstream")
        leave(s)
        self.assertTrue(upstream_closed.wait(10),
                        "upstream connection still open 10 s after the client left "
                        "(response_timeout = 60s)")
        entry = self.access_entries()[-1]
        self.assertEqual((entry["status"], entry["termination"]), (499, "client_abort"), entry)
        self.assertEqual(entry["user_agent"], "leaver")
        self.assertEqual(self.ctl_json("show", "stats")["process"]["client_aborts"], 1)
        self.assertIn("client_aborts 1", self.ctl_text("show", "stats"))
        return s

    def test_client_half_close_while_waiting_aborts_the_exchange(self):
        s = self.client_goes_away(lambda s: s.shutdown(socket.SHUT_WR))
        # No response comes after the client's FIN: the connection just ends.
        self.assertEqual(read_until_close(s, 10), (b"", True))

    def test_client_close_while_waiting_releases_the_upstream_connection(self):
        self.client_goes_away(lambda s: s.close())

    # --- interim responses --------------------------------------------------------------------

    def flooding_upstream(self):
        def upstream(conn):
            head, _ = read_head(conn)
            if head is None:
                return
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" * 10000 +
                         b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            wait_closed(conn, 10)

        return self.raw_upstream(upstream)

    def test_interim_flood_gets_502_not_amplified(self):
        port = self.start_proxy(self.flooding_upstream().port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
            got, _ = read_until_close(s, 5)
        self.assertLess(len(got), 400, "%d bytes for one request: %r" % (len(got), got[:100]))
        self.assertTrue(got.startswith(b"HTTP/1.1 502 "), got[:200])
        self.assertEqual(self.access_entries()[-1]["status"], 502)
        self.assertEqual(self.server_failures(), 1)

    def test_interim_flood_with_expect_relays_one_continue_then_502(self):
        port = self.start_proxy(self.flooding_upstream().port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            got, _ = read_until_close(s, 5)
        self.assertLess(len(got), 400, "%d bytes for one request: %r" % (len(got), got[:100]))
        self.assertTrue(got.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 502 "), got[:200])
        self.assertEqual(got.count(b"HTTP/1.1 100"), 1)

    def test_one_continue_is_relayed_when_the_client_asked(self):
        def upstream(conn):
            head, rest = read_head(conn)
            if head is None:
                return
            # Two, as a server may send: the client asked for one.
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n")
            body = rest
            while len(body) < 5:
                body += conn.recv(100)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            wait_closed(conn, 10)

        port = self.start_proxy(self.raw_upstream(upstream).port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            status, _, _, _ = read_response(s)
            self.assertEqual(status, 100)
            s.sendall(b"hello")
            status, _, body, _ = read_response(s)
            self.assertEqual((status, body), (200, b"hello"))
            s.settimeout(0.5)  # nothing else follows: the second 100 was not relayed
            extra = take_unread(s)
            try:
                extra += s.recv(65536)
            except socket.timeout:
                pass
            self.assertEqual(extra, b"")

    def test_continue_is_not_relayed_when_the_client_did_not_ask(self):
        def upstream(conn):
            head, _ = read_head(conn)
            if head is None:
                return
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"
                         b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            wait_closed(conn, 10)

        port = self.start_proxy(self.raw_upstream(upstream).port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            status, _, body, _ = read_response(s)
        self.assertEqual((status, body), (200, b"ok"))

    def test_early_hints_reach_http11_clients_only(self):
        def upstream(conn):
            while True:
                head, _ = read_head(conn)
                if head is None:
                    return
                conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

        port = self.start_proxy(self.raw_upstream(upstream).port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /hints HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, _, _ = read_response(s)
            self.assertEqual(status, 103)
            self.assertEqual(headers.get("link"), "</s.css>; rel=preload")
            status, _, body, _ = read_response(s)
            self.assertEqual((status, body), (200, b"ok"))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /hints HTTP/1.0\r\nHost: x\r\n\r\n")
            status, _, body, _ = read_response(s)
            self.assertEqual((status, body), (200, b"ok"))

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
