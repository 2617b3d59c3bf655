#include "loop/uv_types.h"

#include <uv.h>

namespace sluice::loop {

uint64_t now(const uv_loop_t* loop) { return uv_now(loop); }

const char* errorText(int uv_error) { return uv_strerror(uv_error); }

}  // namespace sluice::loop
