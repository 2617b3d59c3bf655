#pragma once
// Test peers for ServerSession, all in memory (no sockets):
// - H2Client: a real nghttp2 client session; it sends what it is told, malformed fields
//   included (nghttp2 does not validate what it sends).
// - RawClient: hand-made frames (HPACK literals without indexing), for what no client library
//   sends: CONTINUATION floods, HPACK bombs, frames in a broken order.
// - FrameLog: every frame the server wrote, parsed and HPACK-decoded on its own, so tests assert
//   on the wire bytes rather than on a client library's interpretation of them.
// - RecordingServer: the SessionHandler, recording each stream's events.
// pump() moves bytes both ways until neither side has anything to say.

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http2/preface.h"
#include "http2/server_session.h"

namespace sluice::http2::testing {

using Fields = std::vector<std::pair<std::string, std::string>>;

inline std::string be32(uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
}

inline std::string rawFrame(uint8_t type, uint8_t flags, uint32_t stream_id,
                            std::string_view payload) {
    std::string f;
    const auto n = static_cast<uint32_t>(payload.size());
    f += static_cast<char>(n >> 16);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n);
    f += static_cast<char>(type);
    f += static_cast<char>(flags);
    f += be32(stream_id & 0x7fffffff);
    f += payload;
    return f;
}

// HPACK integer with an N-bit prefix (RFC 7541 5.1); `first` holds the bits above the prefix.
inline std::string hpackInt(uint32_t value, int prefix_bits, uint8_t first) {
    std::string out;
    const uint32_t max = (1u << prefix_bits) - 1;
    if (value < max) {
        out += static_cast<char>(first | value);
        return out;
    }
    out += static_cast<char>(first | max);
    value -= max;
    while (value >= 128) {
        out += static_cast<char>((value & 0x7f) | 0x80);
        value >>= 7;
    }
    out += static_cast<char>(value);
    return out;
}

// Literal field without indexing, new name, no Huffman: any bytes at all.
inline std::string hpackLiteral(std::string_view name, std::string_view value) {
    std::string out(1, '\0');
    out += hpackInt(static_cast<uint32_t>(name.size()), 7, 0);
    out += name;
    out += hpackInt(static_cast<uint32_t>(value.size()), 7, 0);
    out += value;
    return out;
}

// Literal with incremental indexing (enters the dynamic table), new name.
inline std::string hpackIndexedLiteral(std::string_view name, std::string_view value) {
    std::string out(1, '\x40');
    out += hpackInt(static_cast<uint32_t>(name.size()), 7, 0);
    out += name;
    out += hpackInt(static_cast<uint32_t>(value.size()), 7, 0);
    out += value;
    return out;
}

inline std::string hpackBlock(const Fields& fields) {
    std::string block;
    for (const auto& [n, v] : fields) block += hpackLiteral(n, v);
    return block;
}

inline Fields getFields(std::string path = "/") {
    return {{":method", "GET"},
            {":scheme", "https"},
            {":authority", "example.com"},
            {":path", std::move(path)}};
}

// The side of the connection the server talks to.
class ClientSide {
  public:
    virtual ~ClientSide() = default;
    virtual std::string output() = 0;
    virtual void feed(std::string_view server_bytes) = 0;
    // Everything this side sent, the preface included (seeds for the fuzz corpus).
    const std::string& sent() const { return sent_; }

  protected:
    std::string sent_;
};

// Frames the server wrote, decoded.
class FrameLog {
  public:
    struct Frame {
        uint8_t type, flags;
        int32_t stream_id;
        std::string payload;
    };
    struct StreamView {
        int status = 0;
        Fields headers;  // of the final response (interim ones in `interim`)
        Fields trailers;
        std::vector<int> interim;
        std::string body;
        bool end_stream = false;
        bool reset = false;
        uint32_t reset_code = 0;
    };

