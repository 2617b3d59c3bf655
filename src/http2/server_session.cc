#include "http2/server_session.h"

#include <nghttp2/nghttp2.h>

#include <string>

#include "http/serializer.h"
#include "http2/server_stream.h"
#include "http2/session_callbacks.h"

namespace sluice::http2 {

namespace {

// Streams kept for reuse: enough for a busy connection's turnover, not a retained peak.
constexpr size_t kSpareStreams = 8;
constexpr int kMaxSendRounds = 16;

// The nghttp2_nv array for one header block; nghttp2 copies names and values on submit.
std::vector<nghttp2_nv>& nvArray(const ResponseFields& fields) {
    thread_local std::vector<nghttp2_nv> nva;
    nva.clear();
    for (size_t i = 0; i < fields.size(); ++i) {
        const std::string_view name = fields.name(i);
        const std::string_view value = fields.value(i);
        nghttp2_nv nv;
        // nghttp2 only reads through these pointers (it copies without NO_COPY flags).
        nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
        nv.namelen = name.size();
        nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
        nv.valuelen = value.size();
        nv.flags = NGHTTP2_NV_FLAG_NONE;
        nva.push_back(nv);
    }
    return nva;
}

}  // namespace

ServerSession::ServerSession(const SessionSettings& settings, SessionHandler& handler)
    : settings_(settings), handler_(handler), glitches_(settings.glitch_limit) {
    if (settings_.max_concurrent_streams == 0) settings_.max_concurrent_streams = 1;
    if (settings_.initial_window > NGHTTP2_MAX_WINDOW_SIZE) {
        settings_.initial_window = NGHTTP2_MAX_WINDOW_SIZE;
    }
    if (settings_.connection_window > NGHTTP2_MAX_WINDOW_SIZE) {
        settings_.connection_window = NGHTTP2_MAX_WINDOW_SIZE;
    }
    if (settings_.stream_buffer_bytes == 0) settings_.stream_buffer_bytes = 1;
    session_ = SessionCallbacks::newSession(*this, settings_);
    if (session_ == nullptr) {
        failed_ = true;
        error_ = "cannot create the HTTP/2 session";
    }
}

ServerSession::~ServerSession() {
    close();
    if (session_ != nullptr) nghttp2_session_del(session_);
}

bool ServerSession::feed(std::string_view bytes) {
    if (failed_ || closed_ || depth_ > 0) return false;  // depth_: not from inside a handler
    // Flood accounting first, on every frame header: past the limit, what came before that
    // frame is processed, then GOAWAY, and nghttp2 (closing) opens no stream and answers no
    // PING or SETTINGS in the rest.
    size_t cut = bytes.size();
    if (!calmed_) {
        cut = scanner_.scan(bytes, [this](const FrameHeader& h) { return countFrame(h); });
    }
    if (cut < bytes.size()) {
        if (!receive(bytes.substr(0, cut))) return false;
        SessionCallbacks::calm(*this);
        bytes.remove_prefix(cut);
    }
    if (!receive(bytes)) return false;
    dispatchEvents();
    checkFinished();
    return !failed_ && !closed_;
}

bool ServerSession::receive(std::string_view bytes) {
    ++depth_;
    const ssize_t rv = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    --depth_;
    if (close_requested_) {
        close();
        return false;
    }
    if (rv < 0) {
        fail(static_cast<int>(rv));
        return false;
    }
    return true;
}

std::string_view ServerSession::pendingOutput() {
    if (depth_ == 0 && !failed_ && !closed_) {
        for (int round = 0; round < kMaxSendRounds && !outputFull(); ++round) {
            ++depth_;
            const int rv = nghttp2_session_send(session_);
            --depth_;
            if (close_requested_) {
                close();
                break;
            }
            if (rv != 0) {
                fail(rv);
                break;
            }
            // Handlers may write more (onResponseWritable): send again if they did anything.
            if (!dispatchEvents() || failed_ || closed_) break;
        }
        checkFinished();
    }
    return std::string_view(out_).substr(out_at_);
}

void ServerSession::consumeOutput(size_t n) {
    out_at_ += n < outputSize() ? n : outputSize();
    if (out_at_ == out_.size()) {
        out_.clear();
        out_at_ = 0;
        // An idle connection keeps no big buffer; a busy one keeps it for the next frames.
        if (live_.empty() && out_.capacity() > 16 * 1024) std::string().swap(out_);
    } else if (out_at_ >= kOutputHighWater / 2) {
        out_.erase(0, out_at_);
        out_at_ = 0;
    }
}

bool ServerSession::wantsWrite() const {
    if (outputSize() > 0) return true;
    return !failed_ && !closed_ && nghttp2_session_want_write(session_) != 0;
}

bool ServerSession::wantsRead() const {
    return !failed_ && !closed_ && nghttp2_session_want_read(session_) != 0;
}

bool ServerSession::done() const {
    if (outputSize() > 0) return false;
    if (failed_ || closed_) return true;
    return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

ServerSession::Stream* ServerSession::findStream(int32_t stream_id) const {
    if (session_ == nullptr || stream_id <= 0) return nullptr;
    return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, stream_id));
}

