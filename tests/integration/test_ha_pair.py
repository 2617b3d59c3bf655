"""A redundant pair: two sluice nodes and a virtual IP with the real keepalived (VRRP).

Network namespaces created here and always removed: two nodes, the backends and a client, each
with an `eth0` joined by a bridge that lives in a namespace of its own (nothing is added to the
host's interfaces). Addresses from 198.18.0.0/24 (RFC 2544) exist only inside them. Each node
runs the real sluice and /usr/sbin/keepalived with the shipped example configuration
(packaging/examples/keepalived/) rendered with these addresses; Gunicorn serves in the backend
namespace; the client loop runs in a thread that entered the client namespace (setns).

One test walks the states in order (each case needs the previous one's end state):
steady state, crash failover, recovery without preemption, keepalived death, planned failover.
The failover gaps are printed ("HA gap ..."). Skipped, with the reason, where namespaces or
keepalived are not available.
"""

import atexit
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness

KEEPALIVED = "/usr/sbin/keepalived"
EXAMPLES = os.path.join(harness.SOURCE_DIR, "packaging", "examples", "keepalived")
CLONE_NEWNET = 0x40000000
NET = "198.18.0."
VIP = NET + "10"
NODE_IP = {1: NET + "11", 2: NET + "12"}
BACKEND_IPS = (NET + "21", NET + "22")
CLIENT_IP = NET + "31"
# Example addresses in the shipped files -> this test's.
RENDER = {"192.0.2.10": VIP, "192.0.2.11": NODE_IP[1], "192.0.2.12": NODE_IP[2],
          "192.0.2.21": BACKEND_IPS[0], "192.0.2.22": BACKEND_IPS[1]}


def run(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=20)


def why_not_runnable():
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not os.access(KEEPALIVED, os.X_OK):
        return "keepalived is not installed (%s)" % KEEPALIVED
    if not shutil.which("ip") or not shutil.which("curl"):
        return "iproute2 or curl missing"
    probe = "slprobe%d" % os.getpid()
    made = run("ip", "netns", "add", probe, check=False)
    run("ip", "netns", "del", probe, check=False)
    if made.returncode != 0:
        return "cannot create a network namespace: " + made.stdout.strip()
    return None


