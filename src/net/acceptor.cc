#include "net/acceptor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "net/accept_pause_log.h"

namespace sluice::net {
namespace {

constexpr int kBacklog = 4096;
constexpr int kAcceptBatch = 64;      // accepts per readiness event: fairness between workers
constexpr uint64_t kCapRetryMs = 20;  // at max_connections
constexpr uint64_t kEmfileRetryMs = 100;

// One per worker thread (every Acceptor of a worker runs on its loop's thread): each worker
// reports its own pauses, and nothing is shared between threads.
thread_local AcceptPauseLog t_pause_log;

int setFreebind(int fd, int family) {
    const int one = 1;
#ifdef IPV6_FREEBIND
    if (family == AF_INET6) return ::setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
#endif
    (void)family;  // IP_FREEBIND applies to IPv6 sockets as well on older kernels
    return ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
}

}  // namespace

std::string bindKey(const config::Address& address) {
    char ip[INET6_ADDRSTRLEN] = {0};
    const auto* sa = reinterpret_cast<const sockaddr*>(&address.sockaddr);
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address.sockaddr);
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        return "[" + std::string(ip) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&address.sockaddr);
    inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(in4->sin_port));
}

int openListenSocket(const config::Address& address, std::string* error, bool freebind) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&address.sockaddr);
    int fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (sa->sa_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (freebind && setFreebind(fd, sa->sa_family) != 0) {
        *error = "freebind " + address.text + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    if (::bind(fd, sa, address.sockaddr_len) != 0) {
        const int bind_errno = errno;
        *error = "bind " + address.text + ": " + std::strerror(bind_errno);
        if (bind_errno == EADDRNOTAVAIL && !freebind) {
            *error +=
                " (not an address of this host; `freebind = true` on the listener binds it "
                "anyway, e.g. a VRRP virtual IP held by the peer)";
        }
        ::close(fd);
        return -1;
    }
    if (::listen(fd, kBacklog) != 0) {
        *error = "listen " + address.text + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

Acceptor::Acceptor(uv_loop_t* loop, int fd, AcceptHandler& handler, std::string owner)
    : poll_(new uv_poll_t),
      fd_(fd),
      handler_(handler),
      log_prefix_(owner.empty() ? "" : owner + ": "),
      retry_(loop,
             [this] {
                 paused_ = false;
                 uv_poll_start(poll_, UV_READABLE, &Acceptor::onReadable);
                 acceptSome();
             }),
      quiet_(loop, [this] { noteResumed(); }) {
    uv_poll_init_socket(loop, poll_, fd_);
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, &Acceptor::onReadable);
}

Acceptor::~Acceptor() {
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    ::close(fd_);
}

void Acceptor::pauseFor(uint64_t ms) {
    if (!paused_) {
        paused_ = true;
        uv_poll_stop(poll_);
    }
    retry_.start(ms);
}

void Acceptor::onReadable(uv_poll_t* handle, int status, int) {
    auto* self = static_cast<Acceptor*>(handle->data);
    if (!self || status < 0) return;
    self->acceptSome();
}

void Acceptor::acceptSome() {
    for (int i = 0; i < kAcceptBatch && !paused_; ++i) {
        if (!handler_.canAccept()) {
            pauseFor(kCapRetryMs);
            return;
        }
        sockaddr_storage peer{};
        socklen_t peer_len = sizeof peer;
        int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            noteResumed();
            handler_.onAccept(fd, reinterpret_cast<const sockaddr*>(&peer));
            continue;
        }
        const int error = errno;
        switch (error) {
            case EAGAIN:
            case ECONNABORTED:
                // The kernel found a descriptor (it allocates one before looking at the
                // backlog): the shortage may be over.
                noteResumed();
                return;
            case EINTR:
                return;
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM: {
                // Leave the connection in the backlog; try again when descriptors free up.
                const std::string line =
                    t_pause_log.paused(uv_now(poll_->loop), error, kEmfileRetryMs);
                if (!line.empty()) LOG_WARN("%s%s", log_prefix_.c_str(), line.c_str());
                pauseFor(kEmfileRetryMs);
                quiet_.start(AcceptPauseLog::kQuietMs);  // says when it ends, traffic or not
                return;
            }
            default:
                LOG_WARN("%saccept: %s", log_prefix_.c_str(), std::strerror(error));
                return;
        }
    }
}

void Acceptor::noteResumed() {
    if (!t_pause_log.inEpisode()) return;
    const std::string line = t_pause_log.settled(uv_now(poll_->loop));
    if (!line.empty()) LOG_INFO("%s%s", log_prefix_.c_str(), line.c_str());
}

}  // namespace sluice::net