    FrameLog() { nghttp2_hd_inflate_new(&inflater_); }
    ~FrameLog() { nghttp2_hd_inflate_del(inflater_); }
    FrameLog(const FrameLog&) = delete;
    FrameLog& operator=(const FrameLog&) = delete;

    void feed(std::string_view bytes) {
        buf_ += bytes;
        while (buf_.size() >= 9) {
            const auto* b = reinterpret_cast<const uint8_t*>(buf_.data());
            const size_t len = (size_t{b[0]} << 16) | (size_t{b[1]} << 8) | b[2];
            if (buf_.size() < 9 + len) break;
            Frame f{b[3], b[4],
                    static_cast<int32_t>(((uint32_t{b[5]} << 24) | (uint32_t{b[6]} << 16) |
                                          (uint32_t{b[7]} << 8) | b[8]) &
                                         0x7fffffff),
                    buf_.substr(9, len)};
            buf_.erase(0, 9 + len);
            onFrame(f);
            frames.push_back(std::move(f));
        }
    }

    std::vector<Frame> frames;
    std::map<int32_t, StreamView> streams;
    struct Goaway {
        int32_t last_stream_id;
        uint32_t code;
    };
    std::vector<Goaway> goaways;
    int pings = 0, ping_acks = 0, settings = 0, settings_acks = 0;
    std::vector<std::pair<uint16_t, uint32_t>> server_settings;
    bool decode_error = false;

    size_t count(uint8_t type) const {
        size_t n = 0;
        for (const Frame& f : frames) n += f.type == type ? 1 : 0;
        return n;
    }
    bool hasStream(int32_t id) const { return streams.count(id) != 0; }

  private:
    static uint32_t read32(std::string_view p, size_t at) {
        const auto* b = reinterpret_cast<const uint8_t*>(p.data() + at);
        return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    }
    void onFrame(const Frame& f) {
        switch (f.type) {
            case NGHTTP2_HEADERS:
            case NGHTTP2_CONTINUATION: {
                if (f.type == NGHTTP2_HEADERS) {
                    block_.clear();
                    block_stream_ = f.stream_id;
                    block_end_stream_ = (f.flags & NGHTTP2_FLAG_END_STREAM) != 0;
                    size_t at = 0, pad = 0;
                    if (f.flags & NGHTTP2_FLAG_PADDED) pad = static_cast<uint8_t>(f.payload[at++]);
                    if (f.flags & NGHTTP2_FLAG_PRIORITY) at += 5;
                    block_ += f.payload.substr(at, f.payload.size() - at - pad);
                } else {
                    block_ += f.payload;
                }
                if (f.flags & NGHTTP2_FLAG_END_HEADERS) onHeaderBlock();
                break;
            }
            case NGHTTP2_DATA: {
                StreamView& s = streams[f.stream_id];
                size_t at = 0, pad = 0;
                if (f.flags & NGHTTP2_FLAG_PADDED) pad = static_cast<uint8_t>(f.payload[at++]);
                s.body += f.payload.substr(at, f.payload.size() - at - pad);
                if (f.flags & NGHTTP2_FLAG_END_STREAM) s.end_stream = true;
                break;
            }
            case NGHTTP2_RST_STREAM: {
                StreamView& s = streams[f.stream_id];
                s.reset = true;
                s.reset_code = read32(f.payload, 0);
                break;
            }
            case NGHTTP2_GOAWAY:
                goaways.push_back({static_cast<int32_t>(read32(f.payload, 0) & 0x7fffffff),
                                   read32(f.payload, 4)});
                break;
            case NGHTTP2_PING:
                (f.flags & NGHTTP2_FLAG_ACK) ? ++ping_acks : ++pings;
                break;
            case NGHTTP2_SETTINGS:
                if (f.flags & NGHTTP2_FLAG_ACK) {
                    ++settings_acks;
                } else {
                    ++settings;
                    for (size_t at = 0; at + 6 <= f.payload.size(); at += 6) {
                        const auto* b = reinterpret_cast<const uint8_t*>(f.payload.data() + at);
                        server_settings.emplace_back(static_cast<uint16_t>((b[0] << 8) | b[1]),
                                                     read32(f.payload, at + 2));
                    }
                }
                break;
            default:
                break;
        }
    }
    void onHeaderBlock() {
        Fields fields;
        auto* in = reinterpret_cast<const uint8_t*>(block_.data());
        size_t left = block_.size();
        for (;;) {
            nghttp2_nv nv;
            int flags = 0;
            const ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left, 1);
            if (n < 0) {
                decode_error = true;
                return;
            }
            in += n;
            left -= static_cast<size_t>(n);
            if (flags & NGHTTP2_HD_INFLATE_EMIT) {
                fields.emplace_back(std::string(reinterpret_cast<char*>(nv.name), nv.namelen),
                                    std::string(reinterpret_cast<char*>(nv.value), nv.valuelen));
            }
            if (flags & NGHTTP2_HD_INFLATE_FINAL) {
                nghttp2_hd_inflate_end_headers(inflater_);
                break;
            }
            if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) break;
        }
        StreamView& s = streams[block_stream_];
        if (!fields.empty() && fields[0].first == ":status") {
            const int status = std::atoi(fields[0].second.c_str());
            if (status < 200) {
                s.interim.push_back(status);
            } else {
                s.status = status;
                s.headers.assign(fields.begin() + 1, fields.end());
            }
        } else {
            s.trailers = std::move(fields);
        }
        if (block_end_stream_) s.end_stream = true;
    }

    nghttp2_hd_inflater* inflater_ = nullptr;
    std::string buf_;
    std::string block_;
    int32_t block_stream_ = 0;
    bool block_end_stream_ = false;
};

