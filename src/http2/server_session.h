#pragma once
// One server-side HTTP/2 connection over nghttp2, as a byte transformer with no I/O of its own
// (like tls::TlsStream): the owner feeds what it reads from the client, pulls what is to be
// written, and answers each stream. Per worker, not thread-safe.
//
// Owner's loop:
// - Bytes read from the client (the 24-byte preface first: see preface.h) go to feed(). False
//   means the connection is dead: write what pendingOutput() still holds (best effort), close.
// - While wantsWrite(): write pendingOutput() to the socket, then consumeOutput(bytes written).
//   Pull again after feed() and after any call that submits something (responses, bodies,
//   resets, consumed(), shutdown()). pendingOutput() produces at most about kOutputHighWater
//   bytes at a time; stop pulling while the socket is full, and stop reading (feeding) while
//   outputFull(): the client then fills its own buffers, not ours.
// - done(): nothing left to read or write (GOAWAY exchanged, streams finished, or failed) and
//   no output pending: close the connection, then destroy the session.
//
// Streams: SessionHandler::onRequest() gets each validated request head and returns the
// StreamHandler for the stream's other events (the Exchange). Handlers are called only from
// inside feed(), pendingOutput() and close() (and the destructor), never from the submit calls;
// they may call any method of the session but feed() and the destructor. A StreamHandler gets
// onClose() exactly once, last, unless the owner reset the stream itself; the destructor (like
// close()) still tells open streams, so destroy the session before their handlers.
//
// Backpressure, client -> upstream: each onRequestData() payload counts against the stream's
// receive window (SessionSettings::initial_window) until the owner calls consumed() for it (once
// written upstream): WINDOW_UPDATE for the stream is only sent as it does, so a slow upstream
// stalls its own stream and no other. The connection window is credited as soon as bytes
// arrive (each stream's window bounds what it holds).
// Backpressure, upstream -> client: writeBody() buffers the bytes in the stream; DATA frames go
// out as the client's flow-control windows allow. Once a stream holds stream_buffer_bytes,
// writeBody() returns kFull: stop reading that upstream until onResponseWritable() (the buffer
// drained to half). A client that never opens its window costs at most stream_buffer_bytes (+
// the last write) per stream.
//
// Memory per connection (defaults): nghttp2's own (nghttp2Bytes(): 25 KiB for an idle session,
// its HPACK tables capped at 4 KiB each way; ~75 KiB with 100 open streams), the output buffer
// (kOutputHighWater + one frame, released when no stream is open), and per open stream (at
// most max_concurrent_streams): the request head (< max_header_bytes), the response buffer
// (< stream_buffer_bytes + the owner's last write). With 100 streams all stuck on closed
// windows that is about 11 MiB; plus the request body bytes the owner holds until consumed()
// (< max(initial_window, 65535) per stream: the client may use the default window until it
// ACKs our SETTINGS). One header block decodes at a time (CONTINUATION frames must follow each
// other), each field < 64 KiB (nghttp2's HPACK limit), and nothing is kept once a block is over
// max_header_bytes, so an HPACK bomb costs CPU for one block, not memory.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_list.h"
#include "http/message.h"
#include "http2/frame_scanner.h"
#include "http2/glitch_counter.h"
#include "http2/request_head_builder.h"
#include "http2/response_fields.h"

struct nghttp2_session;

