#include "config/config_loader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <toml.hpp>

#include "config/config_reader.h"
#include "config/diagnostics.h"
#include "config/text_limits.h"
#include "config/toml_document.h"

namespace sluice::config {

std::variant<Config, ConfigErrors> loadConfig(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return ConfigErrors{{path + ":1:1: cannot read file: " + std::strerror(EISDIR)}};
    }
    std::string text;
    if (!readConfigText(path, &text)) {
        return ConfigErrors{{path + ":1:1: cannot read file: " + std::strerror(errno)}};
    }
    return loadConfigFromString(text, path);
}

std::variant<Config, ConfigErrors> loadConfigFromString(const std::string& text,
                                                        const std::string& path,
                                                        const LoadOptions& options) {
    Diagnostics diags;
    // Before toml11 sees it: what its parser cannot survive (deep nesting) is an error here.
    if (!checkTextLimits(text, &diags)) return ConfigErrors{diags.format(path)};
    toml::value root;
    try {
        std::istringstream in(text);
        root = parseTomlDocument(in);
    } catch (const toml::exception& e) {
        addSyntaxError(e, text, &diags);
        return ConfigErrors{diags.format(path)};
    } catch (const std::exception& e) {  // toml11 also throws plain runtime errors
        return ConfigErrors{{path + ":1:1: " + e.what()}};
    }

    Config config;
    config.path = path;
    ConfigReader(&diags, options.resolve_hostnames).read(root, &config);
    if (!diags.empty()) return ConfigErrors{diags.format(path)};
    return config;
}

}  // namespace sluice::config