// A real nghttp2 client. Request bodies come from strings; its receive windows open only
// through consume() unless auto_window_update.
class H2Client : public ClientSide {
  public:
    struct Options {
        bool auto_window_update = true;
        std::vector<nghttp2_settings_entry> settings;
    };
    H2Client() : H2Client(Options{}) {}
    explicit H2Client(const Options& o) {
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
            cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t*, size_t len, void* self) {
                static_cast<H2Client*>(self)->received_[id] += len;
                return 0;
            });
        nghttp2_option* opt = nullptr;
        nghttp2_option_new(&opt);
        if (!o.auto_window_update) nghttp2_option_set_no_auto_window_update(opt, 1);
        nghttp2_session_client_new2(&session_, cbs, this, opt);
        nghttp2_option_del(opt);
        nghttp2_session_callbacks_del(cbs);
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, o.settings.data(), o.settings.size());
    }
    ~H2Client() override { nghttp2_session_del(session_); }
    H2Client(const H2Client&) = delete;
    H2Client& operator=(const H2Client&) = delete;

    // A request: `body` nullopt = END_STREAM on HEADERS; trailers go after the body.
    int32_t request(const Fields& fields, std::optional<std::string> body = std::nullopt,
                    const Fields& trailers = {}) {
        std::vector<nghttp2_nv> nva = toNv(fields);
        nghttp2_data_provider provider;
        nghttp2_data_provider* prd = nullptr;
        auto state = std::make_unique<Body>();
        if (body.has_value()) {
            state->bytes = std::move(*body);
            state->trailers = trailers;
            provider.source.ptr = state.get();
            provider.read_callback = readBody;
            prd = &provider;
        }
        const int32_t id =
            nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), prd, nullptr);
        if (id > 0 && prd != nullptr) bodies_[id] = std::move(state);
        return id;
    }
    void reset(int32_t id, uint32_t code = NGHTTP2_CANCEL) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
    }
    void ping() { nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr); }
    void consume(int32_t id, size_t n) { nghttp2_session_consume(session_, id, n); }
    // Bytes appended to the client's stream after what the session has produced so far (at a
    // frame boundary). Literal-without-indexing blocks leave the HPACK state alone.
    void inject(std::string bytes) { injected_ += bytes; }
    size_t received(int32_t id) const {
        auto it = received_.find(id);
        return it == received_.end() ? 0 : it->second;
    }
    nghttp2_session* session() { return session_; }

    std::string output() override {
        std::string out;
        for (;;) {
            const uint8_t* data = nullptr;
            const ssize_t n = nghttp2_session_mem_send(session_, &data);
            if (n <= 0) break;
            out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
        }
        out += injected_;
        injected_.clear();
        sent_ += out;
        return out;
    }
    void feed(std::string_view bytes) override {
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size());
    }

  private:
    struct Body {
        std::string bytes;
        size_t at = 0;
        Fields trailers;
    };
    static std::vector<nghttp2_nv> toNv(const Fields& fields) {
        std::vector<nghttp2_nv> nva;
        for (const auto& [n, v] : fields) {
            nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                           reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(),
                           v.size(), NGHTTP2_NV_FLAG_NONE});
        }
        return nva;
    }
    static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                            uint32_t* flags, nghttp2_data_source* source, void*) {
        auto* b = static_cast<Body*>(source->ptr);
        const size_t n = std::min(length, b->bytes.size() - b->at);
        std::copy_n(b->bytes.data() + b->at, n, buf);
        b->at += n;
        if (b->at == b->bytes.size()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            if (!b->trailers.empty()) {
                *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                std::vector<nghttp2_nv> nva = toNv(b->trailers);
                nghttp2_submit_trailer(session, id, nva.data(), nva.size());
            }
        }
        return static_cast<ssize_t>(n);
    }

    nghttp2_session* session_ = nullptr;
    std::map<int32_t, std::unique_ptr<Body>> bodies_;
    std::map<int32_t, size_t> received_;
    std::string injected_;
};

