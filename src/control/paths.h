#pragma once
// Small helpers for the files the control layer owns (its socket, the state file).

#include <string>

namespace sluice::control {

// The directory part of `path`: "." when there is none, "/" for a file in the root.
std::string parentDirectory(const std::string& path);

// strerror(err) as a string, for messages.
std::string errnoText(int err);

}  // namespace sluice::control
