// libFuzzer target: arbitrary bytes as what an HTTP/2 client sends after the connection preface,
// through the real ServerSession (nghttp2 + RequestHeadBuilder + flood accounting), fed in
// pieces, with an owner that answers every complete request. Besides crashes and sanitizer
// reports (a handler used after its onClose() is a use-after-free: each is freed there) it
// traps on broken contracts: a delivered request that breaks the translation rules (pseudo or
// connection-specific fields, invalid bytes, no single valid Host, framing that disagrees with
// the body), events out of order or after onClose(), a body longer or shorter than its
// content-length reported complete, buffering past its bounds, a stream never closed.
//
// Input: one option byte, then the client's bytes (the preface is prepended).
//   bits 0-3  chunk size: the bytes are fed 2^k at a time (k = 15: 32 KiB pieces)
//   bit 4     the owner consumes request bodies only once a request ends (windows stay shut)
//   bit 5     output is pulled only after every other feed (a full socket)
//   bit 6     responses are 100 KiB (past the default window), written with backpressure
//   bit 7     graceful shutdown() as the first request arrives
//
// Run: build/fuzz/tests/fuzz/http2_session_fuzz -max_total_time=60 \
//        -dict=tests/fuzz/http2_session.dict /tmp/corpus \
//        tests/fuzz/corpus/http2_session

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "http/field_rules.h"
#include "http/header_list.h"
#include "http2/field_checks.h"
#include "http2/preface.h"
#include "http2/server_session.h"

namespace {

using sluice::http::BodyFraming;
using sluice::http::FieldName;
using sluice::http::HeaderList;
using namespace sluice::http2;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

constexpr size_t kBigBody = 100 * 1024;

struct Options {
    size_t chunk;
    bool late_consume, slow_output, big_body, shutdown;
};

class FuzzOwner;

class FuzzStream : public StreamHandler {
  public:
    FuzzStream(FuzzOwner& owner, int32_t id, const sluice::http::RequestHead& head)
        : owner_(owner), id_(id), framing_(head.framing), content_length_(head.content_length) {}
    void onRequestData(std::string_view data) override;
    void onRequestTrailers(const HeaderList& trailers) override;
    void onRequestEnd() override;
    void onResponseWritable() override;
    void onClose(StreamEnd end) override;
    void answer();

  private:
    void write();
    FuzzOwner& owner_;
    int32_t id_;
    BodyFraming framing_;
    uint64_t content_length_;
    uint64_t received_ = 0;
    uint64_t unconsumed_ = 0;
    size_t written_ = 0;
    size_t body_size_ = 2;
    bool ended_ = false;
    bool answered_ = false;
};

class FuzzOwner : public SessionHandler {
  public:
    explicit FuzzOwner(const Options& o) : options(o), session(SessionSettings{}, *this) {}
    ~FuzzOwner() override {
        session.close();
        check(streams.empty());  // every stream got its onClose()
    }

    StreamHandler* onRequest(const Request& r) override {
        const sluice::http::RequestHead& head = r.head;
        check(!head.method.empty() && !head.target.empty());
        check(head.method != "CONNECT");
        check(head.target[0] == '/' || (head.target == "*" && head.method == "OPTIONS"));
        check(r.scheme.size() == 4 || r.scheme.size() == 5);
        check(head.headers.count("host") == 1 && head.headers.id(0) == FieldName::kHost);
        check(sluice::http::isValidAuthority(head.host()));
        check(head.headers.count("cookie") <= 1);
        for (size_t i = 0; i < head.headers.size(); ++i) {
            const FieldName id = head.headers.id(i);
            check(id != FieldName::kConnection && id != FieldName::kKeepAlive &&
                  id != FieldName::kProxyConnection && id != FieldName::kTransferEncoding &&
                  id != FieldName::kUpgrade && id != FieldName::kTe);
            check(isLowercaseToken(head.headers.name(i)));
            check(isValidFieldValue(head.headers.value(i)));
        }
        check(head.headers.count("content-length") <= 1);
        if (head.framing == BodyFraming::kContentLength) check(head.content_length > 0);
        if (r.end_stream) check(head.framing == BodyFraming::kNone);
        check(streams.count(r.stream_id) == 0);
        auto s = std::make_unique<FuzzStream>(*this, r.stream_id, head);
        FuzzStream* raw = s.get();
        streams[r.stream_id] = std::move(s);
        if (options.shutdown) session.shutdown();
        return raw;
    }