ServerSession::Stream* ServerSession::ownedStream(int32_t stream_id) const {
    if (failed_ || closed_) return nullptr;
    Stream* s = findStream(stream_id);
    return s != nullptr && s->delivered && !s->owner_reset ? s : nullptr;
}

ServerSession::Stream* ServerSession::openStream(int32_t stream_id) {
    std::unique_ptr<Stream> s;
    if (!spare_.empty()) {
        s = std::move(spare_.back());
        spare_.pop_back();
    } else {
        s = std::make_unique<Stream>();
    }
    s->id = stream_id;
    s->live_index = live_.size();
    s->request.start(settings_.head);
    live_.push_back(std::move(s));
    return live_.back().get();
}

void ServerSession::releaseStream(Stream* s) {
    const size_t i = s->live_index;
    std::unique_ptr<Stream> owned = std::move(live_[i]);
    if (i + 1 != live_.size()) {
        live_[i] = std::move(live_.back());
        live_[i]->live_index = i;
    }
    live_.pop_back();
    if (spare_.size() < kSpareStreams) {
        owned->recycle();
        spare_.push_back(std::move(owned));
    }
}

bool ServerSession::submitHead(Stream& s, int status, const http::HeaderList* headers,
                               bool end_stream, const http::HeaderList* extra) {
    fields_.clear();
    if (!fields_.addStatus(status)) return false;
    if (headers != nullptr) fields_.addFrom(*headers, false);
    if (extra != nullptr) fields_.addFrom(*extra, false);
    std::vector<nghttp2_nv>& nva = nvArray(fields_);
    int rv;
    if (status < 200) {
        rv = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, nva.data(),
                                    nva.size(), nullptr);
        return rv >= 0;
    }
    nghttp2_data_provider provider;
    provider.source.ptr = &s;
    provider.read_callback = SessionCallbacks::readBody;
    rv = nghttp2_submit_response(session_, s.id, nva.data(), nva.size(),
                                 end_stream ? nullptr : &provider);
    if (rv != 0) return false;
    s.head_submitted = true;
    s.end_submitted = end_stream;
    return true;
}

bool ServerSession::submitInformational(int32_t stream_id, const http::ResponseHead& head) {
    Stream* s = ownedStream(stream_id);
    if (s == nullptr || s->head_submitted || head.status >= 200) return false;
    return submitHead(*s, head.status, &head.headers, false);
}

bool ServerSession::submitResponse(int32_t stream_id, const http::ResponseHead& head,
                                   bool end_stream, const http::HeaderList* extra) {
    Stream* s = ownedStream(stream_id);
    if (s == nullptr || s->head_submitted || head.status < 200) return false;
    return submitHead(*s, head.status, &head.headers, end_stream, extra);
}

void ServerSession::resumeIfDeferred(Stream& s) {
    if (!s.deferred) return;
    s.deferred = false;
    nghttp2_session_resume_data(session_, s.id);
}

