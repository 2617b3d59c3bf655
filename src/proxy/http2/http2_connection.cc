#include "proxy/http2/http2_connection.h"

#include <algorithm>

#include "base/log.h"
#include "http2/preface.h"
#include "loop/uv_types.h"
#include "metrics/generation_stats.h"
#include "proxy/http2/http2_stream.h"

namespace sluice::proxy {
namespace {

http2::SessionSettings settingsOf(const config::ListenerConfig& listener) {
    http2::SessionSettings settings;
    settings.max_concurrent_streams = listener.http2_max_concurrent_streams;
    settings.initial_window = static_cast<uint32_t>(listener.http2_initial_window);
    settings.head.max_header_bytes = static_cast<uint32_t>(listener.max_header_bytes);
    settings.head.max_headers = listener.max_headers;
    settings.head.max_body_bytes = listener.max_body_bytes;
    return settings;
}

// After a graceful GOAWAY: how long the client has to see the first one (and answer its PING)
// before the final GOAWAY names the last stream served.
constexpr uint64_t kFinalGoawayMs = 1000;

}  // namespace

Http2Connection::Choice Http2Connection::choose(const config::ListenerConfig& listener,
                                                const net::TcpConnection& client,
                                                std::string_view first) {
    if (!listener.http2) return Choice::kHttp1;
    if (const tls::TlsStream* tls = client.tls()) {
        return tls->alpn() == "h2" ? Choice::kHttp2 : Choice::kHttp1;
    }
    if (!listener.h2c) return Choice::kHttp1;
    switch (http2::looksLikeH2Preface(first)) {
        case http2::PrefaceMatch::kHttp2:
            return Choice::kHttp2;
        case http2::PrefaceMatch::kNeedMore:
            return Choice::kUndecided;
        case http2::PrefaceMatch::kNotHttp2:
            break;
    }
    return Choice::kHttp1;
}

void Http2Connection::start(ProxyContext& ctx, std::shared_ptr<WorkerSnapshot> snapshot,
                            size_t listener, net::TcpConnection* client,
                            edge::ConnectionLimiter::Lease lease, std::string_view first) {
    auto* connection =
        new Http2Connection(ctx, std::move(snapshot), listener, client, std::move(lease));
    connection->feed(first);
}

Http2Connection::Http2Connection(ProxyContext& ctx, std::shared_ptr<WorkerSnapshot> snapshot,
                                 size_t listener, net::TcpConnection* client,
                                 edge::ConnectionLimiter::Lease lease)
    : ctx_(ctx),
      snap_(std::move(snapshot)),
      lease_(std::move(lease)),
      listener_index_(listener),
      listener_(&snap_->snapshot->config->listeners[listener]),
      client_(client),
      session_(std::make_unique<http2::ServerSession>(settingsOf(*listener_),
                                                      static_cast<http2::SessionHandler&>(*this))),
      timer_(ctx.loop(), [this] { onTimer(); }),
      flush_soon_(ctx.loop(), [this] { flush(); }) {
    ctx_.add(*this);
    client_->setHandler(this);
    client_->startReading();
    if (ctx_.draining()) drain();
}

Http2Connection::~Http2Connection() = default;

// ---------------------------------------------------------------------------------------------
// The client's bytes

void Http2Connection::onData(net::TcpConnection&, std::string_view bytes) {
    if (finished_ || closing_) return;
    feed(bytes);
}

void Http2Connection::feed(std::string_view bytes) {
    if (session_->feed(bytes)) return flush();
    // A connection error: the GOAWAY nghttp2 made goes out (best effort), then the close.
    LOG_DEBUG("client %s: HTTP/2: %s", client_->peerAddress().c_str(), session_->error().c_str());
    const std::string_view out = session_->pendingOutput();
    if (!out.empty() && !client_->write(out)) return clientGone();
    session_->close();  // streams still open: their exchanges are aborted for the client
    closing_ = true;
    flush();
}

void Http2Connection::onEof(net::TcpConnection&) {
    if (!finished_) clientGone();
}

void Http2Connection::onError(net::TcpConnection&, int uv_error) {
    if (finished_) return;
    LOG_DEBUG("client %s: %s", client_->peerAddress().c_str(),
              client_->tlsError().empty() ? loop::errorText(uv_error)
                                          : ("TLS: " + client_->tlsError()).c_str());
    clientGone();
}

void Http2Connection::onDrain(net::TcpConnection&) {
    if (!finished_) flush();
}

// ---------------------------------------------------------------------------------------------
// Streams

http2::StreamHandler* Http2Connection::onRequest(const http2::Request& request) {
    if (finished_ || closing_) return nullptr;
    auto owned = std::make_unique<Http2Stream>(*this, request.stream_id, std::move(request.head));
    Http2Stream& stream = *owned;
    streams_.push_back(std::move(owned));
    if (!draining_) timer_.stop();  // idle_timeout runs only while no stream is open
    if (!stream.start(ctx_.current(), listener_index_, request.end_stream)) {
        streamChanged(stream);  // answered inside start(): the session wants nothing more
        return nullptr;
    }
    return &stream;
}

void Http2Connection::streamChanged(Http2Stream& stream) {
    if (finished_ || !stream.finished()) return;
    const auto it = std::find_if(streams_.begin(), streams_.end(),
                                 [&](const auto& s) { return s.get() == &stream; });
    if (it == streams_.end()) return;
    ctx_.deleteLater(it->release());  // it may be on the stack
    *it = std::move(streams_.back());
    streams_.pop_back();
    flushSoon();  // the idle timer, done()
}

// ---------------------------------------------------------------------------------------------
// Output, reading and the end

void Http2Connection::flushSoon() {
    if (!finished_) flush_soon_.schedule();
}

void Http2Connection::flush() {
    if (finished_) return;
    flush_soon_.cancel();
    while (session_->wantsWrite() && client_->pendingBytes() <= kHighWater) {
        const std::string_view out = session_->pendingOutput();  // may run stream handlers
        if (finished_) return;
        if (out.empty()) break;
        const size_t n = out.size();
        if (!client_->write(out)) return clientGone();
        session_->consumeOutput(n);
    }
    if (session_->done() || closing_) {
        // Nothing more to read or write: close once the socket has sent what it holds (a
        // client that never reads is cut off after idle_timeout).
        if (!closing_) {
            closing_ = true;
            client_->stopReading();
        }
        if (client_->pendingBytes() == 0) return finish();
        if (!timer_.active()) {
            timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()));
        }
        return;
    }
    // Read only while there is room for what reading produces (answers, frames).
    if (session_->wantsRead() && !session_->outputFull() && client_->pendingBytes() <= kHighWater) {
        client_->startReading();
    } else {
        client_->stopReading();
    }
    if (!draining_ && session_->openStreams() == 0 && !timer_.active()) {
        timer_.start(static_cast<uint64_t>(listener_->idle_timeout.count()));
    }
}

