#include "http2/session_callbacks.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "http2/server_stream.h"

// Which check is where (for the request translation, see also request_head_builder.h):
// - nghttp2, HTTP messaging on (nghttp2_option_set_no_http_messaging is never called) and no
//   on_invalid_header callback, so that a field nghttp2 would merely "ignore" resets the stream
//   instead (RST_STREAM(PROTOCOL_ERROR), no request event): names with upper case or non-token
//   bytes; values with NUL/CR/LF/other controls or leading/trailing SP/HTAB (RFC 9113
//   validation left on); connection, keep-alive, proxy-connection, transfer-encoding, upgrade;
//   te other than "trailers"; pseudo-headers repeated, unknown, empty, after a regular field or
//   in trailers; :method, :scheme or :path missing (or :authority and host both missing); a
//   :path not starting with '/' (or "*" outside OPTIONS); repeated host or content-length;
//   content-length not a number; DATA beyond content-length (the excess is never delivered)
//   or END_STREAM short of it; trailers without END_STREAM; :protocol (extended CONNECT is not
//   enabled: SETTINGS_ENABLE_CONNECT_PROTOCOL is never sent).
// - RequestHeadBuilder (answered 400/413/431/501 by the session, never delivered): the rest,
//   listed in request_head_builder.h.

namespace sluice::http2 {

const uint8_t SessionCallbacks::kShutdownPing[8] = {'s', 'h', 'u', 't', 'd', 'o', 'w', 'n'};

namespace {

constexpr uint32_t kFrameHeaderBytes = 9;
// nghttp2 defaults, set explicitly so that this file says what the session runs with.
constexpr size_t kDeflateTableBytes = 4096;        // our HPACK encoder's dynamic table
constexpr size_t kMaxResponseHeaderBlock = 65536;  // a larger response head is not sent
constexpr size_t kMaxSettingsEntries = 32;         // per SETTINGS frame
constexpr uint64_t kStreamResetBurst = 1000;       // RST_STREAM from the client: token bucket
constexpr uint64_t kStreamResetRate = 33;          // tokens per second
constexpr size_t kMinContinuations = 8;
// Queued SETTINGS/PING ACKs before nghttp2 gives up on a client that sends but never reads
// (nghttp2's default is 1000; no correct client has more than a few outstanding).
constexpr size_t kMaxOutboundAck = 200;

ServerSession& owner(void* user_data) { return *static_cast<ServerSession*>(user_data); }

// nghttp2's allocations, counted per session: each block carries its size in front.
constexpr size_t kSizePrefix = alignof(std::max_align_t);

void* countedMalloc(size_t size, void* counter) {
    auto* block = static_cast<unsigned char*>(std::malloc(kSizePrefix + size));
    if (block == nullptr) return nullptr;
    std::memcpy(block, &size, sizeof size);
    *static_cast<size_t*>(counter) += size;
    return block + kSizePrefix;
}

void countedFree(void* ptr, void* counter) {
    if (ptr == nullptr) return;
    unsigned char* block = static_cast<unsigned char*>(ptr) - kSizePrefix;
    size_t size;
    std::memcpy(&size, block, sizeof size);
    *static_cast<size_t*>(counter) -= size;
    std::free(block);
}

void* countedCalloc(size_t n, size_t size, void* counter) {
    if (size != 0 && n > (SIZE_MAX - kSizePrefix) / size) return nullptr;
    void* p = countedMalloc(n * size, counter);
    if (p != nullptr) std::memset(p, 0, n * size);
    return p;
}

void* countedRealloc(void* ptr, size_t size, void* counter) {
    if (ptr == nullptr) return countedMalloc(size, counter);
    unsigned char* block = static_cast<unsigned char*>(ptr) - kSizePrefix;
    size_t old;
    std::memcpy(&old, block, sizeof old);
    auto* grown = static_cast<unsigned char*>(std::realloc(block, kSizePrefix + size));
    if (grown == nullptr) return nullptr;
    std::memcpy(grown, &size, sizeof size);
    *static_cast<size_t*>(counter) += size;
    *static_cast<size_t*>(counter) -= old;
    return grown + kSizePrefix;
}

}  // namespace

nghttp2_session* SessionCallbacks::newSession(ServerSession& owner_session,
                                              const SessionSettings& settings) {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return nullptr;
    nghttp2_session_callbacks_set_send_callback(cbs, send);
    nghttp2_session_callbacks_set_send_data_callback(cbs, sendData);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrameRecv);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, onInvalidFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onDataChunkRecv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, onFrameSend);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, onFrameNotSend);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onStreamClose);

    nghttp2_option* opt = nullptr;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cbs);
        return nullptr;
    }
    // WINDOW_UPDATE only for what the owner consumed (stream) or as bytes arrive (connection).
    nghttp2_option_set_no_auto_window_update(opt, 1);
    // No priority tree: closed streams are not retained (memory), PRIORITY frames cost nothing.
    nghttp2_option_set_no_closed_streams(opt, 1);
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, kDeflateTableBytes);
    nghttp2_option_set_max_send_header_block_length(opt, kMaxResponseHeaderBlock);
    nghttp2_option_set_max_outbound_ack(opt, kMaxOutboundAck);
    nghttp2_option_set_max_settings(opt, kMaxSettingsEntries);
    // CVE-2023-44487 (Debian 1.52.0-1+deb12u1): past the bucket, GOAWAY(INTERNAL_ERROR).
    nghttp2_option_set_stream_reset_rate_limit(opt, kStreamResetBurst, kStreamResetRate);
    // CVE-2024-28182 (deb12u2): a header block of more CONTINUATIONs is a fatal flood. Enough
    // for max_header_bytes in 16 KiB frames (our SETTINGS_MAX_FRAME_SIZE stays 16384).
    const size_t continuations = settings.head.max_header_bytes / 16384 + 2;
    nghttp2_option_set_max_continuations(
        opt, continuations > kMinContinuations ? continuations : kMinContinuations);

    nghttp2_session* session = nullptr;
    nghttp2_mem mem = {&owner_session.nghttp2_bytes_, countedMalloc, countedFree, countedCalloc,
                       countedRealloc};
    const int rv = nghttp2_session_server_new3(&session, cbs, &owner_session, opt, &mem);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return nullptr;

    const nghttp2_settings_entry entries[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.head.max_header_bytes},
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    if (nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, entries,
                                sizeof entries / sizeof entries[0]) != 0 ||
        nghttp2_session_set_local_window_size(
            session, NGHTTP2_FLAG_NONE, 0, static_cast<int32_t>(settings.connection_window)) != 0) {
        nghttp2_session_del(session);
        return nullptr;
    }
    return session;
}