WriteStatus ServerSession::writeBody(int32_t stream_id, std::string_view bytes) {
    Stream* s = ownedStream(stream_id);
    if (s == nullptr || !s->head_submitted || s->end_submitted) return WriteStatus::kClosed;
    if (!bytes.empty()) {
        s->body.append(bytes);
        resumeIfDeferred(*s);
    }
    if (s->buffered() >= settings_.stream_buffer_bytes) {
        s->full = true;
        return WriteStatus::kFull;
    }
    return WriteStatus::kWritable;
}

bool ServerSession::endResponse(int32_t stream_id, const http::HeaderList* trailers) {
    Stream* s = ownedStream(stream_id);
    if (s == nullptr || !s->head_submitted || s->end_submitted) return false;
    s->end_submitted = true;
    if (trailers != nullptr && !trailers->empty()) {
        s->trailers = *trailers;
        s->has_trailers = true;
    }
    resumeIfDeferred(*s);
    return true;
}

bool ServerSession::respondWithError(Stream& s, int status, const http::HeaderList* extra) {
    // The same body as HTTP/1.1 error responses (http::serializeErrorResponse).
    std::string body = std::to_string(status);
    body += ' ';
    body += http::reasonPhrase(status);
    body += '\n';
    http::HeaderList headers;
    headers.add("content-type", "text/plain");
    headers.add("content-length", std::to_string(body.size()));
    if (!submitHead(s, status, &headers, false, extra)) return false;
    s.body.append(body);
    s.end_submitted = true;
    return true;
}

bool ServerSession::sendErrorResponse(int32_t stream_id, int status,
                                      const http::HeaderList* extra) {
    Stream* s = ownedStream(stream_id);
    if (s == nullptr || s->head_submitted || status < 200) return false;
    return respondWithError(*s, status, extra);
}

void ServerSession::resetStream(int32_t stream_id, ErrorCode code) {
    Stream* s = ownedStream(stream_id);
    if (s == nullptr) return;
    s->owner_reset = true;
    s->handler = nullptr;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, static_cast<uint32_t>(code));
}

void ServerSession::consumed(int32_t stream_id, size_t n) {
    if (failed_ || closed_ || n == 0 || findStream(stream_id) == nullptr) return;
    nghttp2_session_consume_stream(session_, stream_id, n);
}

size_t ServerSession::bufferedResponseBytes() const {
    size_t total = 0;
    for (const auto& s : live_) total += s->buffered();
    return total;
}

void ServerSession::shutdown() {
    if (failed_ || closed_ || shutdown_started_) return;
    shutdown_started_ = true;
    nghttp2_submit_shutdown_notice(session_);
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, SessionCallbacks::kShutdownPing);
}

void ServerSession::finishShutdown() {
    if (failed_ || closed_ || final_goaway_submitted_) return;
    shutdown_started_ = true;
    final_goaway_submitted_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
}

void ServerSession::close() {
    if (depth_ > 0) {
        // Inside nghttp2: the callbacks fail the session as soon as they see this flag.
        close_requested_ = true;
        return;
    }
    if (closed_) return;
    closed_ = true;
    if (error_.empty()) error_ = "closed";
    closeAllStreams();
}

void ServerSession::noteGlitch() {
    if (glitches_.glitch()) SessionCallbacks::calm(*this);
}

void ServerSession::noteControlFrame() {
    if (glitches_.controlFrame()) SessionCallbacks::calm(*this);
}