void Http2Connection::onTimer() {
    if (finished_) return;
    if (closing_) return finish();  // the last bytes never drained
    if (draining_) {
        session_->finishShutdown();  // the final GOAWAY: streams up to the last id finish
        return flush();
    }
    if (session_->openStreams() > 0) return;
    // idle_timeout with no stream open: a graceful close, like an idle keep-alive connection.
    draining_ = true;
    session_->shutdown();
    session_->finishShutdown();
    flush();
}

void Http2Connection::drain() {
    if (finished_ || draining_) return;
    draining_ = true;
    session_->shutdown();  // GOAWAY(2^31-1) now, the final one after kFinalGoawayMs
    timer_.start(kFinalGoawayMs);
    flushSoon();
}

void Http2Connection::abort() { finish(); }

void Http2Connection::clientGone() {
    session_->close();  // every open stream's onClose(kConnectionClosed): 499 for live ones
    finish();
}

void Http2Connection::finish() {
    if (finished_) return;
    finished_ = true;  // from here on streamChanged() deletes nothing: all go below
    for (auto& stream : streams_) stream->cancel();  // silent for what is still live
    session_->close();
    timer_.stop();
    flush_soon_.cancel();
    metrics::connectionClosed(snap_->snapshot->stats.get(), listener_index_, client_->bytesRead(),
                              client_->bytesWritten());
    client_->destroy();
    client_ = nullptr;
    lease_.release();
    for (auto& stream : streams_) ctx_.deleteLater(stream.release());
    streams_.clear();
    ctx_.retire(*this);
}

}  // namespace sluice::proxy
