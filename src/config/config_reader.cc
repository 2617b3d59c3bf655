#include "config/config_reader.h"

#include <algorithm>

#include "config/units.h"

namespace sluice::config {
namespace {

// Longest unix socket path (sun_path holds 108 bytes including the terminating NUL).
constexpr size_t kMaxUnixPath = 107;

// [admin] allow when the file does not say: loopback only (config.md).
std::vector<Network> defaultAdminAllow() {
    std::vector<Network> allow;
    std::string unused;
    for (const char* loopback : {"127.0.0.0/8", "::1/128"}) {
        allow.push_back(*parseNetwork(loopback, &unused));
    }
    return allow;
}

}  // namespace

void ConfigReader::read(const toml::value& root, Config* config) {
    TableReader reader(root, "", "", diags_);
    if (const toml::value* global = reader.findTable("global"))
        readGlobal(*global, &config->global);
    if (const toml::value* log = reader.findTable("log")) readLog(*log, &config->log);
    if (const toml::value* admin = reader.findTable("admin")) {
        readAdmin(*admin, &config->admin);
    } else {
        config->admin.allow = defaultAdminAllow();
    }
    if (const toml::value* resolver = reader.findTable("resolver")) {
        readResolver(*resolver, &config->resolver);
    }

    // Pools first: listeners and routes refer to them by name.
    if (const toml::value* pools = reader.findArrayOfTables("pool")) {
        for (const toml::value& table : pools->as_array()) {
            readPool(table, &config->pools.emplace_back());
        }
    }
    const toml::value* listeners = reader.find("listener");
    if (listeners == nullptr) {
        diags_->error(Location{1, 1}, "no [[listener]] defined; at least one is required");
    } else if ((listeners = reader.findArrayOfTables("listener")) != nullptr) {
        for (const toml::value& table : listeners->as_array()) {
            readListener(table, &config->listeners.emplace_back());
        }
    }
    reader.reportUnknownKeys();
}

void ConfigReader::readGlobal(const toml::value& table, GlobalConfig* global) {
    TableReader r(table, "global", "[global]", diags_);
    r.readInteger("workers", &global->workers, 0, 1024);
    r.readInteger("max_connections", &global->max_connections, 1, 10'000'000);
    r.readDuration("shutdown_timeout", &global->shutdown_timeout, Duration{0});
    r.readDuration("stop_grace", &global->stop_grace, Duration{0});
    r.readString("user", &global->user);
    r.readString("group", &global->group);
    if (readNonEmptyString(r, "control_socket", &global->control_socket) &&
        global->control_socket.size() > kMaxUnixPath) {
        r.error(*r.find("control_socket"), "control_socket",
                "path is too long for a unix socket (at most " + std::to_string(kMaxUnixPath) +
                    " bytes)");
    }
    if (const toml::value* mode = r.find("control_socket_mode")) {
        std::string why;
        if (!mode->is_string()) {
            r.error(*mode, "control_socket_mode",
                    "expected an octal string like \"0660\", got " + describeType(*mode));
        } else if (const auto parsed = parseOctalMode(mode->as_string().str, &why)) {
            global->control_socket_mode = *parsed;
        } else {
            r.error(*mode, "control_socket_mode", why);
        }
    }
    readNonEmptyString(r, "state_file", &global->state_file, &global->state_file_at);
    r.reportUnknownKeys();
}

void ConfigReader::readLog(const toml::value& table, LogConfig* log) {
    TableReader r(table, "log", "[log]", diags_);
    r.readEnum("level", &log->level);
    readNonEmptyString(r, "error_log", &log->error_log, &log->error_log_at);
    readNonEmptyString(r, "access_log", &log->access_log, &log->access_log_at);
    r.readEnum("access_log_format", &log->access_log_format);
    r.reportUnknownKeys();
}

void ConfigReader::readAdmin(const toml::value& table, AdminConfig* admin) {
    TableReader r(table, "admin", "[admin]", diags_);
    Address listen;
    if (readAddress(r, "listen", true, &listen)) {
        claimBind(listen, *r.find("listen"), "admin.listen", "the admin endpoint");
        admin->listen = listen;
    }
    if (r.find("allow")) {
        readNetworks(r, "allow", &admin->allow);
    } else {
        admin->allow = defaultAdminAllow();
    }
    r.reportUnknownKeys();
}

void ConfigReader::readResolver(const toml::value& table, ResolverConfig* resolver) {
    TableReader r(table, "resolver", "[resolver]", diags_);
    if (const toml::value* list = r.find("nameservers")) {
        if (!list->is_array()) {
            r.error(*list, "nameservers",
                    "expected an array of addresses like [\"10.0.0.2:53\"], got " +
                        describeType(*list));
        } else {
            for (const toml::value& entry : list->as_array()) {
                std::string why;
                if (!entry.is_string()) {
                    diags_->error(entry, "resolver.nameservers: expected an address string, got " +
                                             describeType(entry));
                } else if (auto address = parseNameserver(entry.as_string().str, &why)) {
                    resolver->nameservers.push_back(std::move(*address));
                } else {
                    diags_->error(entry, "resolver.nameservers: " + why);
                }
            }
        }
    }
    r.readDuration("timeout", &resolver->timeout, Duration{1});
    r.readInteger("attempts", &resolver->attempts, 1, 10);
    r.reportUnknownKeys();
}

std::optional<Address> ConfigReader::parseNameserver(const std::string& text, std::string* error) {
    // An IP literal, with a port or not (53): a resolver cannot be found by name.
    std::string with_port = text;
    const size_t colons = static_cast<size_t>(std::count(text.begin(), text.end(), ':'));
    if (!text.empty() && text.front() == '[') {
        if (text.back() == ']') with_port += ":53";
    } else if (colons > 1) {
        with_port = "[" + text + "]:53";  // a bare IPv6 address
    } else if (colons == 0) {
        with_port += ":53";
    }
    std::optional<Address> address = parseAddress(with_port, error);
    if (!address) {
        *error = "invalid nameserver \"" + text + "\" (expected an IP address, with a port or not)";
        return std::nullopt;
    }
    if (!AddressResolver(false).resolve(&*address, error)) {
        *error = "nameserver \"" + text + "\" must be an IP address, not a hostname";
        return std::nullopt;
    }
    address->text = text;
    return address;
}

const toml::value* ConfigReader::readName(TableReader& reader, const char* key, std::string* out) {
    const toml::value* value = reader.findString(key);
    if (value == nullptr) return nullptr;
    const std::string& name = value->as_string().str;
    if (!isValidName(name)) {
        reader.error(
            *value, key,
            "invalid name \"" + name + "\" (1 to 64 characters from A-Z, a-z, 0-9, '_', '.', '-')");
        return nullptr;
    }
    *out = name;
    return value;
}

bool ConfigReader::readAddress(TableReader& reader, const char* key, bool allow_empty,
                               Address* out) {
    const toml::value* value = reader.findString(key);
    if (value == nullptr) return false;
    const std::string& text = value->as_string().str;
    if (text.empty() && allow_empty) return false;
    std::string why;
    std::optional<Address> address = parseAddress(text, &why);
    if (!address || !resolver_.resolve(&*address, &why)) {
        reader.error(*value, key, why);
        return false;
    }
    *out = std::move(*address);
    return true;
}

bool ConfigReader::readNonEmptyString(TableReader& reader, const char* key, std::string* out) {
    const toml::value* value = reader.findString(key);
    if (value == nullptr) return false;
    if (value->as_string().str.empty()) {
        reader.error(*value, key, "must not be empty");
        return false;
    }
    *out = value->as_string().str;
    return true;
}

bool ConfigReader::readNonEmptyString(TableReader& reader, const char* key, std::string* out,
                                      std::string* at) {
    if (!readNonEmptyString(reader, key, out)) return false;
    const Location where = diags_->locate(*reader.find(key));
    *at = std::to_string(where.line) + ":" + std::to_string(where.column);
    return true;
}

void ConfigReader::claimBind(const Address& address, const toml::value& at, const std::string& what,
                             const std::string& owner) {
    const auto [it, added] = binds_.emplace(socketKey(address), Bind{owner, Location{}});
    if (!added) {
        diags_->error(at, what + ": " + address.text + " is already used by " + it->second.owner +
                              " (line " + std::to_string(it->second.at.line) + ")");
        return;
    }
    it->second.at = diags_->locate(at);
}

void ConfigReader::checkPoolRef(const toml::value& at, const std::string& key_path,
                                const std::string& pool) {
    if (pool_names_.count(pool) != 0) return;
    std::vector<std::string> names;
    for (const auto& entry : pool_names_) names.push_back(entry.first);
    std::string message = key_path + ": no pool named \"" + pool + "\"";
    const std::string hint = closestMatch(pool, names);
    if (!hint.empty()) message += "; did you mean \"" + hint + "\"?";
    diags_->error(at, message);
}

}  // namespace sluice::config
