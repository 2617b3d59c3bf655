#pragma once
// PROXY protocol v1 and v2 (haproxy.org's doc/proxy-protocol.txt): an incremental parser for the
// header an L4 balancer puts before a connection's first byte, and writers for the header sluice
// puts before its own upstream connections. Pure: no I/O, no libuv, no allocation; this file and
// its .cc compile alone (the fuzz target builds them without the rest of the net layer).
// Hand-written (style rule 12): Debian packages no library for it.
//
// ProxyHeaderParser contract:
//   - feed() takes the connection's bytes as they arrive, in pieces of any size, one byte at a
//     time included: verdict, reason, `consumed` total and header() are the same however the
//     bytes were split (tests/fuzz/proxy_header_fuzz.cc checks it).
//   - kNeedMore: the whole piece was taken (consumed == piece size) and the header is not
//     complete yet; keep reading (under client_header_timeout).
//   - kDone: the first `consumed` bytes of this piece ended the header. The rest of the piece and
//     every later byte belong to the connection (an HTTP request, a TLS ClientHello). header() is
//     valid from now on.
//   - kError: not a valid header: close the connection, forward nothing. `reason` is a short
//     static string for the log; `consumed` counts the piece's bytes up to the offending one. The
//     first byte decides whether the bytes can be a header at all: neither 'P' (v1) nor 0x0D (the
//     v2 signature) fails at once, so a client that sends no header (a plain HTTP request, a TLS
//     ClientHello) is refused on its first read rather than at the timeout. Later bytes are
//     checked as they arrive too (signature, version, command, family, length cap, v1 field
//     syntax), so a header fails at its first wrong byte wherever that can be known.
//   - After kDone or kError, feed() returns the same verdict again with consumed = 0.
//
// Accepted, strictly (anything else is kError):
//   v1: "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (TCP6 alike), exactly one space between
//       fields; IPv4 as four decimal numbers 0-255 without leading zeros; IPv6 as hex groups
//       with at most one "::" (and an optional dotted IPv4 tail, which inet_ntop writes for
//       v4-mapped addresses); ports 0-65535 without leading zeros; the line ends in CRLF (never a
//       lone CR or LF) within 107 bytes, CRLF included. "PROXY UNKNOWN\r\n", or "PROXY UNKNOWN "
//       and anything up to the CRLF, means "no address" (the spec says to ignore the rest).
//   v2: the 12-byte signature; version 2; command LOCAL (0) or PROXY (1); a family the spec
//       defines (high nibble 0-3: UNSPEC, INET, INET6, UNIX) and a protocol it defines (low
//       nibble 0-2: UNSPEC, STREAM, DGRAM), DGRAM refused with PROXY (sluice relays TCP); at most
//       kProxyV2MaxBytes in all. Then:
//       - PROXY over TCP/IPv4 (0x11) or TCP/IPv6 (0x21): the length must cover the address block
//         (12 or 36 bytes); what follows is TLVs (type, 16-bit length, value), each checked to lie
//         inside the header as it begins; values are skipped, except a CRC32C TLV (type 0x03),
//         which must be 4 bytes, appear once, and match the header's checksum.
//       - PROXY over AF_UNIX stream (0x31): the 216 address bytes are skipped, TLVs as above;
//         "no address".
//       - PROXY with an UNSPEC family or protocol (0x00, 0x01, 0x10, 0x20, 0x30), and LOCAL with
//         any valid family byte: the length's bytes are skipped unread (the spec: discard the
//         block, ignore address information); "no address".
//   The cap: the spec's 16-bit length allows 65,551 bytes; the headers real peers send (address,
//   SSL TLVs with a client CN, a 128-byte unique ID, AWS/GCP endpoint IDs) stay under 1 KiB, so
//   kProxyV2MaxBytes = 4096 leaves room and bounds what a peer can make us read before its data.
//
// Memory: the parser is ~400 bytes (a 107-byte v1 line buffer, the header); v2 TLVs are checked
// as they stream by and never buffered. It may be freed once feed() returns kDone.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sluice::net {

inline constexpr size_t kProxyV1MaxBytes = 107;   // "PROXY UNKNOWN <39> <39> 65535 65535\r\n"
inline constexpr size_t kProxyV2MaxBytes = 4096;  // signature + fixed part + length field's bytes
inline constexpr size_t kProxyV2HeaderWrittenMax = 16 + 36;  // what writeProxyV2 writes at most