void SessionCallbacks::calm(ServerSession& s) {
    if (s.calmed_ || s.failed_ || s.closed_) return;
    s.calmed_ = true;
    s.error_ = "too many protocol glitches";
    nghttp2_session_terminate_session(s.session_, NGHTTP2_ENHANCE_YOUR_CALM);
}

ssize_t SessionCallbacks::readBody(nghttp2_session* session, int32_t stream_id, uint8_t*,
                                   size_t length, uint32_t* data_flags, nghttp2_data_source* source,
                                   void* user_data) {
    ServerSession& self = owner(user_data);
    auto* s = static_cast<ServerSession::Stream*>(source->ptr);
    const size_t n = length < s->buffered() ? length : s->buffered();
    if (n == 0 && !s->end_submitted) {
        s->deferred = true;  // writeBody()/endResponse() resume it
        return NGHTTP2_ERR_DEFERRED;
    }
    // The bytes go from the stream's buffer straight into the output (sendData): one copy.
    *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (s->end_submitted && n == s->buffered()) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        if (s->has_trailers) {
            self.fields_.clear();
            self.fields_.addFrom(s->trailers, true);
            if (self.fields_.size() > 0) {
                *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                std::vector<nghttp2_nv> nva;
                nva.reserve(self.fields_.size());
                for (size_t i = 0; i < self.fields_.size(); ++i) {
                    const std::string_view name = self.fields_.name(i);
                    const std::string_view value = self.fields_.value(i);
                    nva.push_back(
                        nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
                }
                if (nghttp2_submit_trailer(session, stream_id, nva.data(), nva.size()) != 0) {
                    *data_flags &= ~static_cast<uint32_t>(NGHTTP2_DATA_FLAG_NO_END_STREAM);
                }
            }
        }
    }
    return static_cast<ssize_t>(n);
}

