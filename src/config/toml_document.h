#pragma once
// toml::parse behind a plain function. toml::parse is by far toml11's heaviest template (about
// 15 s of compile per translation unit that instantiates it, per build variant): it is
// instantiated once, in toml_document.cc, and everything else calls parseTomlDocument().

#include <istream>
#include <string>
#include <toml.hpp>

namespace sluice::config {

// toml::parse(in, path): the parsed root table, or what toml::parse throws (toml::syntax_error,
// a toml::exception, with its FILE:LINE:COL source location; std::runtime_error and friends).
// `path` is used only in messages.
toml::value parseTomlDocument(std::istream& in, const std::string& path);

}  // namespace sluice::config
