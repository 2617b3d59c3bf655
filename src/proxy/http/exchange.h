#pragma once
// What one request on an HTTP/1.1 connection knows, from its first byte to the end of its
// response. HttpSession creates one when a request starts (its first byte, or pipelined bytes
// already read) and destroys it when the response is complete or the request ends otherwise:
// nothing of a request outlives it, so the next request starts from a fresh one rather than
// from fields reset one by one. Buffers whose capacity is worth keeping (serialized heads,
// unparsed bytes) stay with the connection.

#include <cstdint>
#include <string>

#include "http/message.h"
#include "proxy/upstream_connector.h"
#include "upstream/server_selector.h"

namespace sluice::proxy {

struct Exchange {
    // `id_buffer`: the connection's buffer for the request id (its capacity outlives requests:
    // a generated id is one byte over the short-string size), emptied here.
    Exchange(uint64_t start_ms, std::string& id_buffer)
        : request_id(id_buffer), request_start_ms(start_ms) {
        request_id.clear();
    }

    upstream::ServerSelector* selector = nullptr;  // the routed pool's (null: not routed)
    std::string& request_id;  // the request id header's value (kept or generated)
    NextStep retry_step;      // retry_5xx decided in onResponseHead; acted on after feed

    bool request_complete = false;       // whole request read from the client
    bool body_started = false;           // some body bytes went upstream (no replay possible)
    bool response_started = false;       // response head sent to the client
    bool continue_sent = false;          // a 100 Continue was relayed to the client
    bool response_complete = false;      // set by the parser; acted on once feed() returns
    bool retry_response = false;         // retry_5xx decided in onResponseHead; acted on after feed
    bool response_head_pending = false;  // the serialized response head is not written yet
    bool client_keep_alive = true;       // the client connection stays open after this response
    http::BodyFraming request_framing = http::BodyFraming::kNone;
    http::BodyFraming response_framing = http::BodyFraming::kNone;

    int status = 0;  // answered (0: nothing yet)
    uint64_t bytes_sent = 0;
    uint64_t request_start_ms;
    int64_t connect_ms = -1;
    int64_t first_byte_ms = -1;
};

}  // namespace sluice::proxy
