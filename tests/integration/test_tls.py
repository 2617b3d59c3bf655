"""TLS termination and TLS to upstreams: the real binary, certificates made with the openssl CLI
at test time, Python's ssl module and `openssl s_client` as clients, a Python TLS server (and a
raw recording socket) as upstreams."""

import hashlib
import http.server
import json
import os
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import unittest

from harness import (EchoServer, RecordingUpstream, SluiceTestCase, free_port, pool_toml,
                     read_response, sha256, sluice_config, wait_port)

SLUICE_BIN = os.environ.get("SLUICE_BIN", "")
SLUICECTL = os.environ.get("SLUICECTL_BIN", "")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Pki:
    """A CA and leaf certificates signed by it, as PEM files in `directory`."""

    def __init__(self, directory, name="ca"):
        self.dir = directory
        self.name = name
        self.ca = os.path.join(directory, name + ".pem")
        key = os.path.join(directory, name + ".key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", key, "-out", self.ca, "-days", "2",
                "-subj", "/CN=sluice test %s" % name, cwd=directory)
        self.ca_key = key

    def leaf(self, stem, cn, sans):
        """Writes stem.pem / stem.key for `cn` with subjectAltName `sans` ("DNS:a,IP:1.2.3.4")."""
        key = os.path.join(self.dir, stem + ".key")
        csr = os.path.join(self.dir, stem + ".csr")
        cert = os.path.join(self.dir, stem + ".pem")
        ext = os.path.join(self.dir, stem + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n" % sans)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", csr, "-subj", "/CN=%s" % cn, cwd=self.dir)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext, cwd=self.dir)
        return cert, key


def tls_listener(name, port, pool, certs, extra_listener="", extra_tls=""):
    entries = ", ".join('{ cert = "%s", key = "%s" }' % c for c in certs)
    return ('name = "%s"\nbind = "127.0.0.1:%d"\npool = "%s"\n%s\n'
            '[listener.tls]\ncertificates = [ %s ]\n%s'
            % (name, port, pool, extra_listener, entries, extra_tls))


def client_context(ca, **kwargs):
    ctx = ssl.create_default_context(cafile=ca)
    for k, v in kwargs.items():
        setattr(ctx, k, v)
    return ctx


