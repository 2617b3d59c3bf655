#include "proxy/http/access_log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace sluice::proxy {
namespace {

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

void appendJsonString(std::string& out, std::string_view value) {
    out += '"';
    for (char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

void appendInt(std::string& out, int64_t value) {
    char buf[24];
    int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
    out.append(buf, static_cast<size_t>(n));
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
        out += r.client.empty() ? std::string_view("-") : r.client;
        out += " - - [";
        out += when;
        out += "] \"";
        appendQuotedCombined(out, r.method);
        out += ' ';
        appendQuotedCombined(out, r.target);
        out += r.version_minor == 0 ? " HTTP/1.0\" " : " HTTP/1.1\" ";
        appendInt(out, r.status);
        out += ' ';
        appendInt(out, static_cast<int64_t>(r.bytes_sent));
        out += " \"";
        appendQuotedCombined(out, r.referer);
        out += "\" \"";
        appendQuotedCombined(out, r.user_agent);
        out += "\" upstream=";
        out += r.upstream.empty() ? std::string_view("-") : r.upstream;
        out += " connect_ms=";
        appendInt(out, r.connect_ms);
        out += " first_byte_ms=";
        appendInt(out, r.first_byte_ms);
        out += " total_ms=";
        appendInt(out, r.total_ms);
        out += " request_id=";
        out += r.request_id.empty() ? std::string_view("-") : r.request_id;
        out += " term=";
        out += r.termination;
        if (!r.tls_version.empty()) {
            out += " tls=";
            out += r.tls_version;
            out += " sni=";
            appendQuotedCombined(out, r.sni.empty() ? std::string_view("-") : r.sni);
        }
        out += '\n';
    } else {
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
        char millis[8];
        std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(tv.tv_usec / 1000));
        out += "{\"time\":\"";
        out += when;
        out += millis;
        out += "\",\"client\":";
        appendJsonString(out, r.client);
        out += ",\"method\":";
        appendJsonString(out, r.method);
        out += ",\"target\":";
        appendJsonString(out, r.target);
        out += ",\"protocol\":";
        appendJsonString(out, r.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
        out += ",\"host\":";
        appendJsonString(out, r.host);
        out += ",\"status\":";
        appendInt(out, r.status);
        out += ",\"bytes\":";
        appendInt(out, static_cast<int64_t>(r.bytes_sent));
        out += ",\"referer\":";
        appendJsonString(out, r.referer);
        out += ",\"user_agent\":";
        appendJsonString(out, r.user_agent);
        out += ",\"pool\":";
        appendJsonString(out, r.pool);
        out += ",\"upstream\":";
        appendJsonString(out, r.upstream);
        out += ",\"connect_ms\":";
        appendInt(out, r.connect_ms);
        out += ",\"first_byte_ms\":";
        appendInt(out, r.first_byte_ms);
        out += ",\"total_ms\":";
        appendInt(out, r.total_ms);
        out += ",\"request_id\":";
        appendJsonString(out, r.request_id);
        out += ",\"termination\":";
        appendJsonString(out, r.termination);
        out += ",\"tls\":";
        appendJsonString(out, r.tls_version);
        out += ",\"sni\":";
        appendJsonString(out, r.sni);
        out += "}\n";
    }
    ssize_t ignored = ::write(fd, out.data(), out.size());
    (void)ignored;
}

}  // namespace sluice::proxy
