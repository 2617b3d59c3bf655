// libFuzzer target: HeadScanner (which checks runs of bytes at a time) against the byte-at-a-time
// ReferenceHeadScanner it replaced. Both scan the same input in the same pieces (whole, one byte
// at a time, and data-derived pieces) in all three modes and under data-derived limits; every
// Result (complete, done, error, reason) and every accessor must agree after every call.
//
// Run: build/h-fuzz/tests/fuzz/head_scanner_fuzz -max_total_time=60 \
//        -dict=tests/fuzz/request_parser.dict /tmp/corpus tests/fuzz/corpus/request_parser \
//        tests/fuzz/corpus/response_parser

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "http/head_scanner.h"
#include "reference_head_scanner.h"

namespace {

using sluice::http::HeadScanner;
using sluice::http::reference::ReferenceHeadScanner;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void same(const HeadScanner::Result& a, const HeadScanner::Result& b) {
    check(a.complete == b.complete);
    check(a.done == b.done);
    check(a.error == b.error);
    check(std::strcmp(a.reason, b.reason) == 0);
}

// Feeds `input` to both scanners in pieces of the sizes `next_size` returns.
template <typename NextSize>
void compare(std::string_view input, HeadScanner::Mode mode, uint64_t max_bytes,
             unsigned max_fields, NextSize next_size) {
    HeadScanner fast;
    ReferenceHeadScanner slow;
    fast.reset(mode, max_bytes, max_fields);
    slow.reset(mode, max_bytes, max_fields);
    size_t pos = 0;
    // One more call than needed: a finished scanner must keep its verdict.
    for (bool last = false; !last;) {
        last = pos == input.size();
        const std::string_view piece = input.substr(pos, next_size());
        const HeadScanner::Result a = fast.scan(piece);
        const HeadScanner::Result b = slow.scan(piece);
        same(a, b);
        check(a.complete <= piece.size());
        check(fast.started() == slow.started());
        check(fast.done() == slow.done());
        check(fast.bytes() == slow.bytes());
        check(fast.methodIsToken() == slow.methodIsToken());
        pos += piece.size();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Every byte is head bytes (the seed corpora are plain requests and responses); the mode,
    // limits and pieces are derived from the data rather than taken from it.
    std::string_view input(reinterpret_cast<const char*>(data), size);
    if (input.empty()) return 0;
    const unsigned last = data[size - 1];
    const unsigned mid = data[size / 2];
    const unsigned flags = mid ^ (size & 0xff);
    const auto mode = static_cast<HeadScanner::Mode>((last ^ (size >> 8)) % 3);
    uint64_t max_bytes = 8192;
    if (flags & 0x4) max_bytes = (flags & 0x8) ? last % 64 : 64 + last * 3;
    const unsigned max_fields = (flags & 0x10) ? (last >> 4) % 5 : 64;

    compare(input, mode, max_bytes, max_fields, [&] { return input.size(); });
    compare(input, mode, max_bytes, max_fields, [] { return size_t{1}; });
    uint32_t state = last * 2654435761u + static_cast<uint32_t>(size);
    compare(input, mode, max_bytes, max_fields, [&] {
        state = state * 1103515245u + 12345u;
        return size_t{(state >> 16) % 40};  // pieces of 0 to 39 bytes
    });
    return 0;
}
