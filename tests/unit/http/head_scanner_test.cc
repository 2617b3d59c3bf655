#include "http/head_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

using Error = HeadScanner::Error;
using Mode = HeadScanner::Mode;

struct Verdict {
    Error error = Error::kNone;
    std::string reason;
    size_t complete = 0;  // end of the last complete line in the input
    bool done = false;
    bool operator==(const Verdict&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Verdict& v) {
    return os << "{error " << static_cast<int>(v.error) << " '" << v.reason << "' complete "
              << v.complete << (v.done ? " done}" : "}");
}

// Scans `input` in pieces cut at `cuts` (increasing offsets), as the parsers feed it.
Verdict scanInPieces(Mode mode, const std::string& input, const std::vector<size_t>& cuts,
                     uint64_t max_bytes = 8192, unsigned max_fields = 64) {
    HeadScanner scanner;
    scanner.reset(mode, max_bytes, max_fields);
    Verdict v;
    size_t pos = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(input.size());
    for (size_t end : ends) {
        const HeadScanner::Result r = scanner.scan(std::string_view(input).substr(pos, end - pos));
        if (r.complete > 0) v.complete = pos + r.complete;
        if (r.error != Error::kNone || r.done) {
            v.error = r.error;
            v.reason = r.reason;
            v.done = r.done;
            return v;
        }
        pos = end;
    }
    return v;
}

Verdict scanWhole(Mode mode, const std::string& input, uint64_t max_bytes = 8192,
                  unsigned max_fields = 64) {
    return scanInPieces(mode, input, {}, max_bytes, max_fields);
}

// The verdict must not depend on how the input was split: at any one point, and byte by byte.
void expectSplitInvariant(Mode mode, const std::string& input, uint64_t max_bytes = 8192,
                          unsigned max_fields = 64) {
    const Verdict whole = scanWhole(mode, input, max_bytes, max_fields);
    for (size_t cut = 0; cut <= input.size(); ++cut) {
        EXPECT_EQ(scanInPieces(mode, input, {cut}, max_bytes, max_fields), whole)
            << "cut at " << cut << " of " << input;
    }
    std::vector<size_t> every;
    for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
    EXPECT_EQ(scanInPieces(mode, input, every, max_bytes, max_fields), whole)
        << "byte by byte: " << input;
}

const std::string kLong(40, 'v');  // lines longer than the scanner's 16-byte steps

TEST(HeadScanner, AcceptsAHeadAndStopsAtItsEnd) {
    const std::string head =
        "GET /" + kLong + " HTTP/1.1\r\nHost: a\r\nX-Long: " + kLong + "\r\n\r\nbody bytes";
    const Verdict v = scanWhole(Mode::kRequest, head);
    EXPECT_EQ(v.error, Error::kNone);
    EXPECT_TRUE(v.done);
    EXPECT_EQ(v.complete, head.size() - 10);
    expectSplitInvariant(Mode::kRequest, head);
}

TEST(HeadScanner, FindsLineEndsAroundEvery16ByteStep) {
    // A bare CR, a bare LF and a proper end at every offset of a long field line.
    for (size_t at = 0; at < 40; ++at) {
        for (const char* bad : {"\r", "\n", "\rX"}) {
            std::string value = kLong;
            value.insert(at, bad);
            const std::string head = "GET / HTTP/1.1\r\nX-Field: " + value + "\r\n\r\n";
            const Verdict v = scanWhole(Mode::kRequest, head);
            EXPECT_EQ(v.error, Error::kSyntax) << head;
            EXPECT_EQ(v.complete, 16u) << head;
            expectSplitInvariant(Mode::kRequest, head);
        }
        const std::string head = "GET / HTTP/1.1\r\nX-" + std::string(at, 'n') + ": v\r\n\r\n";
        EXPECT_TRUE(scanWhole(Mode::kRequest, head).done) << head;
    }
}

TEST(HeadScanner, RejectsFieldLinesWithoutColonWhereverTheColonWouldBe) {
    for (size_t len = 1; len < 40; ++len) {
        const std::string head = "GET / HTTP/1.1\r\n" + std::string(len, 'n') + "\r\n\r\n";
        const Verdict v = scanWhole(Mode::kRequest, head);
        EXPECT_EQ(v.error, Error::kSyntax);
        EXPECT_EQ(v.reason, "field line without colon");
    }
    // A colon in the value of a later line does not count for this one.
    expectSplitInvariant(Mode::kRequest, "GET / HTTP/1.1\r\n" + kLong + "\r\nA: b:c\r\n\r\n");
}

TEST(HeadScanner, ChecksTransferEncodingWhateverTheCase) {
    for (const char* line :
         {"Transfer-Encoding:  chunked", "TRANSFER-ENCODING: chunked ",
          "transfer-encoding:\tchunked", "Transfer-Encoding:", "Transfer-Encoding: "}) {
        const std::string head = "POST / HTTP/1.1\r\n" + std::string(line) + "\r\n\r\n";
        const Verdict v = scanWhole(Mode::kRequest, head);
        EXPECT_EQ(v.reason, "malformed Transfer-Encoding") << line;
        expectSplitInvariant(Mode::kRequest, head);
    }
    for (const char* line : {"Transfer-Encoding: chunked", "transfer-encoding:chunked",
                             "Transfer-Encodings:  x", "Transfer-Encodin:  x", "X: a  b\t"}) {
        const std::string head = "POST / HTTP/1.1\r\n" + std::string(line) + "\r\n\r\n";
        EXPECT_TRUE(scanWhole(Mode::kRequest, head).done) << line;
        expectSplitInvariant(Mode::kRequest, head);
    }
}

TEST(HeadScanner, ChecksTheRequestLine) {
    struct Case {
        const char* line;
        Error error;
        const char* reason;
    };
    for (const Case& c : std::vector<Case>{
             {"GET / HTTP/1.1", Error::kNone, ""},
             {"GET  / HTTP/1.1", Error::kSyntax, "malformed request line"},
             {" GET / HTTP/1.1", Error::kSyntax, "malformed request line"},
             {"GET / HTTP/1.1 ", Error::kSyntax, "malformed request line"},
             {"GET / HTTP/1.1 x", Error::kSyntax, "malformed request line"},
             {"GET /", Error::kSyntax, "malformed request line"},
             {"GET / HTTP/1.10", Error::kSyntax, "malformed HTTP version"},
             {"GET / HTTP/1.", Error::kSyntax, "malformed HTTP version"},
             {"GET / RTSP/1.0", Error::kSyntax, "malformed HTTP version"},
             {"GET / HTTP/2.0", Error::kBadVersion, "HTTP version not supported"},
             {"GET / HTTP/1.2", Error::kBadVersion, "HTTP version not supported"},
         }) {
        const std::string head = std::string(c.line) + "\r\nHost: a\r\n\r\n";
        const Verdict v = scanWhole(Mode::kRequest, head);
        EXPECT_EQ(v.error, c.error) << c.line;
        EXPECT_EQ(v.reason, c.reason) << c.line;
        expectSplitInvariant(Mode::kRequest, head);
    }
}

TEST(HeadScanner, KnowsWhetherAnUnknownMethodIsAToken) {
    for (const auto& [method, token] : std::vector<std::pair<std::string, bool>>{
             {"QUERY", true}, {"get", true}, {"G(T", false}, {"M@", false}}) {
        const std::string head = method + " / HTTP/1.1\r\n\r\n";
        for (size_t cut = 0; cut <= head.size(); ++cut) {
            HeadScanner scanner;
            scanner.reset(Mode::kRequest, 8192, 64);
            (void)scanner.scan(std::string_view(head).substr(0, cut));
            (void)scanner.scan(std::string_view(head).substr(cut));
            EXPECT_EQ(scanner.methodIsToken(), token) << method << " cut at " << cut;
        }
    }
}

TEST(HeadScanner, ChecksTheStatusLinePrefix) {
    EXPECT_TRUE(scanWhole(Mode::kResponse, "HTTP/1.0 200 OK\r\n\r\n").done);
    EXPECT_TRUE(scanWhole(Mode::kResponse, "\r\nHTTP/1.1 204 \r\n\r\n").done);
    for (const char* line : {"HTTP/1.2 200 OK", "HTTP/2 200", "http/1.1 200 OK", "HTTP/1.1200"}) {
        const std::string head = std::string(line) + "\r\n\r\n";
        EXPECT_EQ(scanWhole(Mode::kResponse, head).error, Error::kBadVersion) << line;
        expectSplitInvariant(Mode::kResponse, head);
    }
    EXPECT_EQ(scanWhole(Mode::kResponse, "HTTP/1.1\r\n\r\n").error, Error::kSyntax);
}

TEST(HeadScanner, AppliesLimitsAtTheFirstByteOverThem) {
    const std::string head = "GET /" + kLong + " HTTP/1.1\r\nHost: a\r\nX: " + kLong + "\r\n\r\n";
    const size_t line = head.find('\r');
    for (uint64_t max = 0; max <= head.size(); ++max) {
        const Verdict v = scanWhole(Mode::kRequest, head, max);
        if (max == head.size()) {
            EXPECT_TRUE(v.done);
            continue;
        }
        // Within the request line (and at its first byte past the limit) it is too long; after
        // it, the head is.
        EXPECT_EQ(v.error, max < line ? Error::kLineTooLong : Error::kTooLarge) << max;
        expectSplitInvariant(Mode::kRequest, head, max);
    }
    EXPECT_EQ(scanWhole(Mode::kRequest, head, 8192, 1).error, Error::kTooManyFields);
    expectSplitInvariant(Mode::kRequest, head, 8192, 1);
    // Empty lines before the request line count towards the head, not the line.
    EXPECT_EQ(scanWhole(Mode::kRequest, "\r\n\r\n" + head, 50).error, Error::kTooLarge);
}

TEST(HeadScanner, ChecksTrailerSections) {
    EXPECT_TRUE(scanWhole(Mode::kTrailers, "\r\n").done);
    EXPECT_TRUE(scanWhole(Mode::kTrailers, "X-Sum: " + kLong + "\r\n\r\n").done);
    EXPECT_EQ(scanWhole(Mode::kTrailers, "X: a\r\n b\r\n\r\n").reason,
              std::string("obsolete line folding"));
    EXPECT_EQ(scanWhole(Mode::kTrailers, ": a\r\n\r\n").reason, std::string("empty field name"));
    expectSplitInvariant(Mode::kTrailers, "X-Sum: " + kLong + "\r\nY: \r\n\r\n");
}

}  // namespace
}  // namespace sluice::http
