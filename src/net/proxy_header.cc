#include "net/proxy_header.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

namespace sluice::net {
namespace {

constexpr uint8_t kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view kV1Prefix = "PROXY ";
constexpr uint8_t kTlvCrc32c = 0x03;
constexpr size_t kV2FixedBytes = 16;
constexpr size_t kV2UnixAddressBytes = 216;

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum RFC 4960 appendix B
// describes and the PROXY v2 CRC32C TLV carries.
constexpr std::array<uint32_t, 256> makeCrc32cTable() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = makeCrc32cTable();

uint32_t crc32cByte(uint32_t crc, uint8_t byte) {
    return kCrc32cTable[(crc ^ byte) & 0xFFu] ^ (crc >> 8);
}

bool isDigit(uint8_t c) { return c >= '0' && c <= '9'; }
bool isHexDigit(uint8_t c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A decimal number of at most `max_digits` digits without a leading zero ("0" itself is fine),
// no larger than `max`.
bool parseDecimal(std::string_view s, size_t max_digits, uint32_t max, uint32_t* out) {
    if (s.empty() || s.size() > max_digits) return false;
    if (s.size() > 1 && s[0] == '0') return false;
    uint32_t v = 0;
    for (char c : s) {
        if (!isDigit(static_cast<uint8_t>(c))) return false;
        v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

// Dotted quad, strictly: four numbers 0-255 without leading zeros, nothing else.
bool parseV1Ipv4(std::string_view s, in_addr* out) {
    uint8_t bytes[4];
    for (int i = 0; i < 4; ++i) {
        const size_t dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return false;
        uint32_t v = 0;
        if (!parseDecimal(s.substr(0, dot), 3, 255, &v)) return false;
        bytes[i] = static_cast<uint8_t>(v);
        s.remove_prefix(i < 3 ? dot + 1 : dot);
    }
    std::memcpy(&out->s_addr, bytes, 4);
    return true;
}

// inet_pton does the IPv6 grammar (groups, one "::", a dotted IPv4 tail); stepV1 has already
// limited the characters to hex digits, ':' and '.'.
bool parseV1Ipv6(std::string_view s, in6_addr* out) {
    char text[INET6_ADDRSTRLEN];
    if (s.empty() || s.size() >= sizeof(text)) return false;
    std::memcpy(text, s.data(), s.size());
    text[s.size()] = '\0';
    return inet_pton(AF_INET6, text, out) == 1;
}

void storeIpv4(sockaddr_storage* ss, const uint8_t* addr, uint16_t port_network_order) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr.s_addr, addr, 4);
    sin.sin_port = port_network_order;
    std::memcpy(ss, &sin, sizeof(sin));
}

void storeIpv6(sockaddr_storage* ss, const uint8_t* addr, uint16_t port_network_order) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, addr, 16);
    sin6.sin6_port = port_network_order;
    std::memcpy(ss, &sin6, sizeof(sin6));
}

uint16_t loadBigEndian16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

}  // namespace

ProxyHeaderParser::Status ProxyHeaderParser::fail(const char* reason) {
    phase_ = Phase::kError;
    reason_ = reason;
    return Status::kError;
}

ProxyHeaderParser::Result ProxyHeaderParser::feed(std::string_view bytes) {
    if (phase_ == Phase::kDone) return {Status::kDone, 0, ""};
    if (phase_ == Phase::kError) return {Status::kError, 0, reason_};
    for (size_t i = 0; i < bytes.size(); ++i) {
        const Status s = step(static_cast<uint8_t>(bytes[i]));
        if (s != Status::kNeedMore) return {s, i + 1, s == Status::kError ? reason_ : ""};
    }
    return {Status::kNeedMore, bytes.size(), ""};
}

// Everything goes through here one byte at a time, which is what makes the verdict independent
// of how the bytes were split; a header is at most 4 KiB, so the per-byte switch costs nothing
// that matters next to the accept and the first read.
ProxyHeaderParser::Status ProxyHeaderParser::step(uint8_t byte) {
    switch (phase_) {
        case Phase::kStart:
            if (byte == 'P') {
                phase_ = Phase::kV1;
                return stepV1(byte);
            }
            if (byte == kV2Signature[0]) {
                phase_ = Phase::kV2Fixed;
                return stepV2Fixed(byte);
            }
            return fail("not a PROXY header");
        case Phase::kV1:
            return stepV1(byte);
        case Phase::kV2Fixed:
            return stepV2Fixed(byte);
        case Phase::kV2Addresses: {
            const size_t p = pos_++;
            crc_ = crc32cByte(crc_, byte);
            if (p < sizeof(buf_)) buf_[p] = byte;  // 0x11/0x21 blocks fit; 0x31's are skipped
            const size_t address_end =
                kV2FixedBytes +
                ((family_ & 0xF0) == 0x30 ? kV2UnixAddressBytes : (family_ == 0x11 ? 12 : 36));
            if (pos_ == total_) return finishV2();
            if (pos_ == address_end) phase_ = Phase::kV2Tlvs;
            return Status::kNeedMore;
        }
        case Phase::kV2Tlvs:
            return stepV2Tlv(byte);
        case Phase::kV2Skip:
            if (++pos_ == total_) return finishV2();
            return Status::kNeedMore;
        case Phase::kDone:
            return Status::kDone;
        case Phase::kError:
            return Status::kError;
    }
    return fail("internal parser state");
}

