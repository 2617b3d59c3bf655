"""[[listener.route]]: host (exact, *.suffix) and path prefix, first match wins, else the
listener's pool. (An http listener must have a pool or a catch-all route, so config
validation already rules out requests that match nothing.)"""

import json
import unittest

from harness import SluiceTestCase, free_port, http_request, pool_toml, sluice_config


class RoutingTest(SluiceTestCase):
    def test_routes_by_host_and_path_prefix_first_match_wins(self):
        b = self.start_backends(3)
        port = free_port()
        listener = ('name = "web"\nbind = "127.0.0.1:%d"\npool = "www"\n'
                    '[[listener.route]]\nhost = "api.example.com"\npath_prefix = "/v1/"\npool = "api"\n'
                    '[[listener.route]]\nhost = "*.example.com"\npool = "wild"\n'
                    '[[listener.route]]\npath_prefix = "/static/"\npool = "api"\n' % port)
        config = sluice_config(self.workdir, [listener],
                               [pool_toml("www", [b[0].port]), pool_toml("api", [b[1].port]),
                                pool_toml("wild", [b[2].port])])
        self.start_sluice(config, port)

        def backend(host, path):
            status, _, body = http_request(port, path=path, headers={"Host": host})
            self.assertEqual(status, 200)
            return json.loads(body)["backend"]

        self.assertEqual(backend("api.example.com", "/v1/users"), "app2")
        self.assertEqual(backend("API.Example.com:8080", "/v1/users"), "app2")  # case, port
        self.assertEqual(backend("api.example.com", "/v2/users"), "app3")  # falls to *.example.com
        self.assertEqual(backend("shop.example.com", "/"), "app3")
        self.assertEqual(backend("example.com", "/"), "app1")  # *.x does not match x itself
        self.assertEqual(backend("other.org", "/static/a.css"), "app2")
        self.assertEqual(backend("other.org", "/"), "app1")  # the listener's pool


if __name__ == "__main__":
    unittest.main()
