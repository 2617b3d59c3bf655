#pragma once
// toml::parse behind a plain function. toml::parse is by far toml11's heaviest template (about
// 15 s of compile per translation unit that instantiates it, per build variant): it is
// instantiated once, in toml_document.cc, and everything else calls parseTomlDocument().

#include <istream>
#include <toml.hpp>

namespace sluice::config {

// toml::parse(in): the parsed root table, or what toml::parse throws (toml::syntax_error, a
// toml::exception, with its LINE:COL source location; std::runtime_error and friends).
// toml11 is given no file name: its messages and source locations carry none, and callers
// write their own path before the position (Diagnostics::format).
toml::value parseTomlDocument(std::istream& in);

}  // namespace sluice::config
