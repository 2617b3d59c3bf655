#include "proxy/http/access_log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "base/json.h"

namespace sluice::proxy {
namespace {

// The request's protocol as clients write it: HTTP/1.0, HTTP/1.1, HTTP/2.0.
std::string_view protocolOf(const AccessRecord& r) {
    if (r.version_major == 2) return "HTTP/2.0";
    return r.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
}

int openTarget(const std::string& target, std::string* error) {
    if (target == "off") return -1;
    if (target == "stderr") return STDERR_FILENO;
    if (target == "stdout") return STDOUT_FILENO;
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 && error) *error = target + ": " + std::strerror(errno);
    return fd;
}

void appendQuotedCombined(std::string& out, std::string_view value) {
    if (value.empty()) {
        out += '-';
        return;
    }
    for (char c : value) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out += c;
        }
    }
}

// The JSON line as one document whose members keep their place and their string buffers
// from line to line (one per thread: workers log concurrently): filling it in allocates
// nothing once the strings have grown to their usual sizes. dump() still allocates its result,
// an output adapter and an indent string per line (7 allocations, about twice the instructions
// of the old hand-written escaper: tools/access_log_cost); writing into a reused buffer would
// need nlohmann's serializer from its detail namespace, which is not its API.
class JsonLine {
  public:
    JsonLine() {
        // Member order is the line's; numbers are int64, the rest strings.
        for (const char* key : {"time", "client", "method", "target", "protocol", "host"}) {
            doc_[key] = "";
        }
        doc_["status"] = int64_t{0};
        doc_["bytes"] = int64_t{0};
        for (const char* key : {"referer", "user_agent", "pool", "upstream"}) doc_[key] = "";
        for (const char* key : {"connect_ms", "first_byte_ms", "total_ms"}) doc_[key] = int64_t{0};
        for (const char* key : {"request_id", "termination", "tls", "sni"}) doc_[key] = "";
        // Only now that no member is added any more do their addresses hold.
        for (Json& value : doc_) {
            if (value.is_string()) {
                texts_.push_back(value.get_ptr<std::string*>());
            } else {
                numbers_.push_back(&value);
            }
        }
    }

    // Writes the line for `r` (time already formatted) into `out`, with its "\n".
    void format(const AccessRecord& r, std::string_view time, std::string& out) {
        size_t t = 0, n = 0;
        const auto put = [&](std::string_view value) { texts_[t++]->assign(value); };
        const auto count = [&](int64_t value) { *numbers_[n++] = value; };
        put(time);
        put(r.client);
        put(r.method);
        put(r.target);
        put(protocolOf(r));
        put(r.host);
        count(r.status);
        count(static_cast<int64_t>(r.bytes_sent));
        put(r.referer);
        put(r.user_agent);
        put(r.pool);
        put(r.upstream);
        count(r.connect_ms);
        count(r.first_byte_ms);
        count(r.total_ms);
        put(r.request_id);
        put(r.termination);
        put(r.tls_version);
        put(r.sni);
        // Header values are client bytes: invalid UTF-8 becomes U+FFFD (base/json.h).
        out.assign(toJsonText(doc_));
        out += '\n';
    }

  private:
    Json doc_ = Json::object();
    std::vector<std::string*> texts_;  // into doc_, in the order format() fills them
    std::vector<Json*> numbers_;
};

void appendInt(std::string& out, int64_t value) {
    char buf[24];
    int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
    out.append(buf, static_cast<size_t>(n));
}

// nginx's "combined" plus sluice's fields: upstream=, connect_ms=, ..., tls= and sni=.
void formatCombined(const AccessRecord& r, const char* when, std::string& out) {
    const auto orDash = [](std::string_view v) { return v.empty() ? std::string_view("-") : v; };
    const auto number = [&](std::string_view label, int64_t v) {
        out += label;
        appendInt(out, v);
    };
    const auto quoted = [&](std::string_view label, std::string_view v) {
        out += label;
        appendQuotedCombined(out, v);
    };
    out += orDash(r.client);
    out += " - - [";
    out += when;
    quoted("] \"", r.method);
    quoted(" ", r.target);
    out.append(" ").append(protocolOf(r)).append("\"");
    number(" ", r.status);
    number(" ", static_cast<int64_t>(r.bytes_sent));
    quoted(" \"", r.referer);
    quoted("\" \"", r.user_agent);
    out += "\" upstream=";
    out += orDash(r.upstream);
    number(" connect_ms=", r.connect_ms);
    number(" first_byte_ms=", r.first_byte_ms);
    number(" total_ms=", r.total_ms);
    out += " request_id=";
    out += orDash(r.request_id);
    out += " term=";
    out += r.termination;
    if (!r.tls_version.empty()) {
        out += " tls=";
        out += r.tls_version;
        quoted(" sni=", orDash(r.sni));
    }
    out += '\n';
}

}  // namespace

AccessLog& accessLog() {
    static AccessLog log;
    return log;
}

bool AccessLog::open(const config::LogConfig& config, std::string* error) {
    int fd = openTarget(config.access_log, error);
    if (fd < 0 && config.access_log != "off") return false;
    target_ = config.access_log;
    format_ = config.access_log_format;
    int old = fd_.exchange(fd);
    if (old > STDERR_FILENO && old != fd) ::close(old);
    return true;
}

bool AccessLog::reopen(std::string* error) {
    if (target_ == "off" || target_ == "stderr" || target_ == "stdout") return true;
    int fd = openTarget(target_, error);
    if (fd < 0) return false;
    int old = fd_.exchange(fd);
    if (old > STDERR_FILENO) ::close(old);
    return true;
}

void AccessLog::write(const AccessRecord& r, std::string& out) const {
    int fd = fd_.load(std::memory_order_relaxed);
    if (fd < 0) return;
    out.clear();
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tm utc{};
    gmtime_r(&tv.tv_sec, &utc);
    char when[64];
    if (format_ == config::AccessLogFormat::kCombined) {
        std::strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &utc);
        formatCombined(r, when, out);
    } else {
        const size_t length = std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
        std::snprintf(when + length, sizeof when - length, ".%03dZ",
                      static_cast<int>(tv.tv_usec / 1000));
        thread_local JsonLine line;
        line.format(r, when, out);
    }
    ssize_t ignored = ::write(fd, out.data(), out.size());
    (void)ignored;
}

const char* rejectionTermination(int status) {
    switch (status) {
        case 413:
            return "body_too_large";
        case 414:
            return "uri_too_long";
        case 431:
            return "header_too_large";
        case 501:
            return "not_implemented";
        case 505:
            return "version_not_supported";
        default:
            return "bad_request";
    }
}

}  // namespace sluice::proxy