// Hand-made frames. Starts with the preface and an empty SETTINGS; ACKs the server's SETTINGS.
class RawClient : public ClientSide {
  public:
    RawClient() { queued_ = std::string(kClientPreface) + rawFrame(NGHTTP2_SETTINGS, 0, 0, ""); }
    void send(std::string bytes) { queued_ += bytes; }
    void headers(uint32_t stream_id, const Fields& fields, bool end_stream) {
        send(rawFrame(NGHTTP2_HEADERS,
                      NGHTTP2_FLAG_END_HEADERS | (end_stream ? NGHTTP2_FLAG_END_STREAM : 0),
                      stream_id, hpackBlock(fields)));
    }
    void data(uint32_t stream_id, std::string_view bytes, bool end_stream) {
        send(rawFrame(NGHTTP2_DATA, end_stream ? NGHTTP2_FLAG_END_STREAM : 0, stream_id, bytes));
    }
    std::string output() override {
        std::string out;
        out.swap(queued_);
        sent_ += out;
        return out;
    }
    void feed(std::string_view bytes) override {
        const int before = log_.settings;
        log_.feed(bytes);
        for (int i = before; i < log_.settings; ++i) {
            queued_ += rawFrame(NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, "");
        }
    }

  private:
    FrameLog log_;  // only to see the server's SETTINGS
    std::string queued_;
};

// One stream as the server's owner saw it.
struct RecordedStream : StreamHandler {
    ServerSession* session = nullptr;
    int32_t id = 0;
    http::RequestHead head;
    std::string scheme;
    bool end_stream = false;
    std::string body;
    size_t unconsumed = 0;
    bool auto_consume = true;
    http::HeaderList trailers;
    bool got_trailers = false;
    bool ended = false;
    int writable = 0;
    bool closed = false;
    int close_calls = 0;
    StreamEnd end{CloseReason::kCompleted, ErrorCode::kNoError};
    std::function<void(RecordedStream&)> on_end;       // e.g. answer once the request is in
    std::function<void(RecordedStream&)> on_writable;  // e.g. write more body

