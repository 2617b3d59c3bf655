#include "control/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "base/json.h"
#include "control/json_reader.h"
#include "control/paths.h"

namespace sluice::control {

namespace {

constexpr size_t kMaxStateFileBytes = 64 * 1024 * 1024;

bool writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

// A JSON number without a fractional part that fits in int64_t (5 and 5.0 alike).
std::optional<int64_t> integerOf(const Json& v) {
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() &&
            v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return std::nullopt;
        }
        return v.get<int64_t>();
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d >= -9.2e18 && d <= 9.2e18 && d == static_cast<double>(static_cast<int64_t>(d))) {
            return static_cast<int64_t>(d);
        }
    }
    return std::nullopt;
}

const Json* member(const Json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

// Checks one server entry; `where` is "servers[N]".
bool readServer(const Json& entry, const std::string& where, ServerOverride* out,
                std::string* why) {
    if (!entry.is_object()) {
        *why = where + ": expected an object, got " + entry.type_name();
        return false;
    }
    for (const auto& [key, value] : entry.items()) {
        (void)value;
        if (key != "pool" && key != "name" && key != "state" && key != "weight" && key != "added" &&
            key != "address" && key != "backup") {
            *why = where + ": unknown key \"" + key + "\"";
            return false;
        }
    }
    const auto requireString = [&](const char* key, std::string* dst, const std::string& prefix) {
        const Json* v = member(entry, key);
        if (v == nullptr) {
            *why = prefix + ": missing \"" + key + "\"";
            return false;
        }
        if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
            *why = prefix + ": \"" + key + "\" must be a non-empty string";
            return false;
        }
        *dst = v->get<std::string>();
        return true;
    };
    if (!requireString("pool", &out->pool, where) || !requireString("name", &out->name, where)) {
        return false;
    }
    const std::string label = where + " (" + out->pool + "/" + out->name + ")";

    if (const Json* v = member(entry, "state"); v != nullptr && !v->is_null()) {
        const auto state = v->is_string()
                               ? parseName<upstream::AdminState>(v->get_ref<const std::string&>())
                               : std::nullopt;
        if (!state) {
            *why = label + ": \"state\" must be \"ready\", \"drain\" or \"maint\"";
            return false;
        }
        out->state = *state;
    }
    if (const Json* v = member(entry, "weight"); v != nullptr && !v->is_null()) {
        const auto weight = integerOf(*v);
        if (!weight || *weight < 0 || *weight > std::numeric_limits<unsigned>::max()) {
            *why = label + ": \"weight\" must be a non-negative integer";
            return false;
        }
        out->weight = static_cast<unsigned>(*weight);
    }
    if (const Json* v = member(entry, "added")) {
        if (!v->is_boolean()) {
            *why = label + ": \"added\" must be true or false";
            return false;
        }
        out->added = v->get<bool>();
    }
    const Json* address = member(entry, "address");
    const Json* backup = member(entry, "backup");
    if (!out->added) {
        if (address != nullptr || backup != nullptr) {
            *why = label + ": \"" + (address != nullptr ? "address" : "backup") +
                   "\" is only allowed with \"added\": true";
            return false;
        }
        return true;
    }
    if (!requireString("address", &out->address, label)) return false;
    if (backup != nullptr) {
        if (!backup->is_boolean()) {
            *why = label + ": \"backup\" must be true or false";
            return false;
        }
        out->backup = backup->get<bool>();
    }
    return true;
}

std::string formatServer(const ServerOverride& s) {
    Json entry = {{"pool", s.pool}, {"name", s.name}};
    if (s.state) entry["state"] = nameOf(*s.state);
    if (s.weight) entry["weight"] = *s.weight;
    if (s.added) {
        entry["added"] = true;
        entry["address"] = s.address;
        entry["backup"] = s.backup;
    }
    return toJsonText(entry);
}

}  // namespace