struct ProxyHeader {
    int version = 0;  // 1 or 2
    // True: source and destination are the relayed connection's endpoints (v1 TCP4/TCP6, v2
    // PROXY over TCP/IPv4 or IPv6): AF_INET or AF_INET6 with address and port, network order.
    // False (v1 UNKNOWN, v2 LOCAL: a balancer's own health check, v2 UNSPEC or AF_UNIX): use the
    // socket's own addresses, as if no header had been sent.
    bool has_addresses = false;
    sockaddr_storage source{};
    sockaddr_storage destination{};
    size_t bytes = 0;  // length of the header on the wire
};

class ProxyHeaderParser {
  public:
    enum class Status : uint8_t { kNeedMore, kDone, kError };
    struct Result {
        Status status = Status::kNeedMore;
        size_t consumed = 0;
        const char* reason = "";  // static; "" unless kError
    };

    [[nodiscard]] Result feed(std::string_view bytes);
    // Valid once feed() returned kDone.
    const ProxyHeader& header() const { return header_; }
    bool done() const { return phase_ == Phase::kDone; }
    bool failed() const { return phase_ == Phase::kError; }

  private:
    enum class Phase : uint8_t {
        kStart,
        kV1,
        kV2Fixed,      // signature, version/command, family, length: bytes 0-15
        kV2Addresses,  // the address block (kept for 0x11/0x21, skipped for 0x31)
        kV2Tlvs,       // TLVs after the address block, checked as they stream by
        kV2Skip,       // LOCAL or UNSPEC: the rest of the header, unread
        kDone,
        kError,
    };

    // One byte; returns kNeedMore, or the verdict once this byte decided it.
    Status step(uint8_t byte);
    Status stepV1(uint8_t byte);
    Status stepV2Fixed(uint8_t byte);
    Status stepV2Tlv(uint8_t byte);
    Status finishV1();
    Status finishV2();
    Status fail(const char* reason);

    Phase phase_ = Phase::kStart;
    const char* reason_ = "";
    size_t pos_ = 0;    // header bytes taken so far
    size_t total_ = 0;  // v2: 16 + length field, once known
    uint32_t crc_ = 0xFFFFFFFFu;
    uint32_t crc_received_ = 0;
    size_t crc_at_ = 0;  // v2: offset of the CRC32C TLV's value, 0 = none
    uint16_t tlv_length_ = 0;
    uint8_t tlv_type_ = 0;
    uint8_t tlv_header_taken_ = 0;  // 0-3 bytes of the current TLV's type+length
    uint32_t tlv_value_left_ = 0;
    uint8_t v1_family_ = 0;  // 0 unknown yet, '4', '6', 'U'
    uint8_t v1_spaces_ = 0;
    uint8_t command_ = 0;              // v2: 0 LOCAL, 1 PROXY
    uint8_t family_ = 0;               // v2: family/protocol byte
    uint8_t buf_[kProxyV1MaxBytes]{};  // v1: the line; v2: bytes 0-15 + up to 36 address bytes
    ProxyHeader header_;
};

// Writers, for a connection relayed from `source` (the client) to `destination` (the address it
// connected to). Addresses are AF_INET or AF_INET6; when the two differ, the IPv4 one is written
// as its v4-mapped IPv6 form (::ffff:a.b.c.d) so both share the header's one family. Each returns
// the bytes written into `out`, or 0 when `out` is too small or a family is neither.
//   v1: "PROXY TCP4 ...\r\n" / "PROXY TCP6 ...\r\n", at most kProxyV1MaxBytes.
//   v2: PROXY command, TCP over IPv4 (28 bytes) or IPv6 (52 bytes), no TLVs.
size_t writeProxyV1(const sockaddr& source, const sockaddr& destination, std::span<char> out);
size_t writeProxyV2(const sockaddr& source, const sockaddr& destination, std::span<char> out);
// v2 LOCAL, family UNSPEC, no address (16 bytes): for health checks, which the server must
// accept as the balancer's own connection. v1 has no LOCAL; its checks send a TCP4/TCP6 line
// with the check socket's own two addresses (the spec's advice), through writeProxyV1.
size_t writeProxyV2Local(std::span<char> out);

}  // namespace sluice::net
