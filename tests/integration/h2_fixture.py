"""Shared by the HTTP/2 integration tests (test_http2.py, test_http2_abuse.py): an HTTP/2 client
over Python's h2 library (Debian python3-h2) that can send what a hostile client sends, raw frame
bytes, a reply function for harness.RecordingUpstream, and a test case base that starts sluice on
an h2c (prior-knowledge) listener."""

import json
import os
import socket
import ssl
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RecordingUpstream, SluiceTestCase, free_port, pool_toml,  # noqa: E402
                     sluice_config)

# RFC 9113 section 7 error codes the tests look for.
PROTOCOL_ERROR = 0x1
REFUSED_STREAM = 0x7
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB


def request_complete(data):
    """A reply function for RecordingUpstream: answers once per complete bodiless request."""
    if b"\r\n\r\n" not in data:
        return None
    return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\n\r\nok"


class H2Client:
    """A plain-TCP (h2c prior knowledge) or TLS (ALPN h2) HTTP/2 client over the h2 library,
    with outbound validation off so that tests can send what a hostile client sends."""

    def __init__(self, port, tls_ctx=None, server_name=None, timeout=10.0):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls_ctx is not None:
            sock = tls_ctx.wrap_socket(sock, server_hostname=server_name)
            assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.sock = sock
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=False,
                                           normalize_outbound_headers=False,
                                           validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.streams = {}  # id -> {"headers", "data", "ended", "reset"}
        self.goaway = None  # error code once a GOAWAY came
        self.closed = False
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def request(self, path="/", method="GET", authority="example.test", extra=(), body=None,
                end=True, scheme="http"):
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", scheme), (":authority", authority),
                   (":path", path)] + list(extra)
        self.conn.send_headers(sid, headers, end_stream=end and body is None)
        self.streams[sid] = {"headers": None, "data": bytearray(), "ended": False, "reset": None}
        if body is not None:
            self.conn.send_data(sid, body, end_stream=end)
        self.flush()
        return sid

    def pump(self, timeout=10.0):
        """Reads once (up to `timeout`); False when the connection is closed."""
        if self.closed:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            return False
        for ev in events:
            st = self.streams.get(getattr(ev, "stream_id", None))
            if isinstance(ev, h2.events.ResponseReceived) and st is not None:
                st["headers"] = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                if st is not None:
                    st["data"] += ev.data
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and st is not None:
                st["ended"] = True
            elif isinstance(ev, h2.events.StreamReset) and st is not None:
                st["reset"] = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = ev.error_code
        try:
            self.flush()
        except OSError:
            self.closed = True
        return True

    def wait(self, sid, timeout=15.0):
        """Until stream `sid` ended or was reset (or the connection ended)."""
        deadline = time.monotonic() + timeout
        st = self.streams[sid]
        while not st["ended"] and st["reset"] is None and time.monotonic() < deadline:
            if not self.pump(max(0.05, deadline - time.monotonic())):
                break
        return st

    def wait_goaway(self, timeout=10.0):
        """Reads until a GOAWAY came or the connection closed (or `timeout`)."""
        deadline = time.monotonic() + timeout
        while self.goaway is None and not self.closed and time.monotonic() < deadline:
            self.pump(1.0)

    def status(self, sid):
        st = self.wait(sid)
        return int(st["headers"][":status"]) if st["headers"] else None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def frame(ftype, flags, sid, payload=b""):
    return (struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid)
            + payload)


def json_log(config_text):
    """Access log lines as JSON (one object per line, to sluice's stderr)."""
    return config_text.replace("[log]\n", '[log]\naccess_log_format = "json"\n')


def access_lines(output):
    return [json.loads(line) for line in output.splitlines()
            if line.startswith("{") and '"termination"' in line]


class H2TestCase(SluiceTestCase):
    """sluice on an h2c listener, recording upstreams and clients that are cleaned up."""

    def start_h2c(self, pool_ports, extra_listener="", workers=1, access_log="stderr"):
        self.port = free_port()
        listener = ('name = "web"\nbind = "127.0.0.1:%d"\npool = "app"\nh2c = true\n%s'
                    % (self.port, extra_listener))
        self.sluice = self.start_sluice(
            json_log(sluice_config(self.workdir, [listener], [pool_toml("app", pool_ports)],
                                   workers=workers, access_log=access_log)), self.port)
        return self.port

    def recording(self, reply=request_complete):
        up = RecordingUpstream(reply=reply)
        self.add_cleanup(up.close)
        return up

    def client(self, port=None, **kwargs):
        c = H2Client(port or self.port, **kwargs)
        self.add_cleanup(c.close)
        return c

    def assert_served(self):
        """A second client on a new connection is served normally."""
        c = self.client()
        sid = c.request("/")
        self.assertEqual(c.status(sid), 200)
        c.close()
