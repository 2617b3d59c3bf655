#include "config/control_socket_lookup.h"

#include <exception>
#include <sstream>
#include <toml.hpp>

#include "config/text_limits.h"
#include "config/toml_document.h"

namespace sluice::config {

std::string controlSocketFromFile(const std::string& path) {
    // Read first: toml11 sizes its buffer with tellg(), which is -1 for a directory.
    std::string text;
    if (!readConfigText(path, &text)) return "";
    // A file toml11 cannot survive (deep nesting) must not take sluicectl down either.
    Diagnostics ignored;
    if (!checkTextLimits(text, &ignored)) return "";
    try {
        std::istringstream in(text);
        const toml::value root = parseTomlDocument(in);
        if (!root.is_table()) return "";
        const auto& table = root.as_table();
        const auto global = table.find("global");
        if (global == table.end() || !global->second.is_table()) return "";
        const auto& global_table = global->second.as_table();
        const auto socket = global_table.find("control_socket");
        if (socket == global_table.end() || !socket->second.is_string()) return "";
        return socket->second.as_string().str;
    } catch (const std::exception&) {  // toml11 throws on syntax errors
        return "";
    }
}

}  // namespace sluice::config
