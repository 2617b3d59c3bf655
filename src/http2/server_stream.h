#pragma once
// Internal to src/http2: the state ServerSession keeps for one stream (nghttp2's stream user
// data), pooled per session.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/header_list.h"
#include "http2/request_head_builder.h"
#include "http2/server_session.h"

namespace sluice::http2 {

struct ServerSession::Stream {
    int32_t id = 0;
    size_t live_index = 0;  // position in ServerSession::live_
    StreamHandler* handler = nullptr;
    RequestHeadBuilder request;

    // Response body bytes not yet framed: body[body_at, size()).
    std::string body;
    size_t body_at = 0;
    http::HeaderList trailers;  // response trailers, sent after the body

    bool delivered = false;       // onRequest() saw it: the owner's stream
    bool owner_reset = false;     // the owner reset it (handler detached)
    bool head_submitted = false;  // final response head submitted
    bool end_submitted = false;   // nothing more will be added to the body
    bool has_trailers = false;
    bool deferred = false;       // the data provider returned NGHTTP2_ERR_DEFERRED
    bool full = false;           // writeBody() said kFull; onResponseWritable() pending
    bool response_done = false;  // END_STREAM sent
    bool request_ended = false;  // END_STREAM received
    bool peer_reset = false;     // RST_STREAM received

    size_t buffered() const { return body.size() - body_at; }
    std::string_view pending() const { return std::string_view(body).substr(body_at); }
    void drop(size_t n) {
        body_at += n;
        if (body_at == body.size()) {
            body.clear();
            body_at = 0;
        } else if (body_at >= 16 * 1024 && body_at * 2 >= body.size()) {
            body.erase(0, body_at);  // keep the buffer from creeping forward
            body_at = 0;
        }
    }
    // Back to the pool: no state of this stream survives, big buffers are not kept.
    void recycle() {
        id = 0;
        handler = nullptr;
        body.clear();
        body_at = 0;
        if (body.capacity() > 16 * 1024) std::string().swap(body);
        if (request.heldFieldBytes() > 8 * 1024)
            request = RequestHeadBuilder();  // a big head's buffers
        trailers = http::HeaderList();
        delivered = owner_reset = head_submitted = end_submitted = has_trailers = false;
        deferred = full = response_done = request_ended = peer_reset = false;
    }
};

}  // namespace sluice::http2