namespace sluice::http2 {

// RFC 9113 section 7 error codes (RST_STREAM, GOAWAY).
enum class ErrorCode : uint32_t {
    kNoError = 0x0,
    kProtocolError = 0x1,
    kInternalError = 0x2,
    kFlowControlError = 0x3,
    kSettingsTimeout = 0x4,
    kStreamClosed = 0x5,
    kFrameSizeError = 0x6,
    kRefusedStream = 0x7,
    kCancel = 0x8,
    kCompressionError = 0x9,
    kConnectError = 0xa,
    kEnhanceYourCalm = 0xb,
    kInadequateSecurity = 0xc,
    kHttp11Required = 0xd,
};

struct SessionSettings {
    uint32_t max_concurrent_streams = 100;     // SETTINGS_MAX_CONCURRENT_STREAMS
    uint32_t initial_window = 64 * 1024;       // SETTINGS_INITIAL_WINDOW_SIZE (per-stream receive)
    uint32_t connection_window = 1024 * 1024;  // connection receive window (credited at once)
    HeadLimits head;  // max_header_bytes (431), max_headers, max_body_bytes
    uint32_t stream_buffer_bytes = 64 * 1024;  // response bytes a stream holds before kFull
    uint32_t glitch_limit = 500;               // see glitch_counter.h
};

struct Request {
    int32_t stream_id;
    // The HTTP/1.1 view (request_head_builder.h): Host first, cookies joined, no pseudo-header;
    // version 2.0. Valid during onRequest() only: move or copy what is kept.
    http::RequestHead& head;
    std::string_view scheme;  // "http" or "https", as the client sent it
    bool end_stream;          // no body follows (onRequestEnd() comes right after onRequest())
};

enum class CloseReason : uint8_t {
    kCompleted,         // the response went out to its END_STREAM (the request may have been cut
                        // short by RST_STREAM(NO_ERROR) if it was still arriving)
    kPeerReset,         // the client sent RST_STREAM (`code`): cancel the upstream work
    kLocalReset,        // the session reset it: the request broke a rule after its head was
                        // delivered (content-length and DATA disagree, bad trailers), or the
                        // response head could not be sent
    kConnectionClosed,  // the connection ended first (GOAWAY, fatal error, close())
};
struct StreamEnd {
    CloseReason reason;
    ErrorCode code;
};

class StreamHandler {
  public:
    virtual ~StreamHandler() = default;
    // Request body bytes, valid during the call. Call ServerSession::consumed(id, n) once they
    // are written upstream: the stream's window reopens only then.
    virtual void onRequestData(std::string_view data) = 0;
    // The trailer section (dropped: framing and routing fields; see request_head_builder.h).
    // Forwardable only if the upstream request is chunked. onRequestEnd() follows.
    virtual void onRequestTrailers(const http::HeaderList& trailers) = 0;
    // The whole request has arrived (its length matched any content-length).
    virtual void onRequestEnd() = 0;
    // After writeBody() returned kFull: the buffer drained to half; resume the upstream.
    virtual void onResponseWritable() = 0;
    // The stream is gone; the session never calls this handler again.
    virtual void onClose(StreamEnd end) = 0;
};

class SessionHandler {
  public:
    virtual ~SessionHandler() = default;
    // A new stream's validated request. Return its handler; or nullptr having already
    // submitted a complete answer (no further events wanted: the request body is discarded);
    // or nullptr without an answer: the stream is refused (RST_STREAM(REFUSED_STREAM)).
    virtual StreamHandler* onRequest(const Request& request) = 0;
    // The client sent GOAWAY: it opens no new stream; those it opened go on.
    virtual void onPeerGoaway(ErrorCode code) { (void)code; }
};

enum class WriteStatus : uint8_t {
    kWritable,  // keep writing
    kFull,      // stop until onResponseWritable()
    kClosed,    // the stream is gone or its response already ended: drop the upstream work
};

class ServerSession {
  public:
    static constexpr size_t kOutputHighWater = 64 * 1024;

    ServerSession(const SessionSettings& settings, SessionHandler& handler);
    ~ServerSession();
    ServerSession(const ServerSession&) = delete;
    ServerSession& operator=(const ServerSession&) = delete;

    // Client bytes (the connection preface first). False: fatal (see error()).
    [[nodiscard]] bool feed(std::string_view bytes);
    // Bytes to write; valid until the next call on this session.
    std::string_view pendingOutput();
    void consumeOutput(size_t n);
    bool wantsWrite() const;
    bool wantsRead() const;
    bool outputFull() const { return outputSize() >= kOutputHighWater; }
    bool done() const;

