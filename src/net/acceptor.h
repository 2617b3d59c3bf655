#pragma once
// A listening socket of one worker (SO_REUSEPORT: every worker binds its own, the kernel spreads
// connections). Accepting pauses, without busy-looping, while the owner is at its connection cap
// or the process is out of file descriptors (EMFILE/ENFILE), and resumes by itself. Such a
// shortage is logged by each worker once when it starts, then summarized at most every 5 s, and
// once more when it ends (net/accept_pause_log.h).

#include <uv.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "loop/timer.h"

namespace sluice::net {

class AcceptHandler {
  public:
    virtual ~AcceptHandler() = default;
    // False while at the connection cap: accepting pauses and is retried shortly.
    virtual bool canAccept() = 0;
    // Takes ownership of a connected, non-blocking fd; `peer` is the client's address as
    // accept4() returned it (valid for the call; TcpConnection::adopt takes it, saving a
    // getpeername per connection).
    virtual void onAccept(int fd, const sockaddr* peer) = 0;
};

// Identity of a listening socket across reloads: the resolved "ip:port" ("[v6]:port").
std::string bindKey(const config::Address& address);

// Creates, binds and listens a non-blocking TCP socket with SO_REUSEADDR and SO_REUSEPORT.
// `freebind`: IP_FREEBIND / IPV6_FREEBIND, so an address this host does not hold (yet), such as
// a VRRP virtual IP held by the peer, binds anyway. Without it such a bind fails with an error
// that names `freebind`. Returns the fd, or -1 with `error` set.
int openListenSocket(const config::Address& address, std::string* error, bool freebind = false);

class Acceptor {
  public:
    // Adopts `fd` (from openListenSocket). Starts accepting at once. `owner` names the worker in
    // log lines ("worker 0: accept: ...").
    Acceptor(uv_loop_t* loop, int fd, AcceptHandler& handler, std::string owner = "");
    ~Acceptor();  // closes the socket
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;

    // Pause for `ms`, then try again (cap reached, EMFILE).
    void pauseFor(uint64_t ms);

  private:
    static void onReadable(uv_poll_t* handle, int status, int events);
    void acceptSome();
    // accept() did not fail for lack of resources, or a quiet spell has passed: may end this
    // thread's pause episode (AcceptPauseLog::settled).
    void noteResumed();

    uv_poll_t* poll_;
    int fd_;
    AcceptHandler& handler_;
    std::string log_prefix_;  // "worker 0: " or ""
    loop::Timer retry_;
    loop::Timer quiet_;  // kQuietMs after this acceptor's latest shortage pause
    bool paused_ = false;
};

}  // namespace sluice::net
