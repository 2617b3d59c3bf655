#pragma once
// The request checks llhttp 8.1 leaves to its caller, applied to a complete head before any
// handler sees it (desync / smuggling defences; see docs in request_parser.h).

#include <cstdint>

#include "http/message.h"

namespace sluice::http {

struct Verdict {
    int status = 0;  // 0: acceptable; else the HTTP status to answer
    const char* reason = "";
    bool ok() const { return status == 0; }
};

// Validates method, version, target form, Host and framing fields of `head` (values already
// OWS-trimmed) and fills head.framing, content_length, keep_alive, upgrade, expect_continue.
// `max_body_bytes` 0 means unlimited.
// - 505: version other than 1.0 / 1.1
// - 501: CONNECT (not proxied), a Transfer-Encoding list ending in chunked with other codings
// - 413: Content-Length above max_body_bytes
// - 400: missing Host on 1.1, repeated or invalid Host, target not origin-form / absolute-form
//        (http, https) / "*" for OPTIONS, absolute-form authority differing from Host, any
//        fragment, CL with TE, repeated or malformed CL, repeated or invalid TE, TE on 1.0.
Verdict validateRequestHead(RequestHead& head, uint64_t max_body_bytes);

}  // namespace sluice::http