class Lab:
    """The namespaces, links and processes of one run; teardown() removes all of it."""

    def __init__(self):
        self.suffix = "%04x%02x" % (os.getpid() & 0xFFFF, random.randrange(256))
        self.ns = {name: "sl%s-%s" % (name, self.suffix)
                   for name in ("br", "n1", "n2", "be", "cl")}
        self.workdir = tempfile.mkdtemp(prefix="sluice-ha-")
        self.procs = []  # (name, Popen, log file)
        self.torn_down = False
        atexit.register(self.teardown)

    # --- network -------------------------------------------------------------------------------
    def build(self):
        for ns in self.ns.values():
            run("ip", "netns", "add", ns)
        br = self.ns["br"]
        run("ip", "-n", br, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", br, "link", "set", "br0", "up")
        addresses = {"n1": [NODE_IP[1]], "n2": [NODE_IP[2]], "be": list(BACKEND_IPS),
                     "cl": [CLIENT_IP]}
        for name, ips in addresses.items():
            ns = self.ns[name]
            port = "v" + name  # the bridge-side end, inside the bridge namespace
            run("ip", "link", "add", port, "netns", br, "type", "veth", "peer", "name", "eth0",
                "netns", ns)
            run("ip", "-n", br, "link", "set", port, "master", "br0", "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            for ip in ips:
                run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0")

    def holds_vip(self, node):
        out = run("ip", "-n", self.ns["n%d" % node], "-4", "-o", "addr", "show", "dev", "eth0").stdout
        return (VIP + "/") in out

    def vip_holders(self):
        return [n for n in (1, 2) if self.holds_vip(n)]

    # --- processes -----------------------------------------------------------------------------
    def spawn(self, name, ns, args, env=None):
        # Marks every process of this run (and its children), for leftovers().
        env = dict(env or os.environ, SLUICE_HA_RUN=self.suffix)
        log = open(os.path.join(self.workdir, name + ".log"), "ab")
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns[ns]] + args, stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs.append((name, proc, log))
        return proc

    def render(self, src, dst, extra=None):
        with open(os.path.join(EXAMPLES, src)) as f:
            text = f.read()
        for old, new in dict(RENDER, **(extra or {})).items():
            text = text.replace(old, new)
        path = os.path.join(self.workdir, dst)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_backends(self):
        for i, ip in enumerate(BACKEND_IPS):
            env = dict(os.environ, BACKEND_NAME="app%d" % (i + 1), HEALTH_FILE="")
            self.spawn("app%d" % (i + 1), "be",
                       [harness.GUNICORN, "--chdir", harness.APP_DIR, "--bind", ip + ":8000",
                        "--workers", "2", "--worker-class", "gthread", "--threads", "8",
                        "--graceful-timeout", "1", "backend:application"], env=env)

    def start_sluice(self, node, freebind=True):
        control = os.path.join(self.workdir, "n%d-control.sock" % node)
        extra = {"/run/sluice/control.sock": control}
        name = "sluice-n%d" % node
        if not freebind:
            extra["freebind = true"] = "freebind = false"
            name += "-nofreebind"
        conf = self.render("sluice-ha.toml", name + ".toml", extra)
        return self.spawn(name, "n%d" % node, [harness.SLUICE_BIN, "-c", conf])

    def start_keepalived(self, node):
        conf = self.render("keepalived-node%d.conf" % node, "keepalived-n%d.conf" % node)
        pids = [os.path.join(self.workdir, "n%d-%s.pid" % (node, kind))
                for kind in ("keepalived", "vrrp", "checkers")]
        return self.spawn("keepalived-n%d" % node, "n%d" % node,
                          [KEEPALIVED, "-n", "-l", "-D", "-f", conf, "-p", pids[0], "-r", pids[1],
                           "-c", pids[2]])

    def healthz(self, node):
        out = run("ip", "netns", "exec", self.ns["n%d" % node], "curl", "-s", "-o", "/dev/null",
                  "-w", "%{http_code}", "-m", "1", "http://127.0.0.1:9100/healthz", check=False)
        return out.stdout.strip()

    def kill_group(self, proc, sig=signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    def log_of(self, name):
        try:
            with open(os.path.join(self.workdir, name + ".log"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def teardown(self):
        if self.torn_down:
            return
        self.torn_down = True
        for _, proc, _ in self.procs:
            self.kill_group(proc)
        for _, proc, log in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            log.close()
        for ns in self.ns.values():
            # Anything still in the namespace (a child that left its process group).
            pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            if pids:
                time.sleep(0.2)
            run("ip", "netns", "del", ns, check=False)
        if os.environ.get("SLUICE_HA_KEEP") is None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def leftovers(self):
        """Namespaces, host interfaces and processes of this run still present."""
        left = [ns for ns in run("ip", "netns", "list").stdout.split() if self.suffix in ns]
        left += ["link " + line for line in run("ip", "-o", "link").stdout.splitlines()
                 if self.suffix in line]
        mark = ("SLUICE_HA_RUN=%s" % self.suffix).encode()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    if mark in f.read().split(b"\0"):
                        left.append("pid " + pid)
            except OSError:
                pass
        return left


def enter_netns(ns):
    """Moves the calling thread (only) into network namespace `ns`."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


def http_get(path, timeout):
    """One request on a new connection to the VIP: (status or None, error text)."""
    try:
        with socket.create_connection((VIP, 80), timeout=timeout) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: ha.test\r\nConnection: close\r\n\r\n" % path)
                      .encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        if not data.startswith(b"HTTP/1.1 "):
            return None, "no response (%d bytes)" % len(data)
        return int(data[9:12]), ""
    except OSError as e:
        return None, "%s: %s" % (type(e).__name__, e)


class ClientLoop(threading.Thread):
    """Requests to the VIP from the client namespace, one every `period`, each with a timeout
    (3 s: a SYN lost as the VIP moves is retransmitted after 1 s), until stop() or `limit`
    requests. results: (start, end, status, error)."""

    def __init__(self, ns, period=0.05, timeout=3.0, limit=3000):
        super().__init__(daemon=True)
        self.ns, self.period, self.timeout, self.limit = ns, period, timeout, limit
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self):
        enter_netns(self.ns)
        for _ in range(self.limit):
            if self.stopping.is_set():
                return
            start = time.monotonic()
            status, error = http_get("/", self.timeout)
            with self.lock:
                self.results.append((start, time.monotonic(), status, error))
            self.stopping.wait(self.period)

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def failures_since(self, t):
        return [r for r in self.snapshot() if r[0] >= t and r[2] != 200]

    def gap_after(self, t):
        """Seconds from `t` to the end of the first success after the last failure since `t`
        (0 when nothing failed), and the failures."""
        results = [r for r in self.snapshot() if r[0] >= t]
        failed = [r for r in results if r[2] != 200]
        if not failed:
            return 0.0, []
        later = [r for r in results if r[0] > failed[-1][0] and r[2] == 200]
        if not later:
            return None, failed
        return later[0][1] - t, failed


class OneRequest(threading.Thread):
    """A single (slow) request from the client namespace."""

    def __init__(self, ns, path, timeout):
        super().__init__(daemon=True)
        self.ns, self.path, self.timeout = ns, path, timeout
        self.outcome = None

    def run(self):
        enter_netns(self.ns)
        started = time.monotonic()
        status, error = http_get(self.path, self.timeout)
        self.outcome = (status, error, time.monotonic() - started)


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))


class HaPairTest(unittest.TestCase):
    def setUp(self):
        reason = why_not_runnable()
        if reason:
            self.skipTest(reason)
        self.lab = Lab()
        self.addCleanup(self.check_teardown)
        self.lab.build()

    def check_teardown(self):
        self.lab.teardown()
        self.assertEqual(self.lab.leftovers(), [], "teardown left these behind")

    def dump_logs(self):
        for name, _, _ in self.lab.procs:
            print("---- %s ----\n%s" % (name, self.lab.log_of(name)[-3000:]))

    def test_pair_fails_over_and_hands_over(self):
        lab = self.lab
        began = time.monotonic()
        try:
            self.walk(lab)
        except BaseException:
            self.dump_logs()
            raise
        print("HA test time: %.1fs" % (time.monotonic() - began))

    def walk(self, lab):
        lab.start_backends()
        # The leftovers check sees this run's processes (so it can fail at teardown).
        self.assertTrue(any(item.startswith("pid ") for item in lab.leftovers()))
        # Without freebind, the VIP (on no node yet) cannot be bound: an error naming freebind.
        unbound = lab.start_sluice(2, freebind=False)
        self.assertEqual(unbound.wait(timeout=20), 1)
        self.assertIn("bind %s:80: Cannot assign requested address (not an address of this host; "
                      "`freebind = true`" % VIP, lab.log_of("sluice-n2-nofreebind"))
        sluice = {1: lab.start_sluice(1), 2: lab.start_sluice(2)}
        # Node 2 binds the VIP it does not hold: freebind (the shipped config) makes that work.
        for node in (1, 2):
            wait_for("sluice node %d /healthz" % node, lambda n=node: lab.healthz(n) == "200", 20)
        self.assertEqual(lab.vip_holders(), [])
        keepalived = {1: lab.start_keepalived(1)}
        wait_for("the VIP on node 1", lambda: lab.holds_vip(1), 15)
        keepalived[2] = lab.start_keepalived(2)
        time.sleep(1.5)  # node 2 hears node 1's adverts and stays BACKUP

        # --- steady state: the master serves ------------------------------------------------
        client = ClientLoop(lab.ns["cl"])
        client.start()
        try:
            t0 = time.monotonic()
            wait_for("20 answers", lambda: len(client.snapshot()) >= 20, 20)
            self.assertEqual(client.failures_since(t0), [])
            self.assertEqual(lab.vip_holders(), [1])

            # --- crash failover: kill -9 sluice on the master --------------------------------
            t_crash = time.monotonic()
            os.kill(sluice[1].pid, signal.SIGKILL)
            sluice[1].wait()
            wait_for("the VIP on node 2 after the crash", lambda: lab.vip_holders() == [2], 20)
            wait_for("answers again", lambda: client.gap_after(t_crash)[0] is not None and
                     len([r for r in client.snapshot() if r[0] > t_crash and r[2] == 200]) > 5, 20)
            crash_gap, crash_failed = client.gap_after(t_crash)
            print("HA gap crash (kill -9 sluice on the master): %.2fs, %d failed requests"
                  % (crash_gap, len(crash_failed)))
            self.assertLess(crash_gap, 20)

            # --- recovery: sluice back on node 1; nopreempt keeps the VIP on node 2 ----------
            t_rec = time.monotonic()
            sluice[1] = lab.start_sluice(1)
            wait_for("sluice node 1 /healthz again", lambda: lab.healthz(1) == "200", 20)
            time.sleep(3.5)  # rise 2 at interval 1, and then some: node 1 is eligible again
            self.assertEqual(lab.vip_holders(), [2], "nopreempt: node 1 must not take it back")
            self.assertEqual(client.failures_since(t_rec), [])

            # --- keepalived dies on the master (node 2): kill -9 of all its processes --------
            t_ka = time.monotonic()
            lab.kill_group(keepalived[2])
            keepalived[2].wait()
            wait_for("the VIP on node 1 after keepalived died",
                     lambda: lab.holds_vip(1), 20)
            time.sleep(1.0)
            ka_gap, ka_failed = client.gap_after(t_ka)
            print("HA gap keepalived death (kill -9 keepalived on the master): %s, %d failed "
                  "requests; VIP also still on node 2: %s"
                  % ("%.2fs" % ka_gap if ka_gap is not None else "none yet", len(ka_failed),
                     lab.holds_vip(2)))
            wait_for("answers after keepalived died",
                     lambda: client.gap_after(t_ka)[0] is not None, 20)
            self.assertLess(client.gap_after(t_ka)[0], 20)
            # keepalived back on node 2: it cleans up its stale VIP and stays BACKUP.
            keepalived[2] = lab.start_keepalived(2)
            wait_for("the VIP only on node 1", lambda: lab.vip_holders() == [1], 15)

            # --- planned failover: SIGTERM on the master (node 1) with stop_grace -------------
            time.sleep(1.0)
            slow = OneRequest(lab.ns["cl"], "/slow?ms=1000", 10)
            long = OneRequest(lab.ns["cl"], "/slow?ms=8000", 15)
            slow.start()
            long.start()
            time.sleep(0.3)  # both are in flight on node 1
            t_term = time.monotonic()
            sluice[1].send_signal(signal.SIGTERM)
            t_moved = wait_for("the VIP on node 2 after SIGTERM",
                               lambda: lab.vip_holders() == [2], 20)
            sluice[1].wait(timeout=40)
            t_exit = time.monotonic()
            slow.join(timeout=15)
            long.join(timeout=20)
            time.sleep(0.5)
            planned_gap, planned_failed = client.gap_after(t_term)
            print("HA planned failover: VIP moved %.2fs after SIGTERM, node 1 exited after %.2fs; "
                  "gap %.2fs, %d failed requests %s"
                  % (t_moved - t_term, t_exit - t_term, planned_gap or 0.0, len(planned_failed),
                     [r[3] for r in planned_failed]))
            window = [r for r in client.snapshot() if r[0] >= t_term]
            print("HA planned failover: slowest of %d requests %.2fs (a SYN sent to the old node "
                  "as the VIP left is retransmitted after 1 s and reaches the new one)"
                  % (len(window), max(r[1] - r[0] for r in window)))
            print("HA in-flight 1 s request: %s; 8 s request straddling the VIP move: %s"
                  % (slow.outcome, long.outcome))
            self.assertEqual(sluice[1].returncode, 0, lab.log_of("sluice-n1")[-2000:])
            self.assertLessEqual(len(planned_failed), 2, planned_failed)
            self.assertIsNotNone(slow.outcome)
            self.assertEqual(slow.outcome[0], 200, slow.outcome)
            self.assertEqual(lab.healthz(2), "200")
        finally:
            client.stop()
        total = client.snapshot()
        print("HA client: %d requests, %d failed" % (len(total), len([r for r in total if r[2] != 200])))


if __name__ == "__main__":
    unittest.main()