bool ServerSession::countFrame(const FrameHeader& h) {
    switch (h.type) {
        case NGHTTP2_DATA:
            if (h.length == 0 && (h.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
                return !glitches_.glitch();
            }
            return true;
        case NGHTTP2_HEADERS:
        case NGHTTP2_CONTINUATION:
        case NGHTTP2_WINDOW_UPDATE:  // a zero increment is a connection error (nghttp2)
        case NGHTTP2_RST_STREAM:     // counted when it cancels an unanswered stream
        case NGHTTP2_PUSH_PROMISE:   // a connection error (nghttp2)
            return true;
        default:  // PING, SETTINGS, PRIORITY, GOAWAY, PRIORITY_UPDATE, ALTSVC, unknown types
            return !glitches_.controlFrame();
    }
}

void ServerSession::appendGoaway(ErrorCode code) {
    // A GOAWAY frame by hand, for when nghttp2 cannot send one any more (it failed fatally).
    // out_ always ends on a frame boundary (see SessionCallbacks::send).
    const int32_t last =
        session_ != nullptr ? nghttp2_session_get_last_proc_stream_id(session_) : 0;
    const uint32_t code_value = static_cast<uint32_t>(code);
    const unsigned char frame[17] = {0,
                                     0,
                                     8,
                                     NGHTTP2_GOAWAY,
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
                                     static_cast<unsigned char>((last >> 24) & 0x7f),
                                     static_cast<unsigned char>(last >> 16),
                                     static_cast<unsigned char>(last >> 8),
                                     static_cast<unsigned char>(last),
                                     static_cast<unsigned char>(code_value >> 24),
                                     static_cast<unsigned char>(code_value >> 16),
                                     static_cast<unsigned char>(code_value >> 8),
                                     static_cast<unsigned char>(code_value)};
    out_.append(reinterpret_cast<const char*>(frame), sizeof frame);
    final_goaway_sent_ = true;
}

void ServerSession::fail(int lib_error) {
    if (failed_) return;
    failed_ = true;
    ErrorCode code = ErrorCode::kInternalError;
    bool send_goaway = true;
    switch (lib_error) {
        case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
            error_ = "bad HTTP/2 connection preface";
            send_goaway = false;  // not an HTTP/2 client: nothing it would understand
            break;
        case NGHTTP2_ERR_FLOODED:
            error_ = "flood: too many frames awaiting an acknowledgement";
            code = ErrorCode::kEnhanceYourCalm;
            break;
        case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
            error_ = "flood: too many CONTINUATION frames";
            code = ErrorCode::kEnhanceYourCalm;
            break;
        default:
            error_ = std::string("HTTP/2 session failed: ") + nghttp2_strerror(lib_error);
            break;
    }
    if (send_goaway && !final_goaway_sent_) appendGoaway(code);
    closeAllStreams();
}

bool ServerSession::dispatchEvents() {
    if (writable_.empty() && closes_.empty()) return false;
    // Swapped out first: a handler may close the session (which drains closes_ itself) or
    // cause more events, which the next round picks up.
    std::vector<int32_t> writable;
    writable.swap(writable_);
    std::vector<PendingClose> closes;
    closes.swap(closes_);
    for (const PendingClose& c : closes) c.handler->onClose(c.end);
    for (int32_t id : writable) {
        Stream* s = ownedStream(id);
        if (s != nullptr && s->handler != nullptr && !s->full) s->handler->onResponseWritable();
    }
    // Keep the vectors' capacity for the next round.
    if (writable_.empty()) {
        writable.clear();
        writable_.swap(writable);
    }
    if (closes_.empty()) {
        closes.clear();
        closes_.swap(closes);
    }
    return true;
}

void ServerSession::closeAllStreams() {
    std::vector<PendingClose> closes;
    closes.swap(closes_);
    for (const PendingClose& c : closes) c.handler->onClose(c.end);
    for (size_t i = 0; i < live_.size(); ++i) {
        Stream& s = *live_[i];
        if (StreamHandler* h = s.handler) {
            s.handler = nullptr;
            h->onClose(StreamEnd{CloseReason::kConnectionClosed, ErrorCode::kNoError});
        }
    }
    writable_.clear();
}

void ServerSession::checkFinished() {
    if (failed_ || closed_ || session_ == nullptr) return;
    // nghttp2 is done with the connection (a terminating GOAWAY went out): streams it still
    // lists will never progress.
    if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0 &&
        !live_.empty()) {
        closeAllStreams();
    }
}

}  // namespace sluice::http2
