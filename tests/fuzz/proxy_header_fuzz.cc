// libFuzzer target: net::ProxyHeaderParser (PROXY protocol v1 and v2) and the writers.
//   - The input is the bytes a balancer would send; the parser sees them whole, one byte at a
//     time, cut in two at a data-derived point, and in data-derived pieces of 0 to 39 bytes:
//     verdict, bytes consumed, reason and header must be identical every time.
//   - Invariants of each verdict (need-more takes everything, done's count is the header's
//     length and within the caps, an error stops at the offending byte).
//   - What parses with addresses is written back as v1 and as v2 and parsed again: the same
//     addresses and ports, and writing the re-parsed header gives the same bytes again; what
//     parses without addresses (LOCAL, UNKNOWN) round-trips as v2 LOCAL.
// Built from src/net/proxy_header.cc alone (no libuv, no other layer).
//
// Run: build/fuzz/tests/fuzz/proxy_header_fuzz -max_total_time=60 \
//        -dict=tests/fuzz/proxy_header.dict /tmp/corpus tests/fuzz/corpus/proxy_header

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "net/proxy_header.h"

namespace {

using sluice::net::ProxyHeader;
using sluice::net::ProxyHeaderParser;
using Status = ProxyHeaderParser::Status;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

struct Outcome {
    Status status = Status::kNeedMore;
    size_t consumed = 0;
    const char* reason = "";
    ProxyHeader header;
};

// The address part of a sockaddr_storage (family, port, address bytes), nothing else.
bool sameEndpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET) {
        const auto& x = reinterpret_cast<const sockaddr_in&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in&>(b);
        return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    if (a.ss_family == AF_INET6) {
        const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
        return x.sin6_port == y.sin6_port &&
               std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
    }
    return false;
}

void same(const Outcome& a, const Outcome& b) {
    check(a.status == b.status);
    check(a.consumed == b.consumed);
    check(std::strcmp(a.reason, b.reason) == 0);
    if (a.status != Status::kDone) return;
    check(a.header.version == b.header.version);
    check(a.header.bytes == b.header.bytes);
    check(a.header.has_addresses == b.header.has_addresses);
    if (a.header.has_addresses) {
        check(sameEndpoint(a.header.source, b.header.source));
        check(sameEndpoint(a.header.destination, b.header.destination));
    }
}

// Feeds `input` in pieces of the sizes `next_size` returns, then one empty piece.
template <typename NextSize>
Outcome parse(std::string_view input, NextSize next_size) {
    ProxyHeaderParser parser;
    Outcome o;
    size_t pos = 0;
    for (bool last = false; !last;) {
        last = pos == input.size();
        const std::string_view piece = input.substr(pos, next_size());
        const ProxyHeaderParser::Result r = parser.feed(piece);
        check(r.consumed <= piece.size());
        o.status = r.status;
        o.consumed += r.consumed;
        o.reason = r.reason;
        if (r.status == Status::kNeedMore) {
            check(r.consumed == piece.size());
            check(*r.reason == '\0');
        } else {
            if (r.status == Status::kError) check(r.consumed >= 1 && *r.reason != '\0');
            // A finished parser keeps its verdict and takes nothing more.
            const ProxyHeaderParser::Result again = parser.feed(input);
            check(again.status == r.status && again.consumed == 0);
            check(std::strcmp(again.reason, r.reason) == 0);
            break;
        }
        pos += piece.size();
    }
    if (o.status == Status::kDone) {
        o.header = parser.header();
        check(o.header.bytes == o.consumed);
        check(o.header.version == 1 || o.header.version == 2);
        check(o.header.bytes <= (o.header.version == 1 ? sluice::net::kProxyV1MaxBytes
                                                       : sluice::net::kProxyV2MaxBytes));
    }
    if (o.status == Status::kNeedMore) check(o.consumed == input.size());
    return o;
}

Outcome parseWhole(std::string_view input) {
    return parse(input, [&] { return input.size(); });
}

void roundTrip(const ProxyHeader& h) {
    const auto& src = reinterpret_cast<const sockaddr&>(h.source);
    const auto& dst = reinterpret_cast<const sockaddr&>(h.destination);
    if (!h.has_addresses) {
        char buf[16];
        const size_t n = sluice::net::writeProxyV2Local(buf);
        check(n == 16);
        const Outcome o = parseWhole(std::string_view(buf, n));
        check(o.status == Status::kDone && o.consumed == n && !o.header.has_addresses);
        return;
    }
    char v1[sluice::net::kProxyV1MaxBytes];
    char v2[sluice::net::kProxyV2HeaderWrittenMax];
    const size_t n1 = sluice::net::writeProxyV1(src, dst, v1);
    const size_t n2 = sluice::net::writeProxyV2(src, dst, v2);
    check(n1 > 0 && n2 > 0);
    for (const std::string_view wire : {std::string_view(v1, n1), std::string_view(v2, n2)}) {
        const Outcome o = parseWhole(wire);
        check(o.status == Status::kDone && o.consumed == wire.size());
        check(o.header.has_addresses);
        check(sameEndpoint(o.header.source, h.source));
        check(sameEndpoint(o.header.destination, h.destination));
        // Written again from what was parsed: the same bytes (writing is a fixpoint).
        char again[sluice::net::kProxyV1MaxBytes];
        const auto& s2 = reinterpret_cast<const sockaddr&>(o.header.source);
        const auto& d2 = reinterpret_cast<const sockaddr&>(o.header.destination);
        const size_t n = wire.data() == v1 ? sluice::net::writeProxyV1(s2, d2, again)
                                           : sluice::net::writeProxyV2(s2, d2, again);
        check(std::string_view(again, n) == wire);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Every byte is wire bytes (the seeds are plain headers); the cuts are derived from the
    // data rather than taken from it.
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const Outcome whole = parseWhole(input);
    same(parse(input, [] { return size_t{1}; }), whole);
    if (size > 0) {
        const size_t cut = (data[size - 1] * 257u + data[size / 2]) % (size + 1);
        bool first = true;
        same(parse(input,
                   [&] {
                       const size_t n = first ? cut : input.size();
                       first = false;
                       return n;
                   }),
             whole);
        uint32_t state = data[size - 1] * 2654435761u + static_cast<uint32_t>(size);
        same(parse(input,
                   [&] {
                       state = state * 1103515245u + 12345u;
                       return size_t{(state >> 16) % 40};  // pieces of 0 to 39 bytes
                   }),
             whole);
    }
    if (whole.status == Status::kDone) roundTrip(whole.header);
    return 0;
}