    // Responses, for a stream delivered by onRequest() (also from inside onRequest()). Each
    // returns false (and does nothing) when the stream is gone, was reset, or the call is out
    // of order. Response fields go through ResponseFields (connection-specific ones dropped).
    // A 1xx other than 101, before the final response (e.g. 100 Continue, 103).
    bool submitInformational(int32_t stream_id, const http::ResponseHead& head);
    // The final response head (status >= 200). `end_stream`: no body (HEAD, 204, 304...).
    // `extra`: fields added after the head's (the request id), filtered like them.
    bool submitResponse(int32_t stream_id, const http::ResponseHead& head, bool end_stream,
                        const http::HeaderList* extra = nullptr);
    WriteStatus writeBody(int32_t stream_id, std::string_view bytes);
    // The body is complete; `trailers` (nullptr or empty: none) go out after it.
    bool endResponse(int32_t stream_id, const http::HeaderList* trailers = nullptr);
    // A short text/plain response ("502 Bad Gateway\n") in place of any response head, with
    // `extra` fields (Retry-After, Location, the request id).
    bool sendErrorResponse(int32_t stream_id, int status, const http::HeaderList* extra = nullptr);
    // RST_STREAM; the stream's handler is detached at once (no onClose()).
    void resetStream(int32_t stream_id, ErrorCode code = ErrorCode::kInternalError);
    // `n` bytes of onRequestData() were consumed: reopens the stream's receive window.
    void consumed(int32_t stream_id, size_t n);

    // Graceful stop: GOAWAY(2^31-1) at once, then after a PING round trip (or finishShutdown(),
    // e.g. from a timer) GOAWAY with the last stream id processed: streams up to it finish, later
    // ones are ignored (the client retries them elsewhere). done() once the last one ends.
    void shutdown();
    void finishShutdown();
    // Abandons the connection: every stream's handler gets onClose(kConnectionClosed).
    void close();

    // Why the connection ended ("" while it is fine).
    const std::string& error() const { return error_; }
    uint32_t glitches() const { return glitches_.count(); }
    size_t openStreams() const { return live_.size(); }
    // Response bytes buffered in streams, not yet framed (tests, metrics).
    size_t bufferedResponseBytes() const;
    // Bytes nghttp2 holds for this connection right now (its allocations are counted).
    size_t nghttp2Bytes() const { return nghttp2_bytes_; }

  private:
    struct Stream;
    friend struct SessionCallbacks;

    size_t outputSize() const { return out_.size() - out_at_; }
    Stream* findStream(int32_t stream_id) const;
    Stream* ownedStream(int32_t stream_id) const;  // delivered to the owner, not reset by it
    Stream* openStream(int32_t stream_id);
    void releaseStream(Stream* s);
    bool submitHead(Stream& s, int status, const http::HeaderList* headers, bool end_stream,
                    const http::HeaderList* extra = nullptr);
    bool respondWithError(Stream& s, int status, const http::HeaderList* extra = nullptr);
    void resumeIfDeferred(Stream& s);
    void onRequestHeaders(Stream& s, bool end_stream);
    void onRequestTrailers(Stream& s);
    void onResponseSent(Stream& s);
    void noteGlitch();
    void noteControlFrame();
    bool countFrame(const FrameHeader& h);  // false once past the glitch limit
    bool receive(std::string_view bytes);
    void fail(int lib_error);
    void appendGoaway(ErrorCode code);
    bool dispatchEvents();
    void closeAllStreams();
    void checkFinished();

    SessionSettings settings_;
    SessionHandler& handler_;
    size_t nghttp2_bytes_ = 0;  // before session_: nghttp2 frees into it while being deleted
    nghttp2_session* session_ = nullptr;
    std::string out_;
    size_t out_at_ = 0;  // out_[out_at_, size()) is pending
    std::vector<std::unique_ptr<Stream>> live_;
    std::vector<std::unique_ptr<Stream>> spare_;
    std::vector<int32_t> writable_;  // streams to tell onResponseWritable()
    struct PendingClose {
        StreamHandler* handler;
        StreamEnd end;
    };
    std::vector<PendingClose> closes_;
    ResponseFields fields_;  // scratch for one header block
    FrameScanner scanner_;   // frame headers as the client sent them, for flood accounting
    GlitchCounter glitches_;
    std::string error_;
    int depth_ = 0;  // inside nghttp2 (recv or send): no nested send, deferred close
    bool failed_ = false;
    bool closed_ = false;
    bool close_requested_ = false;
    bool calmed_ = false;  // GOAWAY(ENHANCE_YOUR_CALM) submitted
    bool shutdown_started_ = false;
    bool final_goaway_submitted_ = false;
    bool final_goaway_sent_ = false;
};

}  // namespace sluice::http2
