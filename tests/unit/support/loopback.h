#pragma once
// Loopback sockets for unit tests that drive one end of a real TCP connection themselves.
// - LoopbackListener: a listening socket on 127.0.0.1 at a port the kernel picks (a stand-in
//   server; the test accepts and reads/writes with plain blocking calls).
// - LoopbackPair: a connected pair. `ours` is non-blocking, for a net::TcpConnection to adopt
//   (takeOurs(): the connection closes it then); `theirs` stays blocking with a 2 s receive
//   timeout, so a test's read never hangs. The destructor closes what is still held.
// Header-only; tests include it as "unit/support/loopback.h".

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <string>

namespace sluice::test {

class LoopbackListener {
  public:
    explicit LoopbackListener(int backlog = 8) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, backlog);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        address_ = a;
    }
    ~LoopbackListener() {
        if (fd_ >= 0) ::close(fd_);
    }
    LoopbackListener(const LoopbackListener&) = delete;
    LoopbackListener& operator=(const LoopbackListener&) = delete;

    int fd() const { return fd_; }
    int port() const { return ntohs(address_.sin_port); }
    // A new blocking socket connected to this listener (the caller closes it).
    int connect() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        ::connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_);
        return fd;
    }
    // The next connection, blocking until one arrives (the caller closes it).
    int accept() const { return ::accept(fd_, nullptr, nullptr); }

  private:
    int fd_ = -1;
    sockaddr_in address_{};
};

// A receive timeout on a blocking socket.
inline void setReceiveTimeout(int fd, long milliseconds) {
    timeval tv{milliseconds / 1000, (milliseconds % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

struct LoopbackPair {
    LoopbackPair() {
        const LoopbackListener listener(1);
        theirs = listener.connect();
        ours = listener.accept();
        ::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK);
        setReceiveTimeout(theirs, 2000);
    }
    ~LoopbackPair() {
        if (ours >= 0) ::close(ours);
        if (theirs >= 0) ::close(theirs);
    }
    LoopbackPair(const LoopbackPair&) = delete;
    LoopbackPair& operator=(const LoopbackPair&) = delete;

    // Hands `ours` over (to TcpConnection::adopt, which closes it from then on).
    int takeOurs() {
        const int fd = ours;
        ours = -1;
        return fd;
    }
    // Reads from `theirs` until `n` bytes came, EOF, an error or the receive timeout.
    std::string readTheirs(size_t n) {
        std::string out;
        char buf[65536];
        while (out.size() < n) {
            const ssize_t got = ::recv(theirs, buf, sizeof buf, 0);
            if (got <= 0) break;
            out.append(buf, static_cast<size_t>(got));
        }
        return out;
    }

    int ours = -1;
    int theirs = -1;
};

}  // namespace sluice::test