ssize_t SessionCallbacks::send(nghttp2_session*, const uint8_t* data, size_t length, int,
                               void* user_data) {
    ServerSession& self = owner(user_data);
    if (self.close_requested_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    // Each call is one whole frame, and is taken whole: out_ always ends on a frame boundary.
    // Past the high-water mark new frames wait, except a CONTINUATION, which must follow its
    // HEADERS with nothing in between.
    const bool continuation = length >= kFrameHeaderBytes && data[3] == NGHTTP2_CONTINUATION;
    if (self.outputFull() && !continuation) return NGHTTP2_ERR_WOULDBLOCK;
    self.out_.append(reinterpret_cast<const char*>(data), length);
    return static_cast<ssize_t>(length);
}

int SessionCallbacks::sendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                               size_t length, nghttp2_data_source* source, void* user_data) {
    ServerSession& self = owner(user_data);
    if (self.close_requested_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (self.outputFull()) return NGHTTP2_ERR_WOULDBLOCK;  // called again with the same frame
    auto* s = static_cast<ServerSession::Stream*>(source->ptr);
    std::string& out = self.out_;
    out.append(reinterpret_cast<const char*>(framehd), kFrameHeaderBytes);
    const size_t padlen = frame->data.padlen;  // 0: no select_padding callback is set
    if (padlen > 0) out += static_cast<char>(padlen - 1);
    out.append(s->pending().substr(0, length));
    if (padlen > 1) out.append(padlen - 1, '\0');
    s->drop(length);
    if (s->full && s->buffered() <= self.settings_.stream_buffer_bytes / 2) {
        s->full = false;
        self.writable_.push_back(s->id);
    }
    return 0;
}

int SessionCallbacks::onBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame,
                                     void* user_data) {
    ServerSession& self = owner(user_data);
    if (self.close_requested_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    const int32_t id = frame->hd.stream_id;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        ServerSession::Stream* s = self.openStream(id);
        if (nghttp2_session_set_stream_user_data(session, id, s) != 0) {
            self.releaseStream(s);
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        self.glitches_.streamOpened();
    } else if (ServerSession::Stream* s = self.findStream(id)) {
        s->request.startTrailers();
    }
    return 0;
}

int SessionCallbacks::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                               size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                               void* user_data) {
    ServerSession& self = owner(user_data);
    if (self.close_requested_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    ServerSession::Stream* s = self.findStream(frame->hd.stream_id);
    if (s == nullptr) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        s->request.addField(n, v);
    } else {
        s->request.addTrailer(n, v);
    }
    return 0;
}

int SessionCallbacks::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerSession& self = owner(user_data);
    if (self.close_requested_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    ServerSession::Stream* s = self.findStream(frame->hd.stream_id);
    switch (frame->hd.type) {
        case NGHTTP2_HEADERS:
            if (s == nullptr) break;
            if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
                self.onRequestHeaders(*s, end_stream);
            } else if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {
                self.onRequestTrailers(*s);
            }
            break;
        case NGHTTP2_DATA:
            // Padding only (an unpadded empty DATA was counted by countFrame()).
            if (frame->hd.length > 0 && frame->hd.length <= frame->data.padlen && !end_stream) {
                self.noteGlitch();
            }
            if (s == nullptr || !end_stream) break;
            s->request_ended = true;
            if (s->handler != nullptr) s->handler->onRequestEnd();
            break;
        case NGHTTP2_RST_STREAM:
            if (s == nullptr) break;
            s->peer_reset = true;
            if (!s->head_submitted) self.noteGlitch();  // reset before any answer: rapid reset
            break;
        case NGHTTP2_PING:
            if ((frame->hd.flags & NGHTTP2_FLAG_ACK) != 0 && self.shutdown_started_ &&
                std::memcmp(frame->ping.opaque_data, kShutdownPing, sizeof kShutdownPing) == 0) {
                self.finishShutdown();  // the client has seen the notice: last id is final
            }
            break;
        case NGHTTP2_GOAWAY:
            self.handler_.onPeerGoaway(static_cast<ErrorCode>(frame->goaway.error_code));
            break;
        default:
            break;
    }
    return 0;
}