def tls_get(port, ctx, server_name, path="/", session=None, headers=""):
    """One GET over TLS; returns (status, headers, body, ssl socket info dict)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with ctx.wrap_socket(raw, server_hostname=server_name, session=session) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n"
                   % (path, server_name, headers)).encode())
        status, rheaders, body, _ = read_response(s)
        info = {"version": s.version(), "alpn": s.selected_alpn_protocol(),
                "cert": s.getpeercert(), "session": s.session, "reused": s.session_reused}
        return status, rheaders, body, info


def san_names(cert):
    return sorted(v for k, v in cert.get("subjectAltName", ()) if k == "DNS")


class TlsTerminationTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        self.pki = Pki(self.workdir)
        self.cert_a = self.pki.leaf("a", "a.test", "DNS:a.test,DNS:*.wild.test")
        self.cert_b = self.pki.leaf("b", "b.test", "DNS:b.test")
        self.upstream = RecordingUpstream(
            lambda data: (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                          if b"\r\n\r\n" in data else None))
        self.add_cleanup(self.upstream.close)

    def start_tls(self, extra_tls="", extra_listener="", access_log="stderr", redirect=None,
                  json_log=False, upstream_port=None):
        self.port = free_port()
        if redirect:
            extra_tls += 'redirect_http = "127.0.0.1:%d"\n' % redirect
        config = sluice_config(
            self.workdir,
            [tls_listener("web", self.port, "app", [self.cert_a, self.cert_b], extra_listener,
                          extra_tls)],
            [pool_toml("app", [upstream_port or self.upstream.port])], workers=1,
            access_log=access_log)
        if json_log:
            config = config.replace('[log]\n', '[log]\naccess_log_format = "json"\n')
        self.sluice = self.start_sluice(config, self.port)
        return self.port

    def test_sni_picks_the_certificate_and_the_first_is_the_default(self):
        port = self.start_tls()
        ctx = client_context(self.pki.ca)
        for name, expected in [("a.test", ["*.wild.test", "a.test"]),
                               ("b.test", ["b.test"]),
                               ("x.wild.test", ["*.wild.test", "a.test"])]:
            status, _, body, info = tls_get(port, ctx, name)
            self.assertEqual((status, body), (200, b"ok"), name)
            self.assertEqual(san_names(info["cert"]), expected, name)
        # No match (and a name a wildcard must not cover: two labels): the default (first) one,
        # which the client then rejects for the wrong name.
        for name in ["other.test", "x.y.wild.test"]:
            ctx_any = client_context(self.pki.ca, check_hostname=False)
            _, _, _, info = tls_get(port, ctx_any, name)
            self.assertEqual(san_names(info["cert"]), ["*.wild.test", "a.test"], name)
            with self.assertRaises(ssl.SSLCertVerificationError, msg=name):
                tls_get(port, ctx, name)

    def test_tls13_and_tls12_with_alpn(self):
        port = self.start_tls()
        # The default alpn (http2 = true) is ["h2", "http/1.1"], in server preference order.
        ctx = client_context(self.pki.ca)
        ctx.set_alpn_protocols(["http/1.1", "h2"])
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                             server_hostname="a.test") as s:
            self.assertEqual((s.version(), s.selected_alpn_protocol()), ("TLSv1.3", "h2"))
        ctx11 = client_context(self.pki.ca)
        ctx11.set_alpn_protocols(["http/1.1"])
        status, _, _, info = tls_get(port, ctx11, "a.test")
        self.assertEqual((status, info["version"], info["alpn"]), (200, "TLSv1.3", "http/1.1"))
        ctx12 = client_context(self.pki.ca, maximum_version=ssl.TLSVersion.TLSv1_2)
        ctx12.set_alpn_protocols(["http/1.1"])
        status, _, _, info = tls_get(port, ctx12, "b.test")
        self.assertEqual((status, info["version"], info["alpn"]), (200, "TLSv1.2", "http/1.1"))
        # A client that offers no protocol sluice speaks still gets through, without ALPN.
        ctx_other = client_context(self.pki.ca)
        ctx_other.set_alpn_protocols(["spdy/3.1"])
        status, _, _, info = tls_get(port, ctx_other, "a.test")
        self.assertEqual((status, info["alpn"]), (200, None))

    def test_alpn_list_without_h2_serves_http11_only(self):
        port = self.start_tls(extra_tls='alpn = ["http/1.1"]\n')
        ctx = client_context(self.pki.ca)
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        status, _, _, info = tls_get(port, ctx, "a.test")
        self.assertEqual((status, info["alpn"]), (200, "http/1.1"))

    def s_client(self, port, *args):
        """openssl s_client handshake only; returns (exit code, output)."""
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                            "-servername", "a.test", "-CAfile", self.pki.ca] + list(args),
                           input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=20)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def test_min_version_refuses_older_clients(self):
        # The same TLS 1.1 client completes a handshake with a server that allows 1.1 (so its
        # failure against sluice is sluice's refusal, not the client's own policy).
        legacy = ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]
        control_port = free_port()
        cert, key = self.cert_a
        server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % control_port,
                                   "-cert", cert, "-key", key, "-tls1_1", "-cipher",
                                   "DEFAULT@SECLEVEL=0", "-naccept", "2", "-quiet"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.add_cleanup(server.kill)
        wait_port(control_port, proc=server)
        rc, out = self.s_client(control_port, *legacy)
        self.assertIn("Protocol  : TLSv1.1", out)
        self.assertNotIn("Cipher is (NONE)", out)

        port = self.start_tls()  # min_version defaults to 1.2
        rc, out = self.s_client(port, *legacy)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("alert protocol version", out)
        self.assertIn("Cipher is (NONE)", out)
        rc, out = self.s_client(port, "-tls1_2")
        self.assertIn("Protocol  : TLSv1.2", out)
        self.assertNotIn("Cipher is (NONE)", out)
        self.sluice.stop()

        # min_version = "1.3": a 1.2-only client is refused, a 1.3 one accepted.
        port = self.start_tls(extra_tls='min_version = "1.3"\n')
        ctx12 = client_context(self.pki.ca, maximum_version=ssl.TLSVersion.TLSv1_2)
        with self.assertRaises(ssl.SSLError):
            tls_get(port, ctx12, "a.test")
        status, _, _, info = tls_get(port, client_context(self.pki.ca), "a.test")
        self.assertEqual((status, info["version"]), (200, "TLSv1.3"))

    def test_forwarded_proto_and_access_log_record_tls(self):
        log_path = os.path.join(self.workdir, "access.log")
        port = self.start_tls(access_log=log_path, json_log=True)
        status, _, _, _ = tls_get(port, client_context(self.pki.ca), "b.test", path="/p?q=1")
        self.assertEqual(status, 200)
        got = bytes(self.upstream.received)
        self.assertIn(b"X-Forwarded-Proto: https\r\n", got)
        deadline = time.monotonic() + 5
        entry = None
        while time.monotonic() < deadline:
            with open(log_path) as f:
                lines = [json.loads(line) for line in f.read().splitlines() if line]
            entry = next((e for e in lines if e["target"] == "/p?q=1"), None)
            if entry:
                break
            time.sleep(0.05)
        self.assertIsNotNone(entry)
        self.assertEqual((entry["tls"], entry["sni"], entry["status"]), ("TLSv1.3", "b.test", 200))

    def test_redirect_http_answers_301_to_the_https_url(self):
        redirect = free_port()
        port = self.start_tls(redirect=redirect)
        with socket.create_connection(("127.0.0.1", redirect), timeout=10) as s:
            s.sendall(b"GET /path/x?y=1 HTTP/1.1\r\nHost: www.example.test:%d\r\n\r\n" % redirect)
            status, headers, _, _ = read_response(s)
        self.assertEqual(status, 301)
        self.assertEqual(headers["location"], "https://www.example.test:%d/path/x?y=1" % port)
        self.assertEqual(bytes(self.upstream.received), b"")
        # A malformed request on the redirect port is still refused like any other.
        with socket.create_connection(("127.0.0.1", redirect), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")  # no Host
            self.assertEqual(read_response(s)[0], 400)

    def test_session_resumption_with_tickets_survives_a_reload(self):
        port = self.start_tls()
        ctx = client_context(self.pki.ca)
        _, _, _, first = tls_get(port, ctx, "a.test")
        self.assertFalse(first["reused"])
        self.assertIsNotNone(first["session"])
        _, _, _, second = tls_get(port, ctx, "a.test", session=first["session"])
        self.assertTrue(second["reused"])
        subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, "control.sock"), "reload"],
                       check=True, stdout=subprocess.DEVNULL)
        _, _, _, third = tls_get(port, ctx, "a.test", session=second["session"])
        self.assertTrue(third["reused"])

    def test_handshake_garbage_and_silence_cost_a_connection_only(self):
        port = self.start_tls(extra_listener='client_header_timeout = "1s"\n')
        # Plain HTTP to the TLS port: the handshake fails and the connection closes.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            s.settimeout(5)
            data = s.recv(4096)
            while data and b"HTTP/1.1" not in data:
                more = s.recv(4096)
                if not more:
                    break
                data += more
            self.assertNotIn(b"HTTP/1.1 200", data)
        # Silence: closed by client_header_timeout, which covers the handshake.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            start = time.monotonic()
            s.settimeout(8)
            self.assertEqual(s.recv(4096), b"")
            self.assertLess(time.monotonic() - start, 6)
        self.assertEqual(bytes(self.upstream.received), b"")
        status, _, _, _ = tls_get(port, client_context(self.pki.ca), "a.test")
        self.assertEqual(status, 200)


    def test_large_bodies_both_ways_with_backpressure(self):
        # 24 MiB up and 24 MiB down, byte for byte. The upstream reads slowly at first, so
        # sluice pauses reading the TLS client mid-stream and resumes it later.
        size = 24 * 1024 * 1024
        payload = bytes(range(256)) * (size // 256)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.add_cleanup(listener.close)
        seen = {}

        def upstream():
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(60)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                digest = hashlib.sha256(body)
                got = len(body)
                while got < size:
                    if got < 1024 * 1024:
                        time.sleep(0.1)  # slow start: sluice's upstream queue fills up
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    digest.update(chunk)
                    got += len(chunk)
                seen.update(head=head, got=got, sha=digest.hexdigest())
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
                conn.sendall(payload)
        thread = threading.Thread(target=upstream, daemon=True)
        thread.start()
        port = self.start_tls(upstream_port=listener.getsockname()[1])
        raw = socket.create_connection(("127.0.0.1", port), timeout=60)
        with client_context(self.pki.ca).wrap_socket(raw, server_hostname="a.test") as s:
            s.sendall(b"POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: %d\r\n\r\n" % size)
            s.sendall(payload)
            status, _, body, _ = read_response(s, timeout=60)
        self.assertEqual(status, 200)
        self.assertEqual(seen["got"], size)
        self.assertEqual(seen["sha"], sha256(payload))
        self.assertEqual(len(body), size)
        self.assertEqual(sha256(body), sha256(payload))

    def test_tcp_listener_terminates_tls(self):
        echo = EchoServer()
        self.add_cleanup(echo.close)
        port = free_port()
        config = sluice_config(
            self.workdir,
            [tls_listener("l4", port, "echo", [self.cert_a], 'mode = "tcp"\n')],
            [pool_toml("echo", [echo.port])], workers=1)
        self.start_sluice(config, port)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with client_context(self.pki.ca).wrap_socket(raw, server_hostname="a.test") as s:
            data = os.urandom(300000)
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            self.assertEqual(got, data)


class TlsReloadTest(SluiceTestCase):
    def test_certificate_swap_by_reload_and_broken_files_rejected(self):
        pki = Pki(self.workdir)
        cert = pki.leaf("site", "a.test", "DNS:a.test")
        upstream = RecordingUpstream()
        self.add_cleanup(upstream.close)
        port = free_port()
        config = sluice_config(self.workdir, [tls_listener("web", port, "app", [cert])],
                               [pool_toml("app", [upstream.port])], workers=2)
        s = self.start_sluice(config, port)
        pid = s.proc.pid
        ctx = client_context(pki.ca)
        _, _, _, info = tls_get(port, ctx, "a.test")
        self.assertEqual(san_names(info["cert"]), ["a.test"])

        # New certificate in the same files (more names), reload: served without a restart.
        fresh = pki.leaf("fresh", "a.test", "DNS:a.test,DNS:fresh.a.test")
        for src, dst in zip(fresh, cert):
            os.replace(src, dst)
        ctl = [SLUICECTL, "-s", os.path.join(self.workdir, "control.sock")]
        out = subprocess.run(ctl + ["reload"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(out.returncode, 0, out.stdout)
        _, _, _, info = tls_get(port, ctx, "a.test")
        self.assertEqual(san_names(info["cert"]), ["a.test", "fresh.a.test"])
        self.assertEqual(s.proc.pid, pid)
        self.assertIsNone(s.proc.poll())

        # A broken key: `sluice -t` and the reload both fail naming the file and its entry;
        # the certificate already loaded keeps serving.
        with open(cert[1], "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        check = subprocess.run([SLUICE_BIN, "-t", "-c", s.config_path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        self.assertEqual(check.returncode, 1)
        text = check.stdout.decode()
        line = [n for n, l in enumerate(config.splitlines(), 1) if "certificates" in l][0]
        self.assertIn("%s:%d:" % (s.config_path, line), text)
        self.assertIn(cert[1], text)
        out = subprocess.run(ctl + ["reload"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(cert[1], out.stdout.decode())
        self.assertIn("%s:%d:" % (s.config_path, line), out.stdout.decode())
        status, _, _, info = tls_get(port, ctx, "fresh.a.test")
        self.assertEqual(status, 200)
        self.assertEqual(san_names(info["cert"]), ["a.test", "fresh.a.test"])


class TlsUpstreamHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server API
        body = json.dumps({"path": self.path, "peer": self.server.connections}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class TlsUpstream(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """HTTPS on 127.0.0.1 with a certificate for IP 127.0.0.1; counts TCP connections."""
    daemon_threads = True

    def __init__(self, cert, key):
        super().__init__(("127.0.0.1", 0), TlsUpstreamHandler)
        self.connections = 0
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def get_request(self):
        sock, addr = self.socket.accept()
        self.connections += 1
        sock.settimeout(10)
        return self.ctx.wrap_socket(sock, server_side=True), addr

    def close(self):
        self.shutdown()
        self.server_close()


class TlsUpstreamTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        self.pki = Pki(self.workdir)
        self.other = Pki(self.workdir, "other-ca")
        cert, key = self.pki.leaf("upstream", "upstream", "IP:127.0.0.1")
        self.upstream = TlsUpstream(cert, key)
        self.add_cleanup(self.upstream.close)

    def start_proxy(self, pool_extra, name="sluice"):
        port = free_port()
        workdir = os.path.join(self.workdir, name)  # own control socket and state file
        os.makedirs(workdir)
        config = sluice_config(
            workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n' % port],
            [pool_toml("app", [self.upstream.server_address[1]], pool_extra)], workers=1)
        self.start_sluice(config, port, name=name)
        return port

    def keepalive_gets(self, port, n):
        statuses = []
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            for i in range(n):
                s.sendall(b"GET /n%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
                statuses.append(read_response(s)[0])
        return statuses

    def test_verified_upstream_tls_with_pooled_connections(self):
        port = self.start_proxy('tls = true\ntls_ca = "%s"\n' % self.pki.ca)
        self.assertEqual(self.keepalive_gets(port, 5), [200] * 5)
        # Five requests, one TLS connection upstream: pooled and reused.
        self.assertEqual(self.upstream.connections, 1)

    def test_verification_failure_is_a_502_and_verify_false_accepts(self):
        port = self.start_proxy('tls = true\ntls_ca = "%s"\nretries = 0\n' % self.other.ca,
                                name="wrong-ca")
        self.assertEqual(self.keepalive_gets(port, 1), [502])
        port = self.start_proxy('tls = true\ntls_verify = false\ntls_ca = "%s"\n' % self.other.ca,
                                name="no-verify")
        self.assertEqual(self.keepalive_gets(port, 2), [200, 200])

    def test_health_checks_speak_tls_and_report_verification_failures(self):
        check = ('\n[pool.health_check]\ntype = "http"\npath = "/healthz"\ninterval = "200ms"\n'
                 'timeout = "1s"\nrise = 1\nfall = 1\n')
        good = self.start_proxy('tls = true\ntls_ca = "%s"\n%s' % (self.pki.ca, check), "good")
        bad = self.start_proxy('tls = true\ntls_ca = "%s"\n%s' % (self.other.ca, check), "bad")

        def servers(name):
            out = subprocess.run([SLUICECTL, "-s", os.path.join(self.workdir, name, "control.sock"),
                                  "--json", "show", "servers"], capture_output=True, text=True,
                                 timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            return json.loads(out.stdout)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = json.dumps(servers("bad"))
            if "certificate verify failed" in text:
                break
            time.sleep(0.1)
        self.assertIn("certificate verify failed", text)
        self.assertIn('"down"', text)
        self.assertIn('"up"', json.dumps(servers("good")))
        self.assertNotIn("certificate verify failed", json.dumps(servers("good")))
        self.assertEqual(self.keepalive_gets(good, 1), [200])
        self.assertEqual(self.keepalive_gets(bad, 1), [503])

    def test_missing_ca_file_fails_the_config_check(self):
        config = sluice_config(
            self.workdir, ['name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\n' % free_port()],
            [pool_toml("app", [1], 'tls = true\ntls_ca = "%s/nope.pem"\n' % self.workdir)])
        path = os.path.join(self.workdir, "bad.toml")
        with open(path, "w") as f:
            f.write(config)
        out = subprocess.run([SLUICE_BIN, "-t", "-c", path], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        self.assertEqual(out.returncode, 1)
        line = [n for n, l in enumerate(config.splitlines(), 1) if l.startswith("tls_ca")][0]
        self.assertIn("%s:%d:" % (path, line), out.stdout.decode())
        self.assertIn("nope.pem", out.stdout.decode())


if __name__ == "__main__":
    unittest.main()
