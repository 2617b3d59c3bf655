#pragma once
// A fake DNS server for the discovery tests: a thread answering UDP queries on a loopback port
// with whatever the test's handler says, including malformed replies and silence.

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sluice::discovery::fakedns {

using Bytes = std::vector<uint8_t>;
constexpr uint16_t kA = 1, kAaaa = 28, kSrv = 33;

inline void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
inline void put32(Bytes& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}
inline Bytes encodeName(const std::string& name) {
    Bytes out;
    size_t start = 0;
    while (start < name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        out.push_back(static_cast<uint8_t>(dot - start));
        out.insert(out.end(), name.begin() + static_cast<ptrdiff_t>(start),
                   name.begin() + static_cast<ptrdiff_t>(dot));
        start = dot + 1;
    }
    out.push_back(0);
    return out;
}

struct Rr {
    uint16_t type;
    uint32_t ttl;
    Bytes rdata;
};
inline Rr a(const char* ip, uint32_t ttl) {
    Bytes d(4);
    inet_pton(AF_INET, ip, d.data());
    return {kA, ttl, d};
}
inline Rr aaaa(const char* ip, uint32_t ttl) {
    Bytes d(16);
    inet_pton(AF_INET6, ip, d.data());
    return {kAaaa, ttl, d};
}
inline Rr srv(uint16_t priority, uint16_t weight, uint16_t port, const std::string& target) {
    Bytes d;
    put16(d, priority);
    put16(d, weight);
    put16(d, port);
    Bytes name = encodeName(target);
    d.insert(d.end(), name.begin(), name.end());
    return {kSrv, 60, d};
}

// What the fake server does with one query.
struct Reply {
    bool drop = false;  // no answer at all
    int rcode = 0;
    std::vector<Rr> answers;
    std::optional<Bytes> raw_after_header;  // replaces question + answers (malformed replies)
};
using Handler = std::function<Reply(const std::string& name, uint16_t type)>;

class FakeDns {
  public:
    explicit FakeDns(Handler handler) : handler_(std::move(handler)) {
        fd_ = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
        socklen_t len = sizeof sin;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
        port_ = ntohs(sin.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeDns() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    uint16_t port() const { return port_; }
    int queries() const { return queries_; }

  private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            uint8_t buf[512];
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n =
                recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 17) continue;
            ++queries_;
            // Question: name labels from offset 12, then type and class.
            std::string name;
            size_t i = 12;
            while (i < static_cast<size_t>(n) && buf[i] != 0) {
                if (!name.empty()) name += ".";
                name.append(reinterpret_cast<const char*>(buf + i + 1), buf[i]);
                i += buf[i] + 1u;
            }
            const size_t question_end = i + 5;
            const auto type = static_cast<uint16_t>(buf[i + 1] << 8 | buf[i + 2]);
            const Reply reply = handler_(name, type);
            if (reply.drop) continue;
            Bytes out(buf, buf + 2);  // the query's id
            put16(out, static_cast<uint16_t>(0x8180 | reply.rcode));
            put16(out, 1);
            put16(out, reply.raw_after_header ? 1 : static_cast<uint16_t>(reply.answers.size()));
            put16(out, 0);
            put16(out, 0);
            if (reply.raw_after_header) {
                out.insert(out.end(), buf + 12, buf + question_end);
                out.insert(out.end(), reply.raw_after_header->begin(),
                           reply.raw_after_header->end());
            } else {
                out.insert(out.end(), buf + 12, buf + question_end);
                for (const Rr& rr : reply.answers) {
                    put16(out, 0xc00c);  // the question's name
                    put16(out, rr.type);
                    put16(out, 1);
                    put32(out, rr.ttl);
                    put16(out, static_cast<uint16_t>(rr.rdata.size()));
                    out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
                }
            }
            sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }

    Handler handler_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> queries_{0};
    std::thread thread_;
};

}  // namespace sluice::discovery::fakedns