std::string formatStateFile(const RuntimeState& state) {
    // Laid out by hand around compact entries: one server per line, easy to read and to diff.
    std::string out = "{\"version\":" + std::to_string(kStateFileVersion) + ",\"servers\":[";
    for (size_t i = 0; i < state.servers.size(); ++i) {
        out += i == 0 ? "\n  " : ",\n  ";
        out += formatServer(state.servers[i]);
    }
    out += state.servers.empty() ? "]}\n" : "\n]}\n";
    return out;
}

bool parseStateFile(std::string_view text, const std::string& path, RuntimeState* state,
                    std::string* error) {
    state->servers.clear();
    JsonError json_error;
    const std::optional<Json> root = parseJson(text, &json_error);
    if (!root) {
        *error = path + ":" + json_error.format();
        return false;
    }
    const auto failWith = [&](const std::string& why) {
        *error = path + ": " + why;
        state->servers.clear();
        return false;
    };
    if (!root->is_object()) {
        return failWith(std::string("expected a JSON object at the top level, got ") +
                        root->type_name());
    }
    for (const auto& [key, value] : root->items()) {
        (void)value;
        if (key != "version" && key != "servers") return failWith("unknown key \"" + key + "\"");
    }
    const Json* version = member(*root, "version");
    if (version == nullptr) return failWith("missing \"version\"");
    if (integerOf(*version) != kStateFileVersion) {
        return failWith("unsupported version " + toJsonText(*version) + " (expected " +
                        std::to_string(kStateFileVersion) + ")");
    }
    const Json* servers = member(*root, "servers");
    if (servers == nullptr) return true;
    if (!servers->is_array()) return failWith("\"servers\" must be an array");
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < servers->size(); ++i) {
        const std::string where = "servers[" + std::to_string(i) + "]";
        ServerOverride server;
        std::string why;
        if (!readServer((*servers)[i], where, &server, &why)) return failWith(why);
        if (!seen.emplace(server.pool, server.name).second) {
            return failWith(where + ": duplicate entry for " + server.pool + "/" + server.name);
        }
        state->servers.push_back(std::move(server));
    }
    return true;
}

bool writeStateFile(const std::string& path, const RuntimeState& state, std::string* error) {
    const std::string dir = parentDirectory(path);
    std::string tmp = path + ".tmp.XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        struct stat st;
        if (err == ENOENT && ::stat(dir.c_str(), &st) != 0) {
            *error = path + ": cannot write: directory " + dir + " does not exist";
        } else {
            *error = path + ": cannot create a temporary file in " + dir + ": " + errnoText(err);
        }
        return false;
    }
    const auto failWith = [&](const std::string& what, int err) {
        *error = path + ": " + what + ": " + errnoText(err);
        ::unlink(tmp.c_str());
        return false;
    };

    // Keep the permissions an admin gave the existing file; mkstemp creates 0600.
    mode_t mode = 0644;
    struct stat existing;
    if (::stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
        mode = existing.st_mode & 07777;
    }
    if (::fchmod(fd, mode) != 0) {
        const int err = errno;
        ::close(fd);
        return failWith("cannot set mode of temporary file " + tmp, err);
    }
    if (!writeAll(fd, formatStateFile(state))) {
        const int err = errno;
        ::close(fd);
        return failWith("cannot write temporary file " + tmp, err);
    }
    if (::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        return failWith("cannot fsync temporary file " + tmp, err);
    }
    if (::close(fd) != 0) return failWith("cannot close temporary file " + tmp, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return failWith("cannot rename " + tmp + " over it", errno);
    }
    // Make the rename itself durable. Best effort: the data is already in place.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return true;
}

bool readStateFile(const std::string& path, RuntimeState* state, std::string* error) {
    state->servers.clear();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return true;  // never written yet: no overrides
        *error = path + ": cannot open: " + errnoText(errno);
        return false;
    }
    std::string text;
    char buf[16384];
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            *error = path + ": cannot read: " + errnoText(err);
            return false;
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > kMaxStateFileBytes) {
            ::close(fd);
            *error =
                path + ": file is larger than " + std::to_string(kMaxStateFileBytes) + " bytes";
            return false;
        }
    }
    ::close(fd);
    return parseStateFile(text, path, state, error);
}

}  // namespace sluice::control
