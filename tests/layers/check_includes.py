#!/usr/bin/env python3
"""The layer rule for third-party libraries (docs/architecture.md "Layers"): each library's headers
are included only by the layer that owns it, so that a library change touches one folder and the
layers above see only our own types. Reads every .h/.cc under SRC (default: src/ next to tests/)
and exits 1 listing each `#include` of a library outside its owner, 0 when there is none.

  check_includes.py [SRC]      check the tree
  check_includes.py --self-test   check that a tree with a violation of every rule fails
"""
import os
import re
import sys
import tempfile

# library -> (pattern of the included path, the src/ folders that may include it)
RULES = {
    "libuv": (re.compile(r"^uv(\.h$|/)"), ("loop", "net")),
    "llhttp": (re.compile(r"^llhttp\.h$"), ("http",)),
    "OpenSSL": (re.compile(r"^openssl/"), ("tls",)),
    "toml11": (re.compile(r"^toml(\.hpp$|11/|/)"), ("config",)),
    "nghttp2": (re.compile(r"^nghttp2/"), ("http2",)),
    "c-ares": (re.compile(r"^ares(_[a-z_]+)?\.h$"), ("discovery",)),
    "libsystemd": (re.compile(r"^systemd/"), ("server",)),
}

# Known violations, each with the reason it still stands; one that no longer violates fails the
# check too, so this list cannot go stale.
EXCEPTIONS = set()

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def violations(src):
    found = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".h", ".cc", ".hpp", ".cpp")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            layer = rel.split("/", 1)[0] if "/" in rel else ""
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    for library, (pattern, owners) in RULES.items():
                        if pattern.search(m.group(1)) and layer not in owners:
                            found.append((rel, number, library, m.group(1), owners))
    return found


def check(src, exceptions):
    found = violations(src)
    seen = {(rel, library) for rel, _, library, _, _ in found}
    bad = [v for v in found if (v[0], v[2]) not in exceptions]
    for rel, number, library, header, owners in bad:
        print(f"src/{rel}:{number}: includes {header} ({library}), which only "
              f"{' and '.join(o + '/' for o in owners)} may include")
    stale = sorted(e for e in exceptions if e not in seen)
    for rel, library in stale:
        print(f"src/{rel}: listed as an exception for {library} but no longer includes it: "
              "remove it from EXCEPTIONS")
    return 1 if bad or stale else 0


def self_test():
    with tempfile.TemporaryDirectory() as src:
        headers = {"libuv": "<uv.h>", "llhttp": '"llhttp.h"', "OpenSSL": "<openssl/ssl.h>",
                   "toml11": "<toml.hpp>", "nghttp2": "<nghttp2/nghttp2.h>", "c-ares": "<ares.h>",
                   "libsystemd": "<systemd/sd-daemon.h>"}
        assert set(headers) == set(RULES)
        os.makedirs(os.path.join(src, "outside"))
        for library, header in headers.items():
            owner = RULES[library][1][0]
            os.makedirs(os.path.join(src, owner), exist_ok=True)
            with open(os.path.join(src, owner, "ok.cc"), "a") as f:
                f.write(f"#include {header}\n")
            with open(os.path.join(src, "outside", library + ".h"), "w") as f:
                f.write(f"#pragma once\n  #  include {header}  // comment\n")
        with open(os.path.join(src, "outside", "lookalike.h"), "w") as f:
            f.write('#include "loop/uv_types.h"\n#include "net/openssl_free.h"\n#include <fuv.h>\n')
        print("self-test: the violations below are expected")
        found = violations(src)
        if any(v[0] == "outside/lookalike.h" for v in found):
            print("self-test: a header that only looks like a library's was reported")
            return 1
        found = {v[2] for v in found}
        if found != set(RULES):
            print(f"self-test: violations found for {sorted(found)}, expected {sorted(RULES)}")
            return 1
        if check(src, set()) != 1:
            print("self-test: a tree with violations passed")
            return 1
        listed = {("outside/" + library + ".h", library) for library in RULES}
        if check(src, listed | {("outside/gone.h", "libuv")}) != 1:
            print("self-test: a stale exception passed")
            return 1
        for library in RULES:
            os.remove(os.path.join(src, "outside", library + ".h"))
        if check(src, set()) != 0:
            print("self-test: a clean tree failed")
            return 1
    print("self-test: every rule catches its violation")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "src")
    status = check(src, EXCEPTIONS)
    if status == 0:
        print("layer includes: every third-party header is included only by its layer")
    sys.exit(status)
