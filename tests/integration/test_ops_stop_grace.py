"""[global] stop_grace (control.md "Signals"): on SIGTERM sluice accepts and serves as usual for
stop_grace, then closes its listeners and drains; a second signal ends both at once."""

import signal
import socket
import time
import unittest

from harness import (RecordingUpstream, SluiceTestCase, free_port, http_request, pool_toml,
                     read_response, sluice_config)


class StopGraceTest(SluiceTestCase):
    def start(self, grace):
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        port = free_port()
        sluice = self.start_sluice(sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % port],
            [pool_toml("app", [upstream.port])], extra_global='stop_grace = "%s"' % grace), port)
        return sluice, port

    def test_serves_new_connections_during_stop_grace_then_stops(self):
        sluice, port = self.start("2s")
        sluice.signal(signal.SIGTERM)
        started = time.monotonic()
        served = 0
        # Well inside the grace period (a slow machine can only make these come earlier).
        while time.monotonic() - started < 1.0:
            status, _, body = http_request(port)
            self.assertEqual((status, body), (200, b"ok"))
            served += 1
            time.sleep(0.1)
        self.assertGreater(served, 3)
        self.assertIsNone(sluice.proc.poll())
        self.assertEqual(sluice.proc.wait(15), 0, sluice.output())
        self.assertGreaterEqual(time.monotonic() - started, 2.0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        self.assertIn("serving on for stop_grace 2000ms", sluice.output())

    def test_second_signal_ends_the_grace_period_at_once(self):
        sluice, port = self.start("60s")
        sluice.signal(signal.SIGTERM)
        time.sleep(0.3)
        self.assertEqual(http_request(port)[0], 200)
        sluice.signal(signal.SIGTERM)
        self.assertEqual(sluice.proc.wait(10), 0, sluice.output())

    def test_a_connection_accepted_before_the_stop_gets_its_request_answered(self):
        # Accepted by a worker, its request not sent yet when the stop begins (an upgrade's old
        # process sees this at every hand-over): it is answered with Connection: close, not
        # closed unanswered as an idle keep-alive connection is.
        sluice, port = self.start("0s")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            time.sleep(0.3)  # accepted by now
            sluice.signal(signal.SIGTERM)
            time.sleep(0.1)  # the workers stopped accepting (well within their 500 ms settle)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body, _ = read_response(s)
            self.assertEqual((status, body), (200, b"ok"))
            self.assertEqual(headers.get("connection"), "close")
            s.settimeout(10)
            self.assertEqual(s.recv(10), b"")
        self.assertEqual(sluice.proc.wait(15), 0, sluice.output())


if __name__ == "__main__":
    unittest.main()
