#pragma once
// Follows the frame boundaries of the client's byte stream on its own, ahead of nghttp2, and
// reports every frame header once. nghttp2 1.52 skips frames it ignores (unknown types, PRIORITY
// without RFC 7540 priorities, DATA on closed streams) without any callback, so flood
// accounting that must see every frame reads the headers here. Pure; bytes are not copied
// beyond the 9 of a header split across reads.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::http2 {

struct FrameHeader {
    uint32_t length;
    uint8_t type;
    uint8_t flags;
    uint32_t stream_id;
};

class FrameScanner {
  public:
    static constexpr size_t kPrefaceBytes = 24;
    static constexpr size_t kHeaderBytes = 9;

    // `bytes` continue the client's stream (the first kPrefaceBytes are the preface).
    // on_frame(const FrameHeader&) returns false to stop: scan() then returns the offset in
    // `bytes` where that frame's header starts (0 if it began in an earlier call), and the
    // scanner is done. Otherwise returns bytes.size().
    template <typename OnFrame>
    size_t scan(std::string_view bytes, OnFrame&& on_frame) {
        size_t at = 0;
        const size_t n = bytes.size();
        while (at < n) {
            if (preface_left_ > 0 || skip_ > 0) {
                size_t& left = preface_left_ > 0 ? preface_left_ : skip_;
                const size_t take = left < n - at ? left : n - at;
                left -= take;
                at += take;
                continue;
            }
            const size_t start = header_len_ == 0 ? at : 0;
            while (header_len_ < kHeaderBytes && at < n) {
                header_[header_len_++] = static_cast<unsigned char>(bytes[at++]);
            }
            if (header_len_ < kHeaderBytes) break;
            header_len_ = 0;
            const FrameHeader h{
                (uint32_t{header_[0]} << 16) | (uint32_t{header_[1]} << 8) | header_[2], header_[3],
                header_[4],
                ((uint32_t{header_[5]} << 24) | (uint32_t{header_[6]} << 16) |
                 (uint32_t{header_[7]} << 8) | header_[8]) &
                    0x7fffffffu};
            skip_ = h.length;
            if (!on_frame(h)) return start;
        }
        return n;
    }

  private:
    size_t preface_left_ = kPrefaceBytes;
    size_t skip_ = 0;  // payload bytes of the current frame still to come
    unsigned char header_[kHeaderBytes] = {};
    size_t header_len_ = 0;
};

}  // namespace sluice::http2
