"""L4 proxying through the real sluice binary to raw-socket upstreams."""

import os
import socket
import threading
import time
import unittest

from harness import EchoServer, SluiceTestCase, free_port, pool_toml, sluice_config


class TcpProxyTest(SluiceTestCase):
    def start_proxy(self, ports, pool_extra="", listener_extra=""):
        port = free_port()
        config = sluice_config(
            self.workdir,
            ['name = "l4"\nbind = "127.0.0.1:%d"\nmode = "tcp"\npool = "echo"\n%s'
             % (port, listener_extra)],
            [pool_toml("echo", ports, pool_extra)], workers=2)
        self.start_sluice(config, port)
        return port

    def test_echoes_one_mebibyte_exactly(self):
        echo = EchoServer()
        self.add_cleanup(echo.close)
        port = self.start_proxy([echo.port])
        payload = os.urandom(1024 * 1024)
        received = bytearray()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            # Write and read concurrently: the proxy must not deadlock on backpressure.
            def reader():
                while True:
                    data = s.recv(65536)
                    if not data:
                        return
                    received.extend(data)

            t = threading.Thread(target=reader)
            t.start()
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)  # half-close: the echo server closes after echoing
            t.join(20)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(received), len(payload))
        self.assertEqual(bytes(received), payload)

    def test_half_close_keeps_the_other_direction_open(self):
        # Upstream answers only after it sees the client's FIN.
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        self.add_cleanup(lsock.close)

        def answer(conn):
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            conn.sendall(b"got:" + data)
            conn.close()

        def serve():  # every connection (the readiness probe makes one too)
            while True:
                try:
                    conn, _ = lsock.accept()
                except OSError:
                    return
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        port = self.start_proxy([lsock.getsockname()[1]])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"hello")
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        self.assertEqual(reply, b"got:hello")

    def test_failed_connect_moves_to_the_next_server(self):
        echo = EchoServer()
        self.add_cleanup(echo.close)
        dead = self.dead_port()
        port = self.start_proxy([dead, echo.port], pool_extra="retries = 1")
        for i in range(4):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"ping%d" % i)
                self.assertEqual(s.recv(100), b"ping%d" % i)

    def test_no_server_closes_the_connection(self):
        dead = self.dead_port()
        port = self.start_proxy([dead], pool_extra="retries = 0")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(5)
            self.assertEqual(s.recv(100), b"")

    def test_idle_timeout_closes_a_silent_session(self):
        echo = EchoServer()
        self.add_cleanup(echo.close)
        port = self.start_proxy([echo.port], listener_extra='idle_timeout = "500ms"')
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"x")
            self.assertEqual(s.recv(10), b"x")
            start = time.monotonic()
            s.settimeout(5)
            self.assertEqual(s.recv(10), b"")
            self.assertLess(time.monotonic() - start, 4)


if __name__ == "__main__":
    unittest.main()
