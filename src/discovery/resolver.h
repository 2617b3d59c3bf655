#pragma once
// Asynchronous DNS lookups with c-ares on one libuv loop (the main thread's): never blocks,
// never touches a worker. The only file of sluice that includes ares.h is resolver.cc.
//
// - Nameservers: [resolver].nameservers ("host:port", so a test or a sidecar can run one on any
//   port), else /etc/resolv.conf; `timeout` per attempt, `attempts` tries per nameserver.
// - lookupAddresses(): A and AAAA queries for the name (no search domains, no /etc/hosts),
//   parsed by c-ares (ares_parse_a_reply/ares_parse_aaaa_reply, with TTLs); one Record per
//   address on `port` with `weight`.
// - lookupSrv(): the SRV records (ares_parse_srv_reply), then each target's A/AAAA; one Record
//   per target address on the record's port, weight = the SRV weight clamped to 1..1000; records
//   outside the lowest priority group are backups.
// - The callback runs on the loop, from inside c-ares' processing: it must not destroy the
//   Resolver (defer that). Destroying the Resolver cancels pending lookups without calling them.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "discovery/discovered_set.h"
#include "loop/fd_watch.h"
#include "loop/timer.h"
#include "loop/uv_types.h"

namespace sluice::discovery {

class Resolver {
  public:
    using Callback = std::function<void(Answer)>;

    Resolver(uv_loop_t* loop, const config::ResolverConfig& config);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // False when c-ares could not start (then every lookup answers kError with error()).
    bool ok() const { return channel_ != nullptr; }
    const std::string& error() const { return error_; }

    void lookupAddresses(const std::string& name, uint16_t port, unsigned weight, Callback done);
    void lookupSrv(const std::string& name, Callback done);

    // c-ares internals (called from resolver.cc's C callbacks).
    void onSocketState(int fd, bool readable, bool writable);
    void query(const std::string& name, int type,
               std::function<void(int, const unsigned char*, int)> done);

  private:
    void process(int read_fd, int write_fd);
    void rearm();

    uv_loop_t* loop_;
    void* channel_ = nullptr;  // ares_channel
    std::string error_;
    std::map<int, std::unique_ptr<loop::FdWatch>> watches_;
    loop::Timer timer_;
};

}  // namespace sluice::discovery
