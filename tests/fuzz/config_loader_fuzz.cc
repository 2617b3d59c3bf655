// libFuzzer target: arbitrary bytes as a config file through loadConfigFromString (text in,
// diagnostics out; no name lookups, nothing read or written on disk). Traps on crashes (ASan,
// UBSan, stack overflow in toml11's recursive parser) and on broken contracts: errors are never
// empty, each is one line "fuzz.toml:LINE:COL: message" with LINE inside the file, and a config
// that loads has its listeners, pools references and server names in order and equals itself
// in diffConfigs.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "config/config_diff.h"
#include "config/config_loader.h"

namespace {

using namespace sluice::config;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

// Reads a decimal number at text[*pos]; at least one digit, and not 0.
uint64_t positiveNumber(std::string_view text, size_t* pos) {
    uint64_t n = 0;
    const size_t start = *pos;
    while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9' && *pos - start < 12) {
        n = n * 10 + static_cast<uint64_t>(text[*pos] - '0');
        ++*pos;
    }
    check(*pos > start && n > 0);
    return n;
}

void checkMessage(std::string_view message, uint64_t lines) {
    constexpr std::string_view kPrefix = "fuzz.toml:";
    check(message.substr(0, kPrefix.size()) == kPrefix);
    size_t pos = kPrefix.size();
    check(positiveNumber(message, &pos) <= lines);
    check(pos < message.size() && message[pos] == ':');
    ++pos;
    positiveNumber(message, &pos);
    check(message.substr(pos, 2) == ": " && message.size() > pos + 2);
    for (unsigned char c : message) check(c >= 0x20 && c != 0x7f);  // one printable line
}

void checkConfig(const Config& config) {
    check(!config.listeners.empty());
    for (const ListenerConfig& listener : config.listeners) {
        check(!listener.name.empty() && listener.bind.sockaddr_len != 0);
        check(listener.pool.empty() || config.findPool(listener.pool) != nullptr);
        check(!listener.pool.empty() || !listener.routes.empty());
        for (const RouteConfig& route : listener.routes) check(config.findPool(route.pool));
    }
    for (const PoolConfig& pool : config.pools) {
        check(!pool.name.empty());
        for (const ServerConfig& server : pool.servers) {
            check(!server.name.empty() && server.address.sockaddr_len != 0);
            check(server.weight >= 1 && server.weight <= 1000);
        }
    }
    check(diffConfigs(config, config).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    LoadOptions options;
    options.resolve_hostnames = false;
    auto result = loadConfigFromString(text, "fuzz.toml", options);
    if (const auto* errors = std::get_if<ConfigErrors>(&result)) {
        check(!errors->messages.empty());
        uint64_t lines = 1;
        for (char c : text) lines += c == '\n';
        for (const std::string& message : errors->messages) checkMessage(message, lines);
    } else {
        checkConfig(std::get<Config>(result));
    }
    return 0;
}
