// Cost driver for the access log (not a test: it asserts nothing about time). Formats and writes
// N lines of a typical proxied request to /dev/null through proxy::AccessLog, in the format given
// ("json" or "combined"), reusing one scratch buffer as HttpSession does, and prints how many heap
// allocations the lines made after the first (steady state).
//
// Build against a RelWithDebInfo tree, from the repository root (one command; access_log.cc is
// compiled in rather than linked from libsluice_proxy.a, whose unity objects pull in the rest):
//   g++ -std=c++20 -O2 -g -DNDEBUG -Isrc -Ibuild/release/src/generated
//     tools/access_log_cost/access_log_cost_driver.cc src/proxy/http/access_log.cc
//     build/release/src/libsluice_base.a -o access_log_cost_driver
// Measure instructions per line as the difference of two runs:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null access_log_cost_driver 1000 json
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null access_log_cost_driver 2000 json
//   (Ir of the second run - Ir of the first) / 1000

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "proxy/http/access_log.h"

namespace {
long g_allocations = 0;
}

void* operator new(size_t size) {
    ++g_allocations;
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 1000;
    const bool json = argc <= 2 || std::strcmp(argv[2], "json") == 0;
    sluice::config::LogConfig config;
    config.access_log = "/dev/null";
    config.access_log_format =
        json ? sluice::config::AccessLogFormat::kJson : sluice::config::AccessLogFormat::kCombined;
    std::string error;
    sluice::proxy::AccessLog log;
    if (!log.open(config, &error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    sluice::proxy::AccessRecord r;
    r.client = "192.0.2.7";
    r.method = "GET";
    r.target = "/api/v1/items?id=42&sort=desc";
    r.status = 200;
    r.bytes_sent = 5120;
    r.referer = "https://www.example.com/items";
    r.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
    r.host = "www.example.com";
    r.upstream = "app1";
    r.pool = "app";
    r.connect_ms = 1;
    r.first_byte_ms = 12;
    r.total_ms = 13;
    r.request_id = "4f2a9c81d7e6b3a04f2a9c81d7e6b3a0";
    r.termination = "ok";
    std::string scratch;
    log.write(r, scratch);
    const long before = g_allocations;
    for (long i = 1; i < n; ++i) log.write(r, scratch);
    std::printf(
        "%ld lines, %.2f allocations per line after the first, last line %zu bytes\n", n,
        n > 1 ? static_cast<double>(g_allocations - before) / static_cast<double>(n - 1) : 0.0,
        scratch.size());
    return 0;
}
