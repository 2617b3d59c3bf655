#pragma once
// Internal to src/tls: turning the OpenSSL error queue into one-line messages. The queue is
// per thread; callers clear it before an operation so nothing stale leaks into a message.

#include <string>

namespace sluice::tls::internal {

// The reason of one packed error code: "no start line", or strerror's text for system errors.
std::string errorReason(unsigned long code);
// The reason of the first (root-cause) error in this thread's queue, then clears the queue.
// `fallback` when the queue is empty.
std::string takeError(const char* fallback = "unknown error");

}  // namespace sluice::tls::internal