int SessionCallbacks::onInvalidFrameRecv(nghttp2_session*, const nghttp2_frame*, int,
                                         void* user_data) {
    ServerSession& self = owner(user_data);
    if (self.close_requested_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    self.noteGlitch();
    return 0;
}

int SessionCallbacks::onDataChunkRecv(nghttp2_session* session, uint8_t, int32_t stream_id,
                                      const uint8_t* data, size_t len, void* user_data) {
    ServerSession& self = owner(user_data);
    if (self.close_requested_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    // The connection window is credited at once; the stream's waits for the owner.
    nghttp2_session_consume_connection(session, len);
    ServerSession::Stream* s = self.findStream(stream_id);
    if (s == nullptr || s->handler == nullptr) {
        nghttp2_session_consume_stream(session, stream_id, len);  // nobody wants it
        return 0;
    }
    s->handler->onRequestData(std::string_view(reinterpret_cast<const char*>(data), len));
    return 0;
}

int SessionCallbacks::onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerSession& self = owner(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        if (frame->goaway.last_stream_id != INT32_MAX) {
            self.final_goaway_sent_ = true;  // not the shutdown notice
        }
        return 0;
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
        if (ServerSession::Stream* s = self.findStream(frame->hd.stream_id)) {
            self.onResponseSent(*s);
        }
    }
    return 0;
}

int SessionCallbacks::onFrameNotSend(nghttp2_session* session, const nghttp2_frame* frame, int,
                                     void* user_data) {
    ServerSession& self = owner(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    // E.g. a response head over kMaxResponseHeaderBlock: the stream cannot go on.
    if (self.findStream(frame->hd.stream_id) != nullptr) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_INTERNAL_ERROR);
    }
    return 0;
}

int SessionCallbacks::onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                    void* user_data) {
    ServerSession& self = owner(user_data);
    ServerSession::Stream* s = self.findStream(stream_id);
    if (s == nullptr) return 0;
    if (s->handler != nullptr) {
        CloseReason reason = CloseReason::kLocalReset;
        if (s->peer_reset) {
            reason = CloseReason::kPeerReset;
        } else if (s->response_done && error_code == NGHTTP2_NO_ERROR) {
            reason = CloseReason::kCompleted;
        } else if (error_code == NGHTTP2_REFUSED_STREAM) {
            // Opened after the final GOAWAY's last id was chosen: the client retries it.
            reason = CloseReason::kConnectionClosed;
        }
        // Told after nghttp2 returns (dispatchEvents), never from inside its send loop.
        self.closes_.push_back({s->handler, StreamEnd{reason, static_cast<ErrorCode>(error_code)}});
        s->handler = nullptr;
    }
    self.releaseStream(s);
    return 0;
}

// The owner-facing halves of the receive path (members: they touch the handler and stream).

void ServerSession::onRequestHeaders(Stream& s, bool end_stream) {
    s.request_ended = end_stream;
    const http::Verdict verdict = s.request.finish(end_stream);
    if (!verdict.ok()) {
        noteGlitch();
        respondWithError(s, verdict.status);
        return;
    }
    s.delivered = true;
    const Request request{s.id, s.request.head(), s.request.scheme(), end_stream};
    StreamHandler* h = handler_.onRequest(request);
    if (s.owner_reset) return;  // reset inside onRequest(): the owner is done with it
    if (close_requested_) {
        s.handler = h;  // close() tells it onClose(kConnectionClosed) like the others
        return;
    }
    if (h == nullptr) {
        if (!s.head_submitted) {
            s.owner_reset = true;
            nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_REFUSED_STREAM);
        }
        return;
    }
    s.handler = h;
    if (end_stream) h->onRequestEnd();
}

void ServerSession::onRequestTrailers(Stream& s) {
    s.request_ended = true;  // nghttp2 resets trailers without END_STREAM
    if (s.request.finishTrailers() != RequestHeadBuilder::TrailerVerdict::kOk) {
        noteGlitch();
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_PROTOCOL_ERROR);
        return;  // the handler (if any) learns it from onClose(kLocalReset)
    }
    if (s.handler == nullptr) return;
    s.handler->onRequestTrailers(s.request.trailers());
    if (s.handler != nullptr) s.handler->onRequestEnd();
}

void ServerSession::onResponseSent(Stream& s) {
    s.response_done = true;
    // RFC 9113 8.1: a complete response before the whole request; tell the client to stop
    // sending the rest without error.
    if (!s.request_ended && !s.peer_reset) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_NO_ERROR);
    }
}

}  // namespace sluice::http2
