#pragma once
// Internal to src/http2: the nghttp2 side of ServerSession (session options, SETTINGS, and
// every callback), kept apart from the owner-facing API in server_session.cc.

#include <nghttp2/nghttp2.h>

#include <cstdint>

#include "http2/server_session.h"

namespace sluice::http2 {

struct SessionCallbacks {
    // Opaque data of the PING that follows the shutdown notice.
    static const uint8_t kShutdownPing[8];

    // A server session with sluice's options and SETTINGS submitted; nullptr on failure.
    static nghttp2_session* newSession(ServerSession& owner, const SessionSettings& settings);
    // GOAWAY(ENHANCE_YOUR_CALM): the glitch limit was passed.
    static void calm(ServerSession& s);

    // nghttp2 callbacks (user_data is the ServerSession).
    static ssize_t readBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                            size_t length, uint32_t* data_flags, nghttp2_data_source* source,
                            void* user_data);
    static ssize_t send(nghttp2_session* session, const uint8_t* data, size_t length, int flags,
                        void* user_data);
    static int sendData(nghttp2_session* session, nghttp2_frame* frame, const uint8_t* framehd,
                        size_t length, nghttp2_data_source* source, void* user_data);
    static int onBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame,
                              void* user_data);
    static int onHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                        size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                        void* user_data);
    static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
    static int onInvalidFrameRecv(nghttp2_session* session, const nghttp2_frame* frame,
                                  int lib_error_code, void* user_data);
    static int onDataChunkRecv(nghttp2_session* session, uint8_t flags, int32_t stream_id,
                               const uint8_t* data, size_t len, void* user_data);
    static int onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
    static int onFrameNotSend(nghttp2_session* session, const nghttp2_frame* frame,
                              int lib_error_code, void* user_data);
    static int onStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                             void* user_data);
};

}  // namespace sluice::http2
