#include "net/proxy_header.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace sluice::net {
namespace {

using Status = ProxyHeaderParser::Status;

// ---- building inputs ----

std::string hex(std::string_view digits) {
    std::string out;
    for (size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(std::string(digits.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::string be16(size_t v) {
    return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

const std::string kSig = hex("0d0a0d0a000d0a515549540a");

// A v2 header: signature, version/command byte, family byte, length (the body's unless given).
std::string v2(uint8_t ver_cmd, uint8_t family, const std::string& body, long length = -1) {
    std::string h = kSig;
    h.push_back(static_cast<char>(ver_cmd));
    h.push_back(static_cast<char>(family));
    h += be16(length < 0 ? body.size() : static_cast<size_t>(length));
    return h + body;
}

std::string tlv(uint8_t type, const std::string& value, long length = -1) {
    std::string t(1, static_cast<char>(type));
    return t + be16(length < 0 ? value.size() : static_cast<size_t>(length)) + value;
}

std::string ipv4Block(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
    in_addr s{}, d{};
    inet_pton(AF_INET, src, &s);
    inet_pton(AF_INET, dst, &d);
    return std::string(reinterpret_cast<const char*>(&s), 4) +
           std::string(reinterpret_cast<const char*>(&d), 4) + be16(sport) + be16(dport);
}

std::string ipv6Block(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
    in6_addr s{}, d{};
    inet_pton(AF_INET6, src, &s);
    inet_pton(AF_INET6, dst, &d);
    return std::string(reinterpret_cast<const char*>(&s), 16) +
           std::string(reinterpret_cast<const char*>(&d), 16) + be16(sport) + be16(dport);
}

// Bit by bit, independent of the parser's table: CRC32C (reflected 0x82F63B78).
uint32_t crc32cBitwise(const std::string& bytes) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : bytes) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

// A v2 PROXY TCP/IPv4 header with a CRC32C TLV (correct, or `corrupt` flipped after signing).
std::string v2WithCrc(const std::string& extra_tlvs, bool corrupt = false) {
    std::string h = v2(0x21, 0x11,
                       ipv4Block("10.1.2.3", "10.9.9.9", 4000, 443) +
                           tlv(0x03, std::string(4, '\0')) + extra_tlvs);
    const uint32_t crc = crc32cBitwise(h);
    const size_t at = 16 + 12 + 3;
    for (int i = 0; i < 4; ++i) h[at + i] = static_cast<char>(crc >> (24 - 8 * i));
    if (corrupt) h[16] ^= 1;
    return h;
}

// Captured from HAProxy 2.6.12 (Debian 12): `server ... send-proxy`, `send-proxy-v2`,
// `proxy-v2-options crc32c`, `proxy-v2-options unique-id,crc32c` and `check-send-proxy` health
// checks, clients 127.0.0.2 and ::1, each followed by the client's first bytes ("hello").
const std::string kHaproxyV1Tcp4 = "PROXY TCP4 127.0.0.2 127.0.0.1 36409 54909\r\nhello";
const std::string kHaproxyV1Tcp6 = "PROXY TCP6 ::1 ::1 60916 40799\r\nhello6";
const std::string kHaproxyV2Tcp4 = kSig + hex("2111000c7f0000027f000001cc2feb4f") + "hello";
const std::string kHaproxyV2Tcp6 = kSig +
                                   hex("21210024"
                                       "00000000000000000000000000000001"
                                       "00000000000000000000000000000001"
                                       "a5d89483") +
                                   "hello6";
const std::string kHaproxyV2Crc32c =
    kSig + hex("211100137f0000027f000001e273c48b030004552d429a") + "hello";
const std::string kHaproxyV2UniqueIdCrc6 =
    kSig +
    hex("21210087"
        "00000000000000000000000000000001"
        "00000000000000000000000000000001"
        "915c982b030004a8934cd3050059") +
    "00000000000000000000000000000001:915C_00000000000000000000000000000001:982B_6B0F5344_0007" +
    "hello6";
const std::string kHaproxyV2CheckLocal = kSig + hex("20000000");

// ---- running the parser ----

std::string endpoint(const sockaddr_storage& ss) {
    char text[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
        inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
        return std::string(text) + ":" + std::to_string(ntohs(sin.sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
        inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(sin6.sin6_port));
    }
    return "family " + std::to_string(ss.ss_family);
}

struct Outcome {
    Status status = Status::kNeedMore;
    size_t consumed = 0;  // over all pieces
    std::string reason;
    int version = 0;
    size_t bytes = 0;
    std::string source, destination;  // "" without addresses

    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    return os << "{status " << static_cast<int>(o.status) << ", consumed " << o.consumed << ", '"
              << o.reason << "', v" << o.version << ", " << o.bytes << " bytes, " << o.source
              << " -> " << o.destination << "}";
}

// Feeds `input` cut at `cuts` (ascending offsets) and one more empty piece at the end.
Outcome parseInPieces(std::string_view input, const std::vector<size_t>& cuts) {
    ProxyHeaderParser parser;
    Outcome o;
    size_t from = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(input.size());
    ends.push_back(input.size());
    for (size_t end : ends) {
        const ProxyHeaderParser::Result r = parser.feed(input.substr(from, end - from));
        o.consumed += r.consumed;
        o.status = r.status;
        o.reason = r.reason;
        if (r.status != Status::kNeedMore) break;
        EXPECT_EQ(r.consumed, end - from);
        from = end;
    }
    if (o.status == Status::kDone) {
        const ProxyHeader& h = parser.header();
        o.version = h.version;
        o.bytes = h.bytes;
        if (h.has_addresses) {
            o.source = endpoint(h.source);
            o.destination = endpoint(h.destination);
        }
        // A finished parser keeps its verdict and takes nothing more.
        const ProxyHeaderParser::Result again = parser.feed("more");
        EXPECT_EQ(again.status, Status::kDone);
        EXPECT_EQ(again.consumed, 0u);
    }
    return o;
}

Outcome parseWhole(std::string_view input) { return parseInPieces(input, {}); }

Outcome parseByteAtATime(std::string_view input) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
    return parseInPieces(input, cuts);
}

// ---- the table ----

struct Case {
    const char* name;  // also the fuzz seed's file name
    std::string input;
    Status status;
    size_t consumed;     // header length when done; bytes up to the offending one on error
    const char* reason;  // exact, for errors
    const char* source = "";
    const char* destination = "";
};

const std::string kLongV6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

std::vector<Case> cases() {
    const std::string v4 = ipv4Block("192.0.2.1", "198.51.100.7", 56324, 443);
    const std::string ssl_tlv = tlv(0x20, std::string("\x01\x00\x00\x00\x00", 5) +
                                              tlv(0x21, "TLSv1.3") + tlv(0x22, "client.example"));
    return {
        // valid v1
        {"v1_tcp4", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n\r\n",
         Status::kDone, 47, "", "192.168.0.1:56324", "192.168.0.11:443"},
        {"v1_tcp6", "PROXY TCP6 2001:db8::1 2001:DB8::2 0 65535\r\n\x16\x03\x01", Status::kDone, 44,
         "", "[2001:db8::1]:0", "[2001:db8::2]:65535"},
        {"v1_tcp6_v4_mapped", "PROXY TCP6 ::ffff:10.0.0.1 ::1 1 2\r\n", Status::kDone, 36, "",
         "[::ffff:10.0.0.1]:1", "[::1]:2"},
        {"v1_tcp6_longest", "PROXY TCP6 " + kLongV6 + " " + kLongV6 + " 65535 65535\r\n",
         Status::kDone, 104, "", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
         "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
        {"v1_unknown", "PROXY UNKNOWN\r\nhello", Status::kDone, 15, ""},
        {"v1_unknown_107_bytes", "PROXY UNKNOWN " + kLongV6 + " " + kLongV6 + " 65535 65535\r\n",
         Status::kDone, 107, ""},
        {"v1_haproxy_tcp4", kHaproxyV1Tcp4, Status::kDone, 44, "", "127.0.0.2:36409",
         "127.0.0.1:54909"},
        {"v1_haproxy_tcp6", kHaproxyV1Tcp6, Status::kDone, 32, "", "[::1]:60916", "[::1]:40799"},
        // valid v2
        {"v2_haproxy_tcp4", kHaproxyV2Tcp4, Status::kDone, 28, "", "127.0.0.2:52271",
         "127.0.0.1:60239"},
        {"v2_haproxy_tcp6", kHaproxyV2Tcp6, Status::kDone, 52, "", "[::1]:42456", "[::1]:38019"},
        {"v2_haproxy_crc32c", kHaproxyV2Crc32c, Status::kDone, 35, "", "127.0.0.2:57971",
         "127.0.0.1:50315"},
        {"v2_haproxy_unique_id_crc32c_tcp6", kHaproxyV2UniqueIdCrc6, Status::kDone, 151, "",
         "[::1]:37212", "[::1]:38955"},
        {"v2_haproxy_check_local", kHaproxyV2CheckLocal + "GET /healthz", Status::kDone, 16, ""},
        {"v2_tlvs_noop_ssl_empty", v2(0x21, 0x11, v4 + tlv(0x04, "pad") + ssl_tlv + tlv(0xE0, "")),
         Status::kDone, 28 + 6 + ssl_tlv.size() + 3, "", "192.0.2.1:56324", "198.51.100.7:443"},
        {"v2_crc32c_ok", v2WithCrc(tlv(0x05, "id-1")), Status::kDone, 16 + 12 + 7 + 7, "",
         "10.1.2.3:4000", "10.9.9.9:443"},
        {"v2_local_with_ignored_block", v2(0x20, 0x11, v4 + "\x01\x02", 14), Status::kDone, 30, ""},
        {"v2_proxy_unspec_skipped", v2(0x21, 0x00, "junk!"), Status::kDone, 21, ""},
        {"v2_proxy_unix_stream", v2(0x21, 0x31, std::string(216, 'u') + tlv(0x02, "host")),
         Status::kDone, 16 + 216 + 7, ""},
        {"v2_tcp6_tlv", v2(0x21, 0x21, ipv6Block("2001:db8::7", "::1", 1, 2) + tlv(0x01, "h2")),
         Status::kDone, 16 + 36 + 5, "", "[2001:db8::7]:1", "[::1]:2"},
        {"v2_4096_bytes", v2(0x21, 0x11, v4 + tlv(0x04, std::string(4096 - 16 - 12 - 3, 'n'))),
         Status::kDone, 4096, "", "192.0.2.1:56324", "198.51.100.7:443"},
        // not a header at all: fails on the first byte
        {"http_request", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", Status::kError, 1,
         "not a PROXY header"},
        {"tls_client_hello", "\x16\x03\x01\x02\x00\x01", Status::kError, 1, "not a PROXY header"},
        {"post_request", "POST / HTTP/1.1\r\n", Status::kError, 2, "not a PROXY header"},
        {"v2_signature_bad_byte_6", kSig.substr(0, 6) + "X" + kSig.substr(7) + "\x21\x11",
         Status::kError, 7, "not a PROXY header"},
        // malformed v1
        {"v1_no_space_after_proxy", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", Status::kError, 6,
         "not a PROXY header"},
        {"v1_lowercase", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", Status::kError, 7,
         "v1 protocol is not TCP4, TCP6 or UNKNOWN"},
        {"v1_tcp5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", Status::kError, 10,
         "v1 protocol is not TCP4, TCP6 or UNKNOWN"},
        {"v1_unknownx", "PROXY UNKNOWNX\r\n", Status::kError, 14,
         "v1 protocol is not TCP4, TCP6 or UNKNOWN"},
        {"v1_tcp4_no_fields", "PROXY TCP4\r\n", Status::kError, 11,
         "v1 protocol is not TCP4, TCP6 or UNKNOWN"},
        {"v1_double_space", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", Status::kError, 20,
         "v1 fields need exactly one space between them"},
        {"v1_space_before_source", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", Status::kError, 12,
         "v1 fields need exactly one space between them"},
        {"v1_too_many_fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", Status::kError, 31,
         "v1 line has too many fields"},
        {"v1_trailing_space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", Status::kError, 31,
         "v1 line has too many fields"},
        {"v1_too_few_fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", Status::kError, 30,
         "v1 line has too few fields"},
        {"v1_port_65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\n", Status::kError, 37,
         "v1 bad port"},
        {"v1_port_leading_zero", "PROXY TCP4 1.2.3.4 5.6.7.8 080 80\r\n", Status::kError, 35,
         "v1 bad port"},
        {"v1_port_six_digits", "PROXY TCP4 1.2.3.4 5.6.7.8 000080 80\r\n", Status::kError, 38,
         "v1 bad port"},
        {"v1_port_negative", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 80\r\n", Status::kError, 28,
         "v1 address or port has a bad character"},
        {"v1_ipv4_octet_256", "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", Status::kError, 34,
         "v1 bad IPv4 address"},
        {"v1_ipv4_leading_zero", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", Status::kError, 33,
         "v1 bad IPv4 address"},
        {"v1_ipv4_three_parts", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", Status::kError, 30,
         "v1 bad IPv4 address"},
        {"v1_ipv4_five_parts", "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", Status::kError, 34,
         "v1 bad IPv4 address"},
        {"v1_ipv4_empty_part", "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", Status::kError, 31,
         "v1 bad IPv4 address"},
        {"v1_ipv4_hex_digit", "PROXY TCP4 1.2.3.a 5.6.7.8 1 2\r\n", Status::kError, 18,
         "v1 address or port has a bad character"},
        {"v1_tcp4_with_ipv6", "PROXY TCP4 ::1 ::1 1 2\r\n", Status::kError, 12,
         "v1 address or port has a bad character"},
        {"v1_tcp6_with_ipv4", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", Status::kError, 28,
         "v1 bad IPv6 address"},
        {"v1_tcp6_two_double_colons", "PROXY TCP6 1::2::3 ::1 1 2\r\n", Status::kError, 28,
         "v1 bad IPv6 address"},
        {"v1_tcp6_zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", Status::kError, 19,
         "v1 address or port has a bad character"},
        {"v1_nul_byte", std::string("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33), Status::kError, 19,
         "v1 address or port has a bad character"},
        {"v1_bare_lf", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", Status::kError, 31,
         "v1 line ends in a bare LF"},
        {"v1_unknown_bare_lf", "PROXY UNKNOWN\n", Status::kError, 14, "v1 line ends in a bare LF"},
        {"v1_cr_without_lf", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n", Status::kError, 32,
         "v1 CR not followed by LF"},
        {"v1_cr_cr_lf", "PROXY UNKNOWN\r\r\n", Status::kError, 15, "v1 CR not followed by LF"},
        {"v1_108_bytes", "PROXY UNKNOWN " + kLongV6 + " " + kLongV6 + " 65535 655355\r\n",
         Status::kError, 107, "v1 line longer than 107 bytes"},
        {"v1_no_crlf_at_all", "PROXY UNKNOWN " + std::string(200, 'a'), Status::kError, 107,
         "v1 line longer than 107 bytes"},
        // malformed v2
        {"v2_version_1", v2(0x11, 0x11, v4), Status::kError, 13, "v2 version is not 2"},
        {"v2_version_3", v2(0x31, 0x11, v4), Status::kError, 13, "v2 version is not 2"},
        {"v2_command_2", v2(0x22, 0x11, v4), Status::kError, 13,
         "v2 command is neither LOCAL nor PROXY"},
        {"v2_command_15", v2(0x2F, 0x11, v4), Status::kError, 13,
         "v2 command is neither LOCAL nor PROXY"},
        {"v2_family_4", v2(0x21, 0x41, v4), Status::kError, 14, "v2 unknown family or protocol"},
        {"v2_protocol_3", v2(0x21, 0x13, v4), Status::kError, 14, "v2 unknown family or protocol"},
        {"v2_local_bad_family", v2(0x20, 0x51, ""), Status::kError, 14,
         "v2 unknown family or protocol"},
        {"v2_udp4", v2(0x21, 0x12, v4), Status::kError, 14, "v2 datagram connection"},
        {"v2_length_4081", v2(0x21, 0x11, v4, 4081), Status::kError, 16,
         "v2 header longer than 4096 bytes"},
        {"v2_length_65535", v2(0x20, 0x00, "", 65535), Status::kError, 16,
         "v2 header longer than 4096 bytes"},
        {"v2_length_below_ipv4_block", v2(0x21, 0x11, v4.substr(0, 11)), Status::kError, 16,
         "v2 length shorter than its address block"},
        {"v2_length_below_ipv6_block", v2(0x21, 0x21, v4), Status::kError, 16,
         "v2 length shorter than its address block"},
        {"v2_length_below_unix_block", v2(0x21, 0x31, std::string(100, 'u')), Status::kError, 16,
         "v2 length shorter than its address block"},
        {"v2_proxy_tcp4_length_0", v2(0x21, 0x11, ""), Status::kError, 16,
         "v2 length shorter than its address block"},
        {"v2_tlv_overruns", v2(0x21, 0x11, v4 + tlv(0x04, "abcde", 10)), Status::kError, 31,
         "v2 TLV overruns the header"},
        {"v2_tlv_overruns_by_one", v2(0x21, 0x11, v4 + tlv(0x05, "abc", 4)), Status::kError, 31,
         "v2 TLV overruns the header"},
        {"v2_tlv_cut_short", v2(0x21, 0x11, v4 + "\x04\x00"), Status::kError, 29,
         "v2 TLV cut short by the header length"},
        {"v2_tlv_cut_after_one", v2(0x21, 0x11, v4 + tlv(0x04, "x") + "\x04"), Status::kError, 33,
         "v2 TLV cut short by the header length"},
        {"v2_crc32c_3_bytes", v2(0x21, 0x11, v4 + tlv(0x03, "abc")), Status::kError, 31,
         "v2 CRC32C TLV is not 4 bytes"},
        {"v2_crc32c_twice", v2WithCrc(tlv(0x03, "abcd")), Status::kError, 16 + 12 + 7 + 3,
         "v2 header has two CRC32C TLVs"},
        {"v2_crc32c_mismatch", v2WithCrc("", true), Status::kError, 35, "v2 CRC32C mismatch"},
        {"v2_haproxy_crc32c_tampered",
         kHaproxyV2Crc32c.substr(0, 19) + "\x03" + kHaproxyV2Crc32c.substr(20), Status::kError, 35,
         "v2 CRC32C mismatch"},
    };
}

TEST(ProxyHeaderParser, TableWholeInput) {
    for (const Case& c : cases()) {
        SCOPED_TRACE(c.name);
        const Outcome o = parseWhole(c.input);
        EXPECT_EQ(o.status, c.status);
        EXPECT_EQ(o.consumed, c.consumed);
        EXPECT_EQ(o.reason, c.reason);
        if (c.status == Status::kDone) {
            EXPECT_EQ(o.bytes, c.consumed);
            EXPECT_EQ(o.version, c.input[0] == 'P' ? 1 : 2);
            EXPECT_EQ(o.source, c.source);
            EXPECT_EQ(o.destination, c.destination);
        }
    }
}

TEST(ProxyHeaderParser, ByteAtATimeAndEverySplitEqualWhole) {
    for (const Case& c : cases()) {
        SCOPED_TRACE(c.name);
        const Outcome whole = parseWhole(c.input);
        EXPECT_EQ(parseByteAtATime(c.input), whole);
        const size_t limit = std::min<size_t>(c.input.size(), 300);  // the 4 KiB case: enough
        for (size_t cut = 0; cut <= limit; ++cut) {
            ASSERT_EQ(parseInPieces(c.input, {cut}), whole) << "cut at " << cut;
        }
    }
}

TEST(ProxyHeaderParser, EveryStrictPrefixOfAHeaderNeedsMore) {
    for (const Case& c : cases()) {
        if (c.status != Status::kDone) continue;
        SCOPED_TRACE(c.name);
        for (size_t n = 0; n < c.consumed; ++n) {
            const Outcome o = parseWhole(std::string_view(c.input).substr(0, n));
            ASSERT_EQ(o.status, Status::kNeedMore) << n << " bytes";
            ASSERT_EQ(o.consumed, n);
        }
    }
}

TEST(ProxyHeaderParser, AFailedParserKeepsItsVerdict) {
    ProxyHeaderParser parser;
    const auto first = parser.feed("GET /");
    EXPECT_EQ(first.status, Status::kError);
    const auto again = parser.feed("PROXY UNKNOWN\r\n");
    EXPECT_EQ(again.status, Status::kError);
    EXPECT_EQ(again.consumed, 0u);
    EXPECT_STREQ(again.reason, "not a PROXY header");
    EXPECT_TRUE(parser.failed());
}

// Every case is a seed of tests/fuzz/corpus/proxy_header/ byte for byte; SLUICE_DUMP_CORPUS=<dir>
// rewrites the seeds into <dir> after a table change.
TEST(ProxyHeaderParser, EveryCaseIsAFuzzSeed) {
    const std::string corpus = std::string(SLUICE_TESTS_DIR) + "/fuzz/corpus/proxy_header/";
    const char* dump = std::getenv("SLUICE_DUMP_CORPUS");
    for (const Case& c : cases()) {
        if (dump != nullptr) {
            std::ofstream out(std::string(dump) + "/" + c.name, std::ios::binary);
            out << c.input;
            ASSERT_TRUE(out.good()) << c.name;
        }
        std::ifstream in(corpus + c.name, std::ios::binary);
        ASSERT_TRUE(in.good()) << "missing seed " << corpus << c.name;
        std::string seed(1 << 16, '\0');
        in.read(seed.data(), static_cast<std::streamsize>(seed.size()));
        seed.resize(static_cast<size_t>(in.gcount()));
        EXPECT_EQ(seed, c.input) << c.name;
    }
}

// ---- writers ----

sockaddr_storage address(const char* ip, uint16_t port) {
    sockaddr_storage ss{};
    if (std::strchr(ip, ':') != nullptr) {
        auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
        sin6.sin6_family = AF_INET6;
        inet_pton(AF_INET6, ip, &sin6.sin6_addr);
        sin6.sin6_port = htons(port);
    } else {
        auto& sin = reinterpret_cast<sockaddr_in&>(ss);
        sin.sin_family = AF_INET;
        inet_pton(AF_INET, ip, &sin.sin_addr);
        sin.sin_port = htons(port);
    }
    return ss;
}

const sockaddr& sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr&>(ss); }

std::string writeV1(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
    char buf[kProxyV1MaxBytes];
    const size_t n = writeProxyV1(sa(address(src, sport)), sa(address(dst, dport)), buf);
    return std::string(buf, n);
}

std::string writeV2(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
    char buf[kProxyV2HeaderWrittenMax];
    const size_t n = writeProxyV2(sa(address(src, sport)), sa(address(dst, dport)), buf);
    return std::string(buf, n);
}

TEST(ProxyHeaderWriter, WritesWhatHaproxyWrites) {
    EXPECT_EQ(writeV1("127.0.0.2", 36409, "127.0.0.1", 54909) + "hello", kHaproxyV1Tcp4);
    EXPECT_EQ(writeV1("::1", 60916, "::1", 40799) + "hello6", kHaproxyV1Tcp6);
    EXPECT_EQ(writeV2("127.0.0.2", 52271, "127.0.0.1", 60239) + "hello", kHaproxyV2Tcp4);
    EXPECT_EQ(writeV2("::1", 42456, "::1", 38019) + "hello6", kHaproxyV2Tcp6);
    char buf[16];
    ASSERT_EQ(writeProxyV2Local(buf), 16u);
    EXPECT_EQ(std::string(buf, 16), kHaproxyV2CheckLocal);
}

TEST(ProxyHeaderWriter, RoundTripsThroughTheParser) {
    struct Pair {
        const char *src, *dst;
        uint16_t sport, dport;
        const char *want_src, *want_dst;
    };
    const Pair pairs[] = {
        {"203.0.113.9", "10.0.0.1", 65535, 0, "203.0.113.9:65535", "10.0.0.1:0"},
        {"2001:db8::9", "2001:db8::1", 1, 443, "[2001:db8::9]:1", "[2001:db8::1]:443"},
        // Mixed families share IPv6, the IPv4 side v4-mapped.
        {"203.0.113.9", "::1", 5, 6, "[::ffff:203.0.113.9]:5", "[::1]:6"},
        {kLongV6.c_str(), kLongV6.c_str(), 65535, 65535,
         "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
         "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
    };
    for (const Pair& p : pairs) {
        SCOPED_TRACE(p.src);
        for (const std::string& wire :
             {writeV1(p.src, p.sport, p.dst, p.dport), writeV2(p.src, p.sport, p.dst, p.dport)}) {
            ASSERT_FALSE(wire.empty());
            const Outcome o = parseWhole(wire + "payload");
            EXPECT_EQ(o.status, Status::kDone);
            EXPECT_EQ(o.consumed, wire.size());
            EXPECT_EQ(o.source, p.want_src);
            EXPECT_EQ(o.destination, p.want_dst);
        }
    }
    char buf[16];
    const Outcome local = parseWhole(std::string(buf, writeProxyV2Local(buf)));
    EXPECT_EQ(local.status, Status::kDone);
    EXPECT_EQ(local.source, "");  // no addresses: the socket's own
}

TEST(ProxyHeaderWriter, RefusesSmallBuffersAndOtherFamilies) {
    const sockaddr_storage v4 = address("192.0.2.1", 1);
    const sockaddr_storage v6 = address("2001:db8::1", 1);
    char small[27];
    EXPECT_EQ(writeProxyV2(sa(v4), sa(v4), small), 0u);  // needs 28
    char buf[kProxyV1MaxBytes];
    EXPECT_EQ(writeProxyV2(sa(v4), sa(v6), std::span<char>(buf, 51)), 0u);  // needs 52
    EXPECT_EQ(writeProxyV1(sa(v4), sa(v4), std::span<char>(buf, 10)), 0u);
    EXPECT_EQ(writeProxyV2Local(std::span<char>(buf, 15)), 0u);
    sockaddr_storage unix_addr{};
    unix_addr.ss_family = AF_UNIX;
    EXPECT_EQ(writeProxyV1(sa(unix_addr), sa(v4), buf), 0u);
    EXPECT_EQ(writeProxyV2(sa(v4), sa(unix_addr), buf), 0u);
}

}  // namespace
}  // namespace sluice::net