ProxyHeaderParser::Status ProxyHeaderParser::stepV1(uint8_t byte) {
    const size_t p = pos_++;
    if (p < kV1Prefix.size()) {
        if (byte != static_cast<uint8_t>(kV1Prefix[p])) return fail("not a PROXY header");
        buf_[p] = byte;
        return Status::kNeedMore;
    }
    const uint8_t prev = buf_[p - 1];
    if (byte == '\n') {
        if (prev != '\r') return fail("v1 line ends in a bare LF");
        return finishV1();
    }
    if (prev == '\r') return fail("v1 CR not followed by LF");
    // The 107th byte (index 106) must be the LF of the CRLF.
    if (p + 1 >= kProxyV1MaxBytes) return fail("v1 line longer than 107 bytes");
    buf_[p] = byte;

    if (v1_family_ == 0) {
        // buf_[6..p] must be a prefix of one of these; the family is known once one is complete.
        static constexpr std::string_view kForms[] = {"TCP4 ", "TCP6 ", "UNKNOWN ", "UNKNOWN\r"};
        const std::string_view seen(reinterpret_cast<const char*>(buf_) + kV1Prefix.size(),
                                    p + 1 - kV1Prefix.size());
        bool matches = false;
        for (std::string_view form : kForms) {
            if (seen.size() > form.size() || form.substr(0, seen.size()) != seen) continue;
            matches = true;
            if (seen.size() == form.size()) {
                v1_family_ = form[0] == 'U' ? 'U' : static_cast<uint8_t>(form[3]);
                v1_spaces_ = byte == ' ' ? 1 : 0;
            }
        }
        return matches ? Status::kNeedMore : fail("v1 protocol is not TCP4, TCP6 or UNKNOWN");
    }
    if (v1_family_ == 'U') return Status::kNeedMore;  // the spec: ignore the rest of the line
    if (byte == ' ') {
        if (prev == ' ') return fail("v1 fields need exactly one space between them");
        if (++v1_spaces_ > 4) return fail("v1 line has too many fields");
        return Status::kNeedMore;
    }
    const bool allowed = byte == '\r' || isDigit(byte) || byte == '.' ||
                         (v1_family_ == '6' && (isHexDigit(byte) || byte == ':'));
    return allowed ? Status::kNeedMore : fail("v1 address or port has a bad character");
}

ProxyHeaderParser::Status ProxyHeaderParser::finishV1() {
    header_ = ProxyHeader{};
    header_.version = 1;
    header_.bytes = pos_;
    if (v1_family_ == 'U') {
        phase_ = Phase::kDone;
        return Status::kDone;
    }
    if (v1_family_ == 0) return fail("v1 protocol is not TCP4, TCP6 or UNKNOWN");
    // "PROXY TCPx " then src, dst, sport, dport separated by single spaces (stepV1 rejected runs
    // of spaces and more than four fields), then the CRLF this byte completed.
    std::string_view rest(reinterpret_cast<const char*>(buf_) + 11, pos_ - 11 - 2);
    std::string_view fields[4];
    for (int i = 0; i < 4; ++i) {
        const size_t space = i < 3 ? rest.find(' ') : rest.size();
        if (space == std::string_view::npos) return fail("v1 line has too few fields");
        fields[i] = rest.substr(0, space);
        rest.remove_prefix(i < 3 ? space + 1 : space);
    }
    uint32_t ports[2];
    for (int i = 0; i < 2; ++i) {
        if (!parseDecimal(fields[2 + i], 5, 65535, &ports[i])) return fail("v1 bad port");
    }
    const uint16_t sport = htons(static_cast<uint16_t>(ports[0]));
    const uint16_t dport = htons(static_cast<uint16_t>(ports[1]));
    if (v1_family_ == '4') {
        in_addr src{}, dst{};
        if (!parseV1Ipv4(fields[0], &src) || !parseV1Ipv4(fields[1], &dst)) {
            return fail("v1 bad IPv4 address");
        }
        storeIpv4(&header_.source, reinterpret_cast<const uint8_t*>(&src.s_addr), sport);
        storeIpv4(&header_.destination, reinterpret_cast<const uint8_t*>(&dst.s_addr), dport);
    } else {
        in6_addr src{}, dst{};
        if (!parseV1Ipv6(fields[0], &src) || !parseV1Ipv6(fields[1], &dst)) {
            return fail("v1 bad IPv6 address");
        }
        storeIpv6(&header_.source, src.s6_addr, sport);
        storeIpv6(&header_.destination, dst.s6_addr, dport);
    }
    header_.has_addresses = true;
    phase_ = Phase::kDone;
    return Status::kDone;
}

