"""A real DNS server for the discovery tests: dnsmasq (Debian dnsmasq-base) on a free loopback
port, answering from a hosts file the test rewrites (SIGHUP re-reads it) and from SRV records
given at start; and Gunicorn backends bound on other loopback addresses (127.0.0.2, .3, .4) so
one name can have several addresses on one port."""

import os
import signal
import socket
import subprocess
import time

from harness import APP_DIR, GUNICORN

DNSMASQ = "/usr/sbin/dnsmasq"


def free_udp_tcp_port():
    """A port free for both UDP and TCP on 127.0.0.1 a moment ago."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                    return port
            except OSError:
                continue
    raise RuntimeError("no free port for dnsmasq")


def free_port_on(hosts):
    """A TCP port free on every address in `hosts`."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        ok = True
        for host in hosts[1:]:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind((host, port))
            except OSError:
                ok = False
                break
        if ok:
            return port
    raise RuntimeError("no port free on %s" % hosts)


def wait_connect(host, port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s before listening on %s:%d"
                               % (proc.returncode, host, port))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on %s:%d" % (host, port))


class Dnsmasq:
    def __init__(self, workdir, hosts=None, srv=(), host_records=()):
        """hosts: {name: [ip, ...]} for the hosts file; srv: ["_s._tcp.x,target,port,prio,weight"];
        host_records: ["name,ip"] fixed at start."""
        self.workdir = workdir
        self.port = free_udp_tcp_port()
        self.hosts_path = os.path.join(workdir, "dns.hosts")
        self.write_hosts(hosts or {}, reload=False)
        self.log = open(os.path.join(workdir, "dnsmasq.log"), "wb")
        args = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--addn-hosts=" + self.hosts_path, "--port=%d" % self.port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
                "--local=/test/", "--local-ttl=1", "--log-facility=-", "-u", "root"]
        args += ["--srv-host=" + s for s in srv]
        args += ["--host-record=" + h for h in host_records]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        wait_connect("127.0.0.1", self.port, self.proc, timeout=10)
        self.stopped = False

    def write_hosts(self, hosts, reload=True):
        tmp = self.hosts_path + ".tmp"
        with open(tmp, "w") as f:
            for name, ips in hosts.items():
                for ip in ips:
                    f.write("%s %s\n" % (ip, name))
        os.replace(tmp, self.hosts_path)
        if reload:
            self.proc.send_signal(signal.SIGHUP)

    def pause(self):
        """Stops answering (queries time out) until resume()."""
        self.proc.send_signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
        self.stopped = False

    def stop(self):
        if self.proc.poll() is None:
            if self.stopped:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class HostBackend:
    """One Gunicorn process serving tests/app/backend.py on host:port."""

    def __init__(self, name, workdir, host, port, threads=8):
        self.name = name
        self.host = host
        self.port = port
        self.health_file = os.path.join(workdir, name + ".down")
        self.log = open(os.path.join(workdir, name + ".log"), "wb")
        env = dict(os.environ, BACKEND_NAME=name, HEALTH_FILE=self.health_file)
        args = [GUNICORN, "--chdir", APP_DIR, "--bind", "%s:%d" % (host, port), "--workers", "1",
                "--worker-class", "gthread", "--threads", str(threads), "--graceful-timeout", "1",
                "--timeout", "60", "backend:application"]
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_listening(self):
        wait_connect(self.host, self.port, self.proc)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
