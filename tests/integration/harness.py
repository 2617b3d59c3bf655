"""Integration test harness: the real sluice binary, real Gunicorn/Django backends and raw-socket
peers, all on 127.0.0.1 with ports chosen at run time. Python standard library only; run with
Debian's /usr/bin/python3 (which has Django for the Gunicorn backends)."""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import weakref

SLUICE_BIN = os.environ.get("SLUICE_BIN", "")
SOURCE_DIR = os.environ.get(
    "SLUICE_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
)
APP_DIR = os.path.join(SOURCE_DIR, "tests", "app")
GUNICORN = shutil.which("gunicorn", path="/usr/bin:/usr/local/bin") or "/usr/bin/gunicorn"


def free_port():
    """A port that was free a moment ago on 127.0.0.1 (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening on %d" % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on 127.0.0.1:%d after %.0fs" % (port, timeout))


class Backend:
    """One Gunicorn process serving tests/app/backend.py."""

    def __init__(self, name, workdir, workers=2, threads=4, worker_class="gthread", wait=True):
        self.name = name
        self.port = free_port()
        self.health_file = os.path.join(workdir, name + ".down")
        self.log = open(os.path.join(workdir, name + ".log"), "wb")
        env = dict(os.environ, BACKEND_NAME=name, HEALTH_FILE=self.health_file)
        args = [GUNICORN, "--chdir", APP_DIR, "--bind", "127.0.0.1:%d" % self.port,
                "--workers", str(workers), "--worker-class", worker_class,
                "--graceful-timeout", "1", "--timeout", "60"]
        if worker_class == "gthread":
            args += ["--threads", str(threads)]
        args.append("backend:application")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if wait:
            self.wait_listening()

    def wait_listening(self):
        wait_port(self.port, 30, self.proc)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        # SIGKILL to the whole process group: no test depends on how a backend stops, and a
        # graceful Gunicorn stop takes over a second (its arbiter waits graceful_timeout for
        # workers that notice SIGTERM only between 1 s polls), in every test's teardown.
        self.kill()
        self.log.close()


class Sluice:
    """The sluice binary on a generated config."""

    def __init__(self, workdir, config_text, name="sluice"):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, name + ".toml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([SLUICE_BIN, "-c", self.config_path], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_listening(self, port, timeout=15.0):
        wait_port(port, timeout, self.proc)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def sluice_config(workdir, listeners, pools, workers=2, extra_global="", log_level="info",
                  access_log="stderr"):
    """TOML text. `listeners` and `pools` are lists of TOML fragments for [[listener]]/[[pool]]."""
    text = ('[global]\nworkers = %d\nshutdown_timeout = "10s"\n'
            'control_socket = "%s/control.sock"\nstate_file = "%s/state.json"\n%s\n'
            '[log]\nlevel = "%s"\naccess_log = "%s"\n\n'
            % (workers, workdir, workdir, extra_global, log_level, access_log))
    for listener in listeners:
        text += "[[listener]]\n" + listener.strip() + "\n\n"
    for pool in pools:
        text += "[[pool]]\n" + pool.strip() + "\n\n"
    return text


def pool_toml(name, ports, extra=""):
    text = 'name = "%s"\n%s\n' % (name, extra)
    for i, port in enumerate(ports):
        text += '[[pool.server]]\nname = "%s%d"\naddress = "127.0.0.1:%d"\n' % (name, i + 1, port)
    return text


class RecordingUpstream:
    """A raw-socket upstream: records every byte it receives, answers with a scripted reply
    (bytes, or a function of the received bytes returning bytes or None to wait for more)."""

    def __init__(self, reply=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close_after=False):
        self.reply = reply
        self.close_after = close_after
        self.received = bytearray()
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        buf = bytearray()
        conn.settimeout(10)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                with self.lock:
                    self.received += data
                buf += data
                reply = self.reply(bytes(buf)) if callable(self.reply) else self.reply
                if reply is None:
                    continue
                conn.sendall(reply)
                buf.clear()
                if self.close_after:
                    return
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        self.stopped = True
        self.sock.close()


class RawServer:
    """A raw-socket upstream: accepts connections and runs `handler(conn)` for each in a thread
    (an OSError ends it quietly; the connection is closed when it returns)."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def read_head(conn):
    """Reads up to the end of a message head: (head without the blank line, bytes after it), or
    (None, b"") when the peer closes first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


class EchoServer:
    """Raw TCP echo server (for L4 tests): echoes bytes, half-closes when the client does."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = bytearray()  # everything any client sent, in arrival order
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn):
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    conn.shutdown(socket.SHUT_WR)
                    return
                self.received += data
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


