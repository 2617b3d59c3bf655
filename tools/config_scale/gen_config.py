#!/usr/bin/env python3
"""Writes a large but valid sluice config to stdout, to measure what the config loader costs
(`sluice -t`, `sluicectl reload`) as a config grows. Not a test: it asserts nothing.

  gen_config.py --servers 10000            N servers in N/100 pools (IP literals, no DNS)
  gen_config.py --servers 2000 --pools 1   all of them in one pool
  gen_config.py --certificates 2000 --cert C --key K
                                           one listener whose [listener.tls] certificates
                                           array has N entries (all C and K), on one line

Addresses are 127.x.y.z literals (no resolver is involved) and no pool has a health check, so
a running sluice does no other work for them. --port and --control-dir make the file usable
by a running sluice (the listener's port, and where the control socket and state file go).

Measure, e.g.:
  tools/config_scale/gen_config.py --servers 10000 >/tmp/10k.toml
  /usr/bin/time -f '%es %MKB' build/release/src/sluice -t -c /tmp/10k.toml
  valgrind --tool=callgrind build/release/src/sluice -t -c /tmp/2k.toml
"""

import argparse
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", type=int, default=1000, help="servers in all (default 1000)")
    ap.add_argument("--pools", type=int, default=0, help="pools (default: servers/100, at least 1)")
    ap.add_argument("--certificates", type=int, default=0,
                    help="entries in a one-line [listener.tls] certificates array (default 0: no TLS)")
    ap.add_argument("--cert", default="", help="certificate file for every entry (default: "
                    "/etc/sluice/tls/siteN.pem, which -t then reports missing)")
    ap.add_argument("--key", default="", help="key file for every entry (with --cert)")
    ap.add_argument("--port", type=int, default=18080, help="listener port (default 18080)")
    ap.add_argument("--control-dir", default="/tmp/sluice-scale",
                    help="directory for the control socket and state file")
    args = ap.parse_args()

    pools = args.pools or max(1, args.servers // 100)
    out = []
    out.append('[global]\nworkers = 1\ncontrol_socket = "%s/control.sock"\n'
               'state_file = "%s/state.json"\n' % (args.control_dir, args.control_dir))
    out.append('[log]\naccess_log = "off"\n')
    out.append('[[listener]]\nname = "web"\nbind = "127.0.0.1:%d"\npool = "pool0"\n' % args.port)
    if args.certificates:
        entries = ", ".join('{ cert = "%s", key = "%s" }'
                            % (args.cert or "/etc/sluice/tls/site%d.pem" % i,
                               args.key or "/etc/sluice/tls/site%d.key" % i)
                            for i in range(args.certificates))
        out.append("  [listener.tls]\n  certificates = [ %s ]\n" % entries)
    for p in range(pools):
        out.append('[[pool]]\nname = "pool%d"\nalgorithm = "least_conn"\n' % p)
        # Servers split evenly; the first pools take the remainder.
        count = args.servers // pools + (1 if p < args.servers % pools else 0)
        for s in range(count):
            n = p * (args.servers // pools + 1) + s
            out.append('  [[pool.server]]\n  name = "s%d"\n  address = "127.%d.%d.%d:%d"\n  weight = %d\n'
                       % (n, (n >> 16) & 255, (n >> 8) & 255, 1 + (n & 127), 20000 + n % 40000,
                          1 + n % 10))
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
