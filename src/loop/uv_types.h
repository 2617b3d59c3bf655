#pragma once
// libuv's loop type, declared for the layers above loop/ and net/ that only pass a loop along
// (to a loop::Timer, a net::TcpConnection, ...): they do not include uv.h, whose types and calls
// stay in loop/ and net/. Also the two loop facts those layers read: its cached clock and the
// text of a libuv error code.

#include <cstdint>

struct uv_loop_s;
typedef struct uv_loop_s uv_loop_t;  // as uv.h declares it

namespace sluice::loop {

// The loop's cached clock in milliseconds (uv_now): updated once per loop iteration.
uint64_t now(const uv_loop_t* loop);
// A libuv error code (negative errno) as text (uv_strerror): "connection refused". Static
// storage; never null, also for an unknown code.
const char* errorText(int uv_error);

}  // namespace sluice::loop
