#include "discovery/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <mutex>

#include "base/log.h"

namespace sluice::discovery {
namespace {

using QueryDone = std::function<void(int, const unsigned char*, int)>;

ares_channel channelOf(void* channel) { return static_cast<ares_channel>(channel); }

void onSocketStateC(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Resolver*>(data)->onSocketState(fd, readable != 0, writable != 0);
}

void onQueryC(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<QueryDone> done(static_cast<QueryDone*>(arg));
    if (status == ARES_EDESTRUCTION) return;  // the Resolver is going: nobody to tell
    (*done)(status, abuf, alen);
}

// A failed query's status as an Answer status.
Answer::Status statusOf(int status) {
    switch (status) {
        case ARES_ENOTFOUND:
            return Answer::kNxDomain;
        case ARES_ENODATA:
            return Answer::kEmpty;
        default:
            return Answer::kError;
    }
}

constexpr int kMaxAddresses = 64;  // per query; more records than this are ignored

int familyOf(const ares_addrttl&) { return AF_INET; }
int familyOf(const ares_addr6ttl&) { return AF_INET6; }
const void* addressOf(const ares_addrttl& a) { return &a.ipaddr; }
const void* addressOf(const ares_addr6ttl& a) { return &a.ip6addr; }

// The results of several queries, combined: any record makes it ok; else the worst failure
// (error, then NXDOMAIN, then no records).
struct Gather {
    Resolver::Callback done;
    int pending = 0;
    Answer answer;
    bool any_error = false, any_nxdomain = false;

    void fail(int status) {
        const Answer::Status s = statusOf(status);
        if (s == Answer::kError) {
            any_error = true;
            if (answer.detail.empty()) answer.detail = ares_strerror(status);
        }
        any_nxdomain = any_nxdomain || s == Answer::kNxDomain;
    }
    void ttl(int seconds) {
        const auto s = static_cast<uint32_t>(std::max(seconds, 0));
        if (answer.min_ttl_s == 0 || (s > 0 && s < answer.min_ttl_s)) answer.min_ttl_s = s;
    }
    void add(const Answer& part) {  // a nested lookup's answer
        if (part.status == Answer::kOk) {
            answer.records.insert(answer.records.end(), part.records.begin(), part.records.end());
            if (part.min_ttl_s) ttl(static_cast<int>(part.min_ttl_s));
        } else {
            any_error = any_error || part.status == Answer::kError;
            any_nxdomain = any_nxdomain || part.status == Answer::kNxDomain;
            if (answer.detail.empty()) answer.detail = part.detail;
        }
    }
    // One A or AAAA query's result (`parse`: ares_parse_a_reply for ares_addrttl,
    // ares_parse_aaaa_reply for ares_addr6ttl): its addresses as records, or its failure.
    template <class AddrTtl>
    void addAddresses(int status, const unsigned char* buf, int len,
                      int (*parse)(const unsigned char*, int, hostent**, AddrTtl*, int*),
                      uint16_t port, unsigned weight) {
        if (status == ARES_SUCCESS) {
            hostent* host = nullptr;
            AddrTtl ttls[kMaxAddresses];
            int count = kMaxAddresses;
            status = parse(buf, len, &host, ttls, &count);
            if (host) ares_free_hostent(host);
            for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
                char text[INET6_ADDRSTRLEN];
                inet_ntop(familyOf(ttls[i]), addressOf(ttls[i]), text, sizeof text);
                answer.records.push_back({text, port, weight, false});
                ttl(ttls[i].ttl);
            }
        }
        if (status != ARES_SUCCESS) fail(status);
        finishOne();
    }
    void finishOne() {
        if (--pending > 0) return;
        if (!answer.records.empty()) {
            answer.status = Answer::kOk;
            answer.detail.clear();
        } else {
            answer.status = any_error      ? Answer::kError
                            : any_nxdomain ? Answer::kNxDomain
                                           : Answer::kEmpty;
        }
        Resolver::Callback callback = std::move(done);
        callback(std::move(answer));
    }
};

}  // namespace

