"""slow_start: a server that comes back up takes a share of requests that grows over the ramp."""

import json
import os
import time
import unittest

from harness import SluiceTestCase, free_port, http_request, sluice_config


class SlowStartTest(SluiceTestCase):
    RAMP_S = 8.0

    def start_proxy(self, backends, algorithm, slow_start):
        self.port = free_port()
        servers = "".join('[[pool.server]]\nname = "%s"\naddress = "127.0.0.1:%d"\n'
                          % (b.name, b.port) for b in backends)
        pool = ('name = "app"\nalgorithm = "%s"\nslow_start = "%s"\n'
                '  [pool.health_check]\n  type = "http"\n  path = "/healthz"\n'
                '  interval = "250ms"\n  timeout = "5s"\n  rise = 1\n  fall = 1\n%s'
                % (algorithm, slow_start, servers))
        config = sluice_config(self.workdir,
                               ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"' % self.port],
                               [pool], access_log="off")
        self.sluice = self.start_sluice(config, self.port)

    def share_of(self, name, seconds, max_requests=300):
        """Share of `name` among the requests answered in the next `seconds` (bounded)."""
        deadline = time.monotonic() + seconds
        give_up = deadline + 10  # a loaded machine: at least 20 requests, within bounds
        hits = total = 0
        while total < max_requests and (time.monotonic() < deadline or
                                        (total < 20 and time.monotonic() < give_up)):
            status, _, body = http_request(self.port)
            self.assertEqual(status, 200)
            hits += json.loads(body)["backend"] == name
            total += 1
            time.sleep(0.005)
        while time.monotonic() < deadline:  # the window's time, even when the count ran out
            time.sleep(0.05)
        self.assertGreaterEqual(total, 20)
        print("%s: %d/%d in %.1fs" % (name, hits, total, seconds), flush=True)
        return hits / total

    def wait_log(self, text, timeout=15.0):
        deadline = time.monotonic() + timeout
        while text not in self.sluice.output():
            self.assertLess(time.monotonic(), deadline, "never logged: " + text)
            time.sleep(0.05)

    def wait_for(self, name, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if json.loads(http_request(self.port)[2])["backend"] == name:
                return time.monotonic()
            time.sleep(0.01)
        self.fail("%s never answered" % name)

    def ramp_after_health_comes_back(self, algorithm, slow_start):
        """Shares of app2 in windows after it comes back up: [first 1.5 s, ..., after ramp]."""
        a, b = self.start_backends(2)
        open(b.health_file, "w").close()  # app2 fails its first check: down
        self.start_proxy([a, b], algorithm, slow_start)
        self.wait_log("server app2 is DOWN")
        self.assertEqual(self.share_of("app2", 0.5), 0.0)
        os.unlink(b.health_file)  # passes its next check: up, ramping from there
        self.wait_for("app2")
        early = self.share_of("app2", 1.5)
        middle = self.share_of("app2", 2.0)  # about 2-4 s into the ramp
        time.sleep(self.RAMP_S - 3.5 + 0.5)
        late = self.share_of("app2", 1.5)   # past the ramp
        return early, middle, late

    def test_weighted_round_robin_share_grows_over_the_ramp(self):
        early, middle, late = self.ramp_after_health_comes_back("weighted_round_robin", "8s")
        # Full weight would be 1/2 at once; the ramp gives ~5-15% in the first 1.5 s, ~25-35%
        # at 2-4 s (share s/(1+s)), and 1/2 after it.
        self.assertLess(early, 0.25, (early, middle, late))
        self.assertGreater(late, 0.4, (early, middle, late))
        self.assertLess(early, middle, (early, middle, late))
        self.assertLess(middle, late + 0.05, (early, middle, late))

    def test_random_share_grows_over_the_ramp(self):
        early, _, late = self.ramp_after_health_comes_back("random", "8s")
        self.assertLess(early, 0.3, (early, late))
        self.assertGreater(late, 0.3, (early, late))

    def test_without_slow_start_the_server_takes_its_share_at_once(self):
        early, _, late = self.ramp_after_health_comes_back("weighted_round_robin", "0s")
        self.assertGreater(early, 0.4, (early, late))
        self.assertGreater(late, 0.4, (early, late))


if __name__ == "__main__":
    unittest.main()