# Bytes read past the end of a response (pipelined or coalesced responses), per socket, so
# that the next read_response() on the same socket starts with them.
_unread = weakref.WeakKeyDictionary()


def read_response(sock, timeout=10.0):
    """Reads one HTTP/1.1 response (Content-Length, chunked, or until close) from a socket.
    Bytes past its end are kept for the next call on the same socket.
    Returns (status, headers dict lower-cased, body bytes, raw head bytes)."""
    sock.settimeout(timeout)
    buf = _unread.pop(sock, bytearray())

    def fill(what):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed %s: %r" % (what, bytes(buf[:200])))
        buf.extend(chunk)

    def done(status, headers, body, head, consumed):
        if consumed < len(buf):
            _unread[sock] = bytearray(buf[consumed:])
        return status, headers, bytes(body), head

    while b"\r\n\r\n" not in buf:
        fill("before response head")
    head_end = buf.index(b"\r\n\r\n")
    head = bytes(buf[:head_end])
    pos = head_end + 4
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < pos + n:
            fill("after %d of %d body bytes" % (len(buf) - pos, n))
        return done(status, headers, buf[pos:pos + n], head, pos + n)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            while b"\r\n" not in buf[pos:]:
                fill("inside chunked body")
            line_end = buf.index(b"\r\n", pos)
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            pos = line_end + 2
            if size == 0:
                # No trailers are sent by the peers these tests use: the last chunk is "0\r\n\r\n".
                while len(buf) < pos + 2:
                    fill("inside chunked trailer")
                return done(status, headers, out, head, pos + 2)
            while len(buf) < pos + size + 2:
                fill("inside chunk")
            out += buf[pos:pos + size]
            pos += size + 2
    if status in (204, 304) or 100 <= status < 200:
        return done(status, headers, b"", head, pos)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return done(status, headers, buf[pos:], head, len(buf))
        buf.extend(chunk)


def take_unread(sock):
    """Returns (and forgets) the bytes read_response() read past the last response on sock."""
    return bytes(_unread.pop(sock, b""))


def http_request(port, method="GET", path="/", body=b"", headers=None, timeout=10.0):
    """One request on a fresh connection; returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        hdrs = {"Host": "127.0.0.1:%d" % port, "Connection": "close"}
        hdrs.update(headers or {})
        if body or method in ("POST", "PUT"):
            hdrs["Content-Length"] = str(len(body))
        head = "%s %s HTTP/1.1\r\n" % (method, path)
        head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        s.sendall(head.encode("latin-1") + body)
        status, rheaders, rbody, _ = read_response(s, timeout)
        return status, rheaders, rbody


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class SluiceTestCase(unittest.TestCase):
    """Gives each test a work dir and cleans up every process it started."""

    def setUp(self):
        if not SLUICE_BIN or not os.path.exists(SLUICE_BIN):
            self.fail("SLUICE_BIN is not set to the built sluice binary (run through ctest)")
        self.workdir = tempfile.mkdtemp(prefix="sluice-it-")
        self._teardown = []

    def tearDown(self):
        problems = []
        for fn in reversed(self._teardown):
            try:
                fn()
            except AssertionError as e:
                problems.append(str(e))
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)
        if problems:
            self.fail("\n".join(problems))

    def start_backends(self, n=3, **kwargs):
        # Started side by side (their imports take most of a second each), then waited for.
        backends = []
        for i in range(n):
            b = Backend("app%d" % (i + 1), self.workdir, wait=False, **kwargs)
            self._teardown.append(b.stop)
            backends.append(b)
        for b in backends:
            b.wait_listening()
        return backends

    def start_sluice(self, config_text, listen_port, name="sluice"):
        s = Sluice(self.workdir, config_text, name)
        self._teardown.append(lambda: self._stop_sluice(s))
        s.wait_listening(listen_port)
        return s

    def _stop_sluice(self, s):
        rc = s.stop()
        out = s.output()
        # A sanitizer report or an unclean exit fails the test that ran sluice.
        if "Sanitizer" in out or "runtime error:" in out:
            raise AssertionError("sanitizer report in sluice output:\n" + out[-6000:])
        if rc != 0:
            raise AssertionError("sluice exited with %s; log:\n%s" % (rc, out[-4000:]))

    def add_cleanup(self, fn):
        self._teardown.append(fn)

    def dead_socket(self):
        """A socket bound to a 127.0.0.1 port and not listening, open until the test ends:
        connects to its port are refused, and no other test running alongside can take the
        port meanwhile (a port from free_port() could be bound again at once). listen() on it
        brings the port to life."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        self.add_cleanup(s.close)
        return s

    def dead_port(self):
        """The port of dead_socket(): nothing listens there for the whole test."""
        return self.dead_socket().getsockname()[1]