    void onRequestData(std::string_view data) override {
        body += data;
        if (auto_consume) {
            session->consumed(id, data.size());
        } else {
            unconsumed += data.size();
        }
    }
    void onRequestTrailers(const http::HeaderList& t) override {
        trailers = t;
        got_trailers = true;
    }
    void onRequestEnd() override {
        ended = true;
        if (on_end) on_end(*this);
    }
    void onResponseWritable() override {
        ++writable;
        if (on_writable) on_writable(*this);
    }
    void onClose(StreamEnd e) override {
        closed = true;
        ++close_calls;
        end = e;
    }
    void consumeAll() {
        session->consumed(id, unconsumed);
        unconsumed = 0;
    }
};

class RecordingServer : public SessionHandler {
  public:
    explicit RecordingServer(const SessionSettings& settings = {}) : session(settings, *this) {}

    StreamHandler* onRequest(const Request& r) override {
        auto s = std::make_unique<RecordedStream>();
        s->session = &session;
        s->id = r.stream_id;
        s->head = r.head;
        s->scheme = std::string(r.scheme);
        s->end_stream = r.end_stream;
        s->auto_consume = auto_consume;
        s->on_end = on_end;
        RecordedStream* raw = s.get();
        streams[r.stream_id] = std::move(s);
        order.push_back(r.stream_id);
        if (on_request) on_request(*raw);
        return answer_null ? nullptr : raw;
    }
    void onPeerGoaway(ErrorCode code) override { peer_goaways.push_back(code); }

    RecordedStream* stream(int32_t id) {
        auto it = streams.find(id);
        return it == streams.end() ? nullptr : it->second.get();
    }
    // A 200 with `body` (and content-length) once the request has ended.
    void answerWith(std::string body) {
        on_end = [body](RecordedStream& s) {
            http::ResponseHead head;
            head.status = 200;
            head.headers.add("content-type", "text/plain");
            head.headers.add("content-length", std::to_string(body.size()));
            s.session->submitResponse(s.id, head, false);
            s.session->writeBody(s.id, body);
            s.session->endResponse(s.id);
        };
    }

    // Declared before the session, which (destroyed first) still tells open streams onClose().
    std::map<int32_t, std::unique_ptr<RecordedStream>> streams;
    std::vector<int32_t> order;
    std::vector<ErrorCode> peer_goaways;
    std::function<void(RecordedStream&)> on_request;
    std::function<void(RecordedStream&)> on_end;
    bool auto_consume = true;
    bool answer_null = false;
    ServerSession session;
};

struct PumpResult {
    bool server_ok = true;
    int rounds = 0;
};

// Moves bytes both ways (as two sockets would) until both sides are quiet. Server output also
// goes to `log`. `max_server_bytes`: pull at most this much server output per round.
inline PumpResult pump(ClientSide& client, ServerSession& server, FrameLog& log,
                       int max_rounds = 100000) {
    PumpResult r;
    for (; r.rounds < max_rounds; ++r.rounds) {
        bool moved = false;
        const std::string out = client.output();
        if (!out.empty()) {
            moved = true;
            if (r.server_ok && !server.feed(out)) r.server_ok = false;
        }
        const std::string_view in = server.pendingOutput();
        if (!in.empty()) {
            moved = true;
            const std::string copy(in);
            server.consumeOutput(copy.size());
            log.feed(copy);
            client.feed(copy);
        }
        if (!moved) break;
    }
    return r;
}

// SLUICE_DUMP_CORPUS=<dir>: writes what `client` sent (after the preface) as a seed of
// tests/fuzz/corpus/http2_session, behind the fuzz target's option byte (0x0f: whole chunks).
inline void dumpSeed(const std::string& name, const ClientSide& client) {
    const char* dir = std::getenv("SLUICE_DUMP_CORPUS");
    if (dir == nullptr) return;
    std::string bytes = client.sent();
    if (bytes.compare(0, kClientPreface.size(), kClientPreface) == 0) {
        bytes.erase(0, kClientPreface.size());
    }
    std::ofstream out(std::string(dir) + "/" + name, std::ios::binary);
    out << '\x0f' << bytes;
}

}  // namespace sluice::http2::testing
