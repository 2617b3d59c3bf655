#include "control/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "control/json.h"
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

bool isValidState(std::string_view s) { return s == "ready" || s == "drain" || s == "maint"; }

// Checks one server entry; `where` is "servers[N]".
bool readServer(const JsonValue& entry, const std::string& where, ServerOverride* out,
                std::string* why) {
    if (!entry.isObject()) {
        *why = where + ": expected an object, got " + JsonValue::typeName(entry.type());
        return false;
    }
    for (const auto& [key, value] : entry.asObject()) {
        (void)value;
        if (key != "pool" && key != "name" && key != "state" && key != "weight" && key != "added" &&
            key != "address" && key != "backup") {
            *why = where + ": unknown key \"" + key + "\"";
            return false;
        }
    }
    const auto requireString = [&](const char* key, std::string* dst, const std::string& prefix) {
        const JsonValue* v = entry.find(key);
        if (v == nullptr) {
            *why = prefix + ": missing \"" + key + "\"";
            return false;
        }
        if (!v->isString() || v->asString().empty()) {
            *why = prefix + ": \"" + key + "\" must be a non-empty string";
            return false;
        }
        *dst = v->asString();
        return true;
    };
    if (!requireString("pool", &out->pool, where) || !requireString("name", &out->name, where)) {
        return false;
    }
    const std::string label = where + " (" + out->pool + "/" + out->name + ")";

    if (const JsonValue* v = entry.find("state"); v != nullptr && !v->isNull()) {
        if (!v->isString() || !isValidState(v->asString())) {
            *why = label + ": \"state\" must be \"ready\", \"drain\" or \"maint\"";
            return false;
        }
        out->state = v->asString();
    }
    if (const JsonValue* v = entry.find("weight"); v != nullptr && !v->isNull()) {
        if (!v->isInteger() || v->asInteger() < 0 ||
            v->asInteger() > std::numeric_limits<unsigned>::max()) {
            *why = label + ": \"weight\" must be a non-negative integer";
            return false;
        }
        out->weight = static_cast<unsigned>(v->asInteger());
    }
    if (const JsonValue* v = entry.find("added")) {
        if (!v->isBool()) {
            *why = label + ": \"added\" must be true or false";
            return false;
        }
        out->added = v->asBool();
    }
    const JsonValue* address = entry.find("address");
    const JsonValue* backup = entry.find("backup");
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
        if (!backup->isBool()) {
            *why = label + ": \"backup\" must be true or false";
            return false;
        }
        out->backup = backup->asBool();
    }
    return true;
}

std::string formatServer(const ServerOverride& s) {
    JsonWriter w;
    w.beginObject().field("pool", s.pool).field("name", s.name);
    if (s.state) w.field("state", *s.state);
    if (s.weight) w.field("weight", *s.weight);
    if (s.added) w.field("added", true).field("address", s.address).field("backup", s.backup);
    w.endObject();
    return w.take();
}

}  // namespace

std::string formatStateFile(const RuntimeState& state) {
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
    const std::optional<JsonValue> root = parseJson(text, &json_error);
    if (!root) {
        *error = path + ":" + json_error.format();
        return false;
    }
    const auto failWith = [&](const std::string& why) {
        *error = path + ": " + why;
        state->servers.clear();
        return false;
    };
    if (!root->isObject()) {
        return failWith(std::string("expected a JSON object at the top level, got ") +
                        JsonValue::typeName(root->type()));
    }
    for (const auto& [key, value] : root->asObject()) {
        (void)value;
        if (key != "version" && key != "servers") return failWith("unknown key \"" + key + "\"");
    }
    const JsonValue* version = root->find("version");
    if (version == nullptr) return failWith("missing \"version\"");
    if (!version->isInteger() || version->asInteger() != kStateFileVersion) {
        return failWith("unsupported version " + toJson(*version) + " (expected " +
                        std::to_string(kStateFileVersion) + ")");
    }
    const JsonValue* servers = root->find("servers");
    if (servers == nullptr) return true;
    if (!servers->isArray()) return failWith("\"servers\" must be an array");
    std::set<std::pair<std::string, std::string>> seen;
    const JsonValue::Array& entries = servers->asArray();
    for (size_t i = 0; i < entries.size(); ++i) {
        const std::string where = "servers[" + std::to_string(i) + "]";
        ServerOverride server;
        std::string why;
        if (!readServer(entries[i], where, &server, &why)) return failWith(why);
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