ProxyHeaderParser::Status ProxyHeaderParser::stepV2Fixed(uint8_t byte) {
    const size_t p = pos_++;
    buf_[p] = byte;
    crc_ = crc32cByte(crc_, byte);
    if (p < sizeof(kV2Signature)) {
        return byte == kV2Signature[p] ? Status::kNeedMore : fail("not a PROXY header");
    }
    if (p == 12) {
        if ((byte >> 4) != 2) return fail("v2 version is not 2");
        command_ = byte & 0x0F;
        if (command_ > 1) return fail("v2 command is neither LOCAL nor PROXY");
        return Status::kNeedMore;
    }
    if (p == 13) {
        // Family 0-3 (UNSPEC, INET, INET6, UNIX), protocol 0-2 (UNSPEC, STREAM, DGRAM).
        if ((byte >> 4) > 3 || (byte & 0x0F) > 2) return fail("v2 unknown family or protocol");
        if (command_ == 1 && (byte & 0x0F) == 2) return fail("v2 datagram connection");
        family_ = byte;
        return Status::kNeedMore;
    }
    if (p == 14) return Status::kNeedMore;
    const size_t length = loadBigEndian16(buf_ + 14);
    total_ = kV2FixedBytes + length;
    if (total_ > kProxyV2MaxBytes) return fail("v2 header longer than 4096 bytes");
    size_t address_bytes = 0;
    Phase next = Phase::kV2Skip;  // LOCAL, and PROXY without a stream address family
    if (command_ == 1) {
        if (family_ == 0x11) address_bytes = 12;
        if (family_ == 0x21) address_bytes = 36;
        if (family_ == 0x31) address_bytes = kV2UnixAddressBytes;
        if (address_bytes > 0) next = Phase::kV2Addresses;
    }
    if (length < address_bytes) return fail("v2 length shorter than its address block");
    if (length == 0) return finishV2();
    phase_ = next;
    return Status::kNeedMore;
}

ProxyHeaderParser::Status ProxyHeaderParser::stepV2Tlv(uint8_t byte) {
    const size_t p = pos_++;
    const size_t after = total_ - pos_;  // header bytes after this one
    uint8_t crc_byte = byte;
    if (tlv_value_left_ > 0) {
        if (crc_at_ != 0 && p >= crc_at_ && p < crc_at_ + 4) {
            crc_received_ = (crc_received_ << 8) | byte;
            crc_byte = 0;  // the checksum covers the header with its own field zeroed
        }
        --tlv_value_left_;
    } else if (tlv_header_taken_ == 0) {
        if (after < 2) return fail("v2 TLV cut short by the header length");
        tlv_type_ = byte;
        tlv_header_taken_ = 1;
    } else if (tlv_header_taken_ == 1) {
        tlv_length_ = static_cast<uint16_t>(byte << 8);
        tlv_header_taken_ = 2;
    } else {
        tlv_length_ = static_cast<uint16_t>(tlv_length_ | byte);
        tlv_header_taken_ = 0;
        if (tlv_length_ > after) return fail("v2 TLV overruns the header");
        if (tlv_type_ == kTlvCrc32c) {
            if (tlv_length_ != 4) return fail("v2 CRC32C TLV is not 4 bytes");
            if (crc_at_ != 0) return fail("v2 header has two CRC32C TLVs");
            crc_at_ = pos_;
        }
        tlv_value_left_ = tlv_length_;
    }
    crc_ = crc32cByte(crc_, crc_byte);
    return pos_ == total_ ? finishV2() : Status::kNeedMore;
}

ProxyHeaderParser::Status ProxyHeaderParser::finishV2() {
    // stepV2Tlv checked each TLV against the end as it began, so the last byte always ends one.
    if (crc_at_ != 0 && (crc_ ^ 0xFFFFFFFFu) != crc_received_) return fail("v2 CRC32C mismatch");
    header_ = ProxyHeader{};
    header_.version = 2;
    header_.bytes = total_;
    if (command_ == 1 && family_ == 0x11) {
        storeIpv4(&header_.source, buf_ + 16, htons(loadBigEndian16(buf_ + 24)));
        storeIpv4(&header_.destination, buf_ + 20, htons(loadBigEndian16(buf_ + 26)));
        header_.has_addresses = true;
    } else if (command_ == 1 && family_ == 0x21) {
        storeIpv6(&header_.source, buf_ + 16, htons(loadBigEndian16(buf_ + 48)));
        storeIpv6(&header_.destination, buf_ + 32, htons(loadBigEndian16(buf_ + 50)));
        header_.has_addresses = true;
    }
    phase_ = Phase::kDone;
    return Status::kDone;
}