    void closed(int32_t id) {
        check(streams.erase(id) == 1);  // frees the handler: any later call is a use-after-free
    }

    Options options;
    std::map<int32_t, std::unique_ptr<FuzzStream>> streams;
    ServerSession session;
};

void FuzzStream::onRequestData(std::string_view data) {
    check(!ended_ && !data.empty());
    received_ += data.size();
    if (framing_ == BodyFraming::kContentLength) check(received_ <= content_length_);
    check(framing_ != BodyFraming::kNone);  // no body announced: nghttp2 resets any DATA
    if (owner_.options.late_consume) {
        unconsumed_ += data.size();
    } else {
        owner_.session.consumed(id_, data.size());
    }
}

void FuzzStream::onRequestTrailers(const HeaderList& trailers) {
    check(!ended_);
    for (size_t i = 0; i < trailers.size(); ++i) {
        check(isLowercaseToken(trailers.name(i)) && isValidFieldValue(trailers.value(i)));
        check(trailers.id(i) != FieldName::kContentLength && trailers.id(i) != FieldName::kHost);
    }
}

void FuzzStream::onRequestEnd() {
    check(!ended_);
    ended_ = true;
    if (framing_ == BodyFraming::kContentLength) check(received_ == content_length_);
    if (framing_ == BodyFraming::kNone) check(received_ == 0);
    if (unconsumed_ > 0) owner_.session.consumed(id_, unconsumed_);
    unconsumed_ = 0;
    answer();
}

void FuzzStream::answer() {
    if (answered_) return;
    answered_ = true;
    sluice::http::ResponseHead head;
    head.status = 200;
    body_size_ = owner_.options.big_body ? kBigBody : 2;
    head.headers.add("Content-Length", std::to_string(body_size_));
    head.headers.add("Connection", "close");
    // Refused only once the session is closing (a GOAWAY went out).
    if (owner_.session.submitResponse(id_, head, false)) write();
}

void FuzzStream::write() {
    static const std::string chunk(16384, 'x');
    while (written_ < body_size_) {
        const size_t n = std::min(chunk.size(), body_size_ - written_);
        const WriteStatus st = owner_.session.writeBody(id_, std::string_view(chunk).substr(0, n));
        check(st != WriteStatus::kClosed);
        written_ += n;
        if (st == WriteStatus::kFull) break;
    }
    if (written_ == body_size_) owner_.session.endResponse(id_);
}

void FuzzStream::onResponseWritable() {
    check(answered_);
    if (written_ < body_size_) write();
}

void FuzzStream::onClose(StreamEnd end) {
    if (end.reason == CloseReason::kCompleted) check(answered_);
    owner_.closed(id_);  // `this` is gone
}

void checkBounds(FuzzOwner& owner) {
    // Per stream: the buffer cap plus one write; output: the high-water mark plus one frame
    // (or a response header block).
    check(owner.session.bufferedResponseBytes() <=
          owner.session.openStreams() * (SessionSettings{}.stream_buffer_bytes + 16384));
    check(owner.session.openStreams() <= SessionSettings{}.max_concurrent_streams + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const uint8_t opt = data[0];
    const Options options{size_t{1} << (opt & 0x0f), (opt & 0x10) != 0, (opt & 0x20) != 0,
                          (opt & 0x40) != 0, (opt & 0x80) != 0};
    std::string input(kClientPreface);
    input.append(reinterpret_cast<const char*>(data + 1), size - 1);

    FuzzOwner owner(options);
    ServerSession& session = owner.session;
    int feeds = 0;
    for (size_t at = 0; at < input.size(); at += options.chunk) {
        const bool ok = session.feed(std::string_view(input).substr(at, options.chunk));
        checkBounds(owner);
        if (!ok) {
            check(!session.error().empty());
            check(owner.streams.empty());  // a dead session closed every stream
            break;
        }
        if (options.slow_output && ++feeds % 2 == 1) continue;
        for (int i = 0; i < 64 && session.wantsWrite(); ++i) {
            const std::string_view out = session.pendingOutput();
            check(out.size() <= ServerSession::kOutputHighWater + 64 * 1024 + 9);
            if (out.empty()) break;
            session.consumeOutput(out.size());
            checkBounds(owner);
        }
        if (session.done()) break;
    }
    return 0;
}