Resolver::Resolver(uv_loop_t* loop, const config::ResolverConfig& config)
    : loop_(loop), timer_(loop, [this] { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); }) {
    static std::once_flag init_once;
    static int init_status = ARES_SUCCESS;
    std::call_once(init_once, [] { init_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (init_status != ARES_SUCCESS) {
        error_ = ares_strerror(init_status);
        return;
    }
    ares_options options{};
    options.sock_state_cb = &onSocketStateC;
    options.sock_state_cb_data = this;
    options.timeout = static_cast<int>(std::max<int64_t>(config.timeout.count(), 1));
    options.tries = static_cast<int>(std::max(config.attempts, 1u));
    options.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    ares_channel channel = nullptr;
    const int status = ares_init_options(&channel, &options, mask);
    if (status != ARES_SUCCESS) {
        error_ = std::string("c-ares: ") + ares_strerror(status);
        return;
    }
    if (!config.nameservers.empty()) {
        std::string csv;
        for (const auto& ns : config.nameservers) {
            if (!csv.empty()) csv += ",";
            const bool v6 = ns.host.find(':') != std::string::npos;
            csv +=
                (v6 ? "[" + ns.host + "]" : ns.host) + ":" + std::to_string(ns.port ? ns.port : 53);
        }
        const int set = ares_set_servers_ports_csv(channel, csv.c_str());
        if (set != ARES_SUCCESS) {
            error_ = "nameservers " + csv + ": " + ares_strerror(set);
            ares_destroy(channel);
            return;
        }
    }
    channel_ = channel;
}

Resolver::~Resolver() {
    if (channel_) ares_destroy(channelOf(channel_));  // pending callbacks: ARES_EDESTRUCTION
    channel_ = nullptr;
}

void Resolver::onSocketState(int fd, bool readable, bool writable) {
    if (!readable && !writable) {
        // c-ares is about to close it: the watch goes now, before the number can be reused
        // (possibly from inside this watch's own callback, which FdWatch allows).
        watches_.erase(fd);
        return;
    }
    auto& watch = watches_[fd];
    if (!watch) {
        watch = std::make_unique<loop::FdWatch>(loop_, fd, [this, fd](bool r, bool w) {
            process(r ? fd : ARES_SOCKET_BAD, w ? fd : ARES_SOCKET_BAD);
        });
    }
    if (!watch->ok()) {
        LOG_ERROR("discovery: cannot watch c-ares socket %d", fd);
        watches_.erase(fd);
        return;
    }
    watch->watch(readable, writable);
}

void Resolver::process(int read_fd, int write_fd) {
    if (!channel_) return;
    ares_process_fd(channelOf(channel_), read_fd, write_fd);
    rearm();
}

void Resolver::rearm() {
    if (!channel_) return;
    timeval buffer{};
    timeval* next = ares_timeout(channelOf(channel_), nullptr, &buffer);
    if (!next) {
        timer_.stop();
    } else {
        const uint64_t ms = static_cast<uint64_t>(next->tv_sec) * 1000 +
                            static_cast<uint64_t>(next->tv_usec) / 1000;
        timer_.start(ms == 0 ? 1 : ms);
    }
}

void Resolver::query(const std::string& name, int type, QueryDone done) {
    if (!channel_) {
        done(ARES_ENOTINITIALIZED, nullptr, 0);
        return;
    }
    ares_query(channelOf(channel_), name.c_str(), ns_c_in, type, &onQueryC,
               new QueryDone(std::move(done)));
    rearm();
}

void Resolver::lookupAddresses(const std::string& name, uint16_t port, unsigned weight,
                               Callback done) {
    auto gather = std::make_shared<Gather>();
    gather->done = std::move(done);
    gather->pending = 2;
    query(name, ns_t_a, [gather, port, weight](int status, const unsigned char* buf, int len) {
        gather->addAddresses<ares_addrttl>(status, buf, len, ares_parse_a_reply, port, weight);
    });
    query(name, ns_t_aaaa, [gather, port, weight](int status, const unsigned char* buf, int len) {
        gather->addAddresses<ares_addr6ttl>(status, buf, len, ares_parse_aaaa_reply, port, weight);
    });
}

void Resolver::lookupSrv(const std::string& name, Callback done) {
    query(name, ns_t_srv,
          [this, done = std::move(done)](int status, const unsigned char* buf, int len) mutable {
              ares_srv_reply* replies = nullptr;
              if (status == ARES_SUCCESS) status = ares_parse_srv_reply(buf, len, &replies);
              if (status != ARES_SUCCESS || !replies) {
                  if (replies) ares_free_data(replies);
                  Answer answer;
                  answer.status = status == ARES_SUCCESS ? Answer::kEmpty : statusOf(status);
                  if (answer.status == Answer::kError) answer.detail = ares_strerror(status);
                  done(std::move(answer));
                  return;
              }
              struct Target {
                  std::string host;
                  uint16_t port, weight;
                  bool backup;
              };
              std::vector<Target> targets;
              unsigned short lowest = 0xffff;
              for (auto* r = replies; r; r = r->next) lowest = std::min(lowest, r->priority);
              for (auto* r = replies; r && targets.size() < kMaxAddresses; r = r->next) {
                  targets.push_back({r->host, r->port, r->weight, r->priority != lowest});
              }
              ares_free_data(replies);
              auto gather = std::make_shared<Gather>();
              gather->done = std::move(done);
              gather->pending = static_cast<int>(targets.size());
              for (const Target& t : targets) {
                  const unsigned weight = std::clamp<unsigned>(t.weight, 1, 1000);
                  const bool backup = t.backup;
                  lookupAddresses(t.host, t.port, weight, [gather, backup](Answer part) {
                      for (auto& r : part.records) r.backup = backup;
                      gather->add(part);
                      gather->finishOne();
                  });
              }
          });
}

}  // namespace sluice::discovery