// ---- writers ----

namespace {

struct WriterEndpoint {
    sockaddr_in6 v6{};  // the address as IPv6 (an IPv4 one v4-mapped)
    sockaddr_in v4{};
    bool is_v4 = false;
};

bool loadEndpoint(const sockaddr& sa, WriterEndpoint* out) {
    if (sa.sa_family == AF_INET) {
        std::memcpy(&out->v4, &sa, sizeof(out->v4));
        out->is_v4 = true;
        out->v6.sin6_family = AF_INET6;
        out->v6.sin6_port = out->v4.sin_port;
        out->v6.sin6_addr.s6_addr[10] = 0xFF;
        out->v6.sin6_addr.s6_addr[11] = 0xFF;
        std::memcpy(&out->v6.sin6_addr.s6_addr[12], &out->v4.sin_addr.s_addr, 4);
        return true;
    }
    if (sa.sa_family == AF_INET6) {
        std::memcpy(&out->v6, &sa, sizeof(out->v6));
        return true;
    }
    return false;
}

}  // namespace

size_t writeProxyV1(const sockaddr& source, const sockaddr& destination, std::span<char> out) {
    WriterEndpoint src, dst;
    if (!loadEndpoint(source, &src) || !loadEndpoint(destination, &dst)) return 0;
    const bool v4 = src.is_v4 && dst.is_v4;
    char line[kProxyV1MaxBytes + 16];
    size_t n = 0;
    auto put = [&](std::string_view s) {
        std::memcpy(line + n, s.data(), s.size());
        n += s.size();
    };
    put(v4 ? "PROXY TCP4 " : "PROXY TCP6 ");
    for (const WriterEndpoint* e : {&src, &dst}) {
        char text[INET6_ADDRSTRLEN];
        const bool ok = v4 ? inet_ntop(AF_INET, &e->v4.sin_addr, text, sizeof(text)) != nullptr
                           : inet_ntop(AF_INET6, &e->v6.sin6_addr, text, sizeof(text)) != nullptr;
        if (!ok) return 0;
        put(text);
        put(" ");
    }
    for (const WriterEndpoint* e : {&src, &dst}) {
        char digits[8];
        const auto r = std::to_chars(digits, digits + sizeof(digits), ntohs(e->v6.sin6_port));
        put(std::string_view(digits, static_cast<size_t>(r.ptr - digits)));
        put(e == &src ? " " : "\r\n");
    }
    if (n > out.size()) return 0;
    std::memcpy(out.data(), line, n);
    return n;
}

size_t writeProxyV2(const sockaddr& source, const sockaddr& destination, std::span<char> out) {
    WriterEndpoint src, dst;
    if (!loadEndpoint(source, &src) || !loadEndpoint(destination, &dst)) return 0;
    const bool v4 = src.is_v4 && dst.is_v4;
    const size_t address_bytes = v4 ? 12 : 36;
    const size_t n = kV2FixedBytes + address_bytes;
    if (n > out.size()) return 0;
    uint8_t h[kProxyV2HeaderWrittenMax];
    std::memcpy(h, kV2Signature, sizeof(kV2Signature));
    h[12] = 0x21;  // version 2, PROXY
    h[13] = v4 ? 0x11 : 0x21;
    h[14] = 0;
    h[15] = static_cast<uint8_t>(address_bytes);
    uint8_t* a = h + kV2FixedBytes;
    if (v4) {
        std::memcpy(a, &src.v4.sin_addr.s_addr, 4);
        std::memcpy(a + 4, &dst.v4.sin_addr.s_addr, 4);
        std::memcpy(a + 8, &src.v4.sin_port, 2);
        std::memcpy(a + 10, &dst.v4.sin_port, 2);
    } else {
        std::memcpy(a, &src.v6.sin6_addr, 16);
        std::memcpy(a + 16, &dst.v6.sin6_addr, 16);
        std::memcpy(a + 32, &src.v6.sin6_port, 2);
        std::memcpy(a + 34, &dst.v6.sin6_port, 2);
    }
    std::memcpy(out.data(), h, n);
    return n;
}

size_t writeProxyV2Local(std::span<char> out) {
    if (out.size() < kV2FixedBytes) return 0;
    uint8_t h[kV2FixedBytes];
    std::memcpy(h, kV2Signature, sizeof(kV2Signature));
    h[12] = 0x20;  // version 2, LOCAL
    h[13] = 0x00;  // UNSPEC
    h[14] = 0;
    h[15] = 0;
    std::memcpy(out.data(), h, sizeof(h));
    return sizeof(h);
}

}  // namespace sluice::net
