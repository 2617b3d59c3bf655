#include "control/control_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "base/log.h"
#include "control/paths.h"
#include "loop/fd_watch.h"
#include "loop/timer.h"

namespace sluice::control {

namespace {

constexpr int kListenBacklog = 128;
// After an accept error other than "nothing to accept" (EMFILE, ENFILE, ENOMEM...).
constexpr uint64_t kAcceptRetryMs = 100;
constexpr size_t kReadChunk = 1024;
// A client still sending after its reply is closed (reset) past this many bytes.
constexpr size_t kMaxLingerBytes = 1 << 20;

std::string octal(unsigned mode) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%04o", mode & 07777);
    return buf;
}

bool fillAddress(const std::string& path, sockaddr_un* addr) {
    std::memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
    std::memcpy(addr->sun_path, path.data(), path.size());
    return true;
}

enum class Probe { kLive, kStale, kError };

// Whether a process accepts connections on the socket file at `path`. Non-blocking, so a live
// server with a full backlog (EAGAIN) cannot stall startup.
Probe probeSocket(const sockaddr_un& addr, int* err) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return Probe::kError;
    }
    Probe result;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ||
        errno == EAGAIN || errno == EINPROGRESS) {
        result = Probe::kLive;
    } else if (errno == ECONNREFUSED || errno == ENOENT) {
        result = Probe::kStale;
    } else {
        *err = errno;
        result = Probe::kError;
    }
    ::close(fd);
    return result;
}

}  // namespace

// One accepted connection: reading its line, executing it, writing the reply, then lingering
// (write side shut, discarding what the client still sends) until the client's EOF. Closing
// with the client's bytes unread would make the kernel reset the connection, and a client
// reading to the end would get ECONNRESET after (or instead of) its reply. The socket is read
// and written directly, watched by a loop::FdWatch. Once closed it deletes itself on the next
// loop turn (its timer fires at once), never inside one of its own calls; `server_` is cleared
// when the server lets go of it first, so a client being answered may outlive its server until
// its reply is out and its linger ends.
class ControlServer::Client {
  public:
    Client(ControlServer* server, uint64_t serial, int fd)
        : server_(server),
          serial_(serial),
          timeout_ms_(server->idle_timeout_ms_),
          linger_ms_(server->linger_ms_),
          fd_(fd),
          timer_(server->loop_, [this] { onTimer(); }),
          watch_(std::make_unique<loop::FdWatch>(
              server->loop_, fd,
              [this](bool readable, bool writable) { onReady(readable, writable); })) {}

    uint64_t serial() const { return serial_; }
    bool executing() const { return state_ == State::kExecuting; }
    // Has not sent a complete line yet (it may have sent part of one).
    bool idle() const { return state_ == State::kReading; }
    // Has its reply and is only waiting for the client's EOF.
    bool lingering() const { return state_ == State::kLingering; }
    void detach() { server_ = nullptr; }

    void start() {
        timer_.start(timeout_ms_);
        if (!watch_->ok()) {
            close();
            return;
        }
        watch_->watch(/*readable=*/true, /*writable=*/false);
    }

    // Writes `text` (plus "\n" if missing), then lingers and closes.
    void respond(std::string text) {
        if (state_ == State::kClosed) return;
        state_ = State::kResponding;
        reply_ = std::move(text);
        if (reply_.empty() || reply_.back() != '\n') reply_.push_back('\n');
        written_ = 0;
        timer_.start(timeout_ms_);  // bounds a client that never reads its reply
        writeSome();
    }

    // Idempotent. What the client sent and nobody read yet is dropped first, so that the close
    // is an EOF for it rather than a reset.
    void close() {
        if (state_ == State::kClosed) return;
        state_ = State::kClosed;
        discardPending();
        watch_.reset();  // before the descriptor closes (loop::FdWatch's contract)
        ::close(fd_);
        fd_ = -1;
        timer_.start(0);  // onTimer deletes this object on the next loop turn
    }

  private:
    enum class State { kReading, kExecuting, kResponding, kLingering, kClosed };

    void onTimer() {
        if (state_ != State::kClosed) {
            close();  // idle, reply or linger timeout
            return;
        }
        if (server_ != nullptr) server_->forget(this);
        delete this;  // also closes the timer (freed in its own close callback)
    }

    void onReady(bool readable, bool writable) {
        if (writable && state_ == State::kResponding) writeSome();
        if (readable && (state_ == State::kReading || state_ == State::kLingering)) readSome();
    }

    // Reads what is queued, as long as this connection still reads (a complete line stops it).
    void readSome() {
        while (state_ == State::kReading || state_ == State::kLingering) {
            const ssize_t n = ::recv(fd_, read_buf_, sizeof(read_buf_), 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            onRead(n);
        }
    }

    // One read's result: bytes (n > 0), EOF (0) or an error (< 0).
    void onRead(ssize_t n) {
        if (n == 0) peer_done_ = true;
        if (state_ == State::kLingering) {
            if (n <= 0) {
                close();  // EOF (or a reset): nothing left unread
            } else if ((discarded_ += static_cast<size_t>(n)) > kMaxLingerBytes) {
                close();  // still sending: it gets the reset it asks for
            }
            return;
        }
        if (n > 0) {
            received(std::string_view(read_buf_, static_cast<size_t>(n)));
        } else if (n == 0 && !line_.empty()) {
            // Half-closed mid-line: say why nothing ran instead of running a truncated command.
            respond("error: command must end with a newline");
        } else {
            close();  // EOF before any byte, or a reset: nobody to answer
        }
    }

    void writeSome() {
        while (written_ < reply_.size()) {
            const ssize_t n =
                ::send(fd_, reply_.data() + written_, reply_.size() - written_, MSG_NOSIGNAL);
            if (n > 0) {
                written_ += static_cast<size_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                watch_->watch(/*readable=*/false, /*writable=*/true);
                return;
            } else {
                close();  // the client went: nothing more can arrive
                return;
            }
        }
        if (peer_done_) {
            close();  // nobody reads any more: no reset to avoid
            return;
        }
        // Our EOF tells the client the reply is complete; its own EOF ends the wait.
        if (::shutdown(fd_, SHUT_WR) != 0) {
            close();
            return;
        }
        state_ = State::kLingering;
        timer_.start(linger_ms_);
        watch_->watch(/*readable=*/true, /*writable=*/false);
    }

    // Reads and drops what is already queued (at most kMaxLingerBytes), without waiting.
    void discardPending() {
        while (discarded_ <= kMaxLingerBytes) {
            const ssize_t n = ::recv(fd_, read_buf_, sizeof(read_buf_), MSG_DONTWAIT);
            if (n > 0) {
                discarded_ += static_cast<size_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                return;
            }
        }
    }

    void received(std::string_view data) {
        const size_t scanned = line_.size();
        line_.append(data);
        const size_t newline = line_.find('\n', scanned);
        if (newline == std::string::npos) {
            // Without its "\n" the line is already at least one byte longer than this.
            if (line_.size() >= kMaxCommandBytes) respond(tooLong());
            return;
        }
        if (newline + 1 > kMaxCommandBytes) {
            respond(tooLong());
            return;
        }
        line_.resize(newline);
        run();
    }

    Caller peer() const {
        Caller caller;
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            caller.uid = static_cast<int64_t>(cred.uid);
            caller.pid = static_cast<int64_t>(cred.pid);
        }
        return caller;
    }

    static std::string tooLong() {
        return "error: command longer than " + std::to_string(kMaxCommandBytes) + " bytes";
    }

    void run() {
        watch_->watch(/*readable=*/false, /*writable=*/false);
        timer_.stop();
        if (server_ == nullptr) {
            close();
            return;
        }
        bool json = false;
        const std::vector<std::string> args = tokenize(line_, &json);
        if (args.empty()) {
            respond("error: empty command; try \"help\"");
            return;
        }
        state_ = State::kExecuting;
        std::string reply;
        try {  // an exception must not unwind through the loop's C frames (libuv)
            std::weak_ptr<Client*> token = alive_;
            const auto later = [token](const std::string& text) {
                if (auto self = token.lock()) (*self)->respond(text);
            };
            server_->handler_.setCaller(peer());
            if (server_->handler_.executeLater(args, json, later)) return;
            reply = server_->handler_.execute(args, json);
        } catch (const std::exception& e) {
            LOG_ERROR("control command '%s' failed: %s", line_.c_str(), e.what());
            reply = std::string("error: internal error: ") + e.what();
        }
        respond(std::move(reply));
    }

    ControlServer* server_;
    const uint64_t serial_;  // accept order: the oldest idle client is dropped first
    const uint64_t timeout_ms_;
    const uint64_t linger_ms_;
    int fd_;
    loop::Timer timer_;
    std::unique_ptr<loop::FdWatch> watch_;  // null once closed
    std::string line_;
    std::string reply_;
    size_t written_ = 0;  // bytes of reply_ sent
    State state_ = State::kReading;
    bool peer_done_ = false;  // the client's EOF has been read
    size_t discarded_ = 0;    // bytes read and dropped while lingering
    char read_buf_[kReadChunk];
    // Expires with this object: a reply arriving later (executeLater) for a client gone is dropped.
    std::shared_ptr<Client*> alive_ = std::make_shared<Client*>(this);
};

ControlServer::ControlServer(uv_loop_t* loop, CommandHandler& handler, uint64_t idle_timeout_ms,
                             uint64_t linger_ms)
    : loop_(loop),
      handler_(handler),
      idle_timeout_ms_(idle_timeout_ms),
      linger_ms_(linger_ms),
      deferred_accept_(loop, [this] { acceptClients(/*deferred=*/true); }) {}

ControlServer::~ControlServer() { close(); }

bool ControlServer::listen(const std::string& path, unsigned mode, std::string* error) {
    const std::string prefix = "cannot create control socket " + path + ": ";
    const auto failWith = [&](const std::string& why) {
        *error = prefix + why;
        return false;
    };
    if (listener_fd_ >= 0) return failWith("already listening on " + path_);
    sockaddr_un addr;
    if (!fillAddress(path, &addr)) {
        return failWith(path.empty() ? std::string("empty path")
                                     : "path is too long for a unix socket (at most " +
                                           std::to_string(sizeof(addr.sun_path) - 1) + " bytes)");
    }
    const std::string dir = parentDirectory(path);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT) return failWith("directory " + dir + " does not exist");
        return failWith("cannot access directory " + dir + ": " + errnoText(errno));
    }
    if (!S_ISDIR(st.st_mode)) return failWith(dir + " is not a directory");

    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return failWith("the path exists and is not a socket");
        int err = 0;
        switch (probeSocket(addr, &err)) {
            case Probe::kLive:
                return failWith("another process is listening on it (is sluice already running?)");
            case Probe::kError:
                return failWith("cannot check whether it is in use: " + errnoText(err));
            case Probe::kStale:
                if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
                    return failWith("cannot remove the stale socket file: " + errnoText(errno));
                }
                break;
        }
    }

    // We unlink only the socket we created (see unlinkSocketFile), never whatever file is at the
    // path by the time we close.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return failWith("socket: " + errnoText(errno));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        const int err = errno;
        ::close(fd);
        return failWith("bind: " + errnoText(err));
    }
    // Before listen(): nobody can connect while the mode is still the umask's.
    if (::chmod(path.c_str(), static_cast<mode_t>(mode & 07777)) != 0 ||
        ::lstat(path.c_str(), &st) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return failWith("cannot set mode " + octal(mode) + ": " + errnoText(err));
    }

    if (const int rc = listenOn(fd, path, st); rc != 0) {
        ::unlink(path.c_str());
        return failWith(std::string("listen: ") + loop::errorText(rc));
    }
    return true;
}

void ControlServer::close() { closeListener(/*unlink=*/true); }

void ControlServer::release() { closeListener(/*unlink=*/false); }

int ControlServer::listenerFd() const { return listener_fd_; }

bool ControlServer::adopt(int fd, const std::string& path, std::string* error) {
    if (listener_fd_ >= 0) {
        *error = "control socket: already listening on " + path_;
        ::close(fd);
        return false;
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) st = {};
    if (const int rc = listenOn(fd, path, st); rc != 0) {
        *error = "control socket " + path + ": inherited socket: " + loop::errorText(rc);
        return false;
    }
    return true;
}

int ControlServer::listenOn(int fd, const std::string& path, const struct stat& st) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        ::listen(fd, kListenBacklog) != 0) {
        const int err = errno;
        ::close(fd);
        return -err;
    }
    auto watch = std::make_unique<loop::FdWatch>(
        loop_, fd, [this](bool, bool) { acceptClients(/*deferred=*/false); });
    if (!watch->ok()) {
        ::close(fd);
        return -EINVAL;
    }
    watch->watch(/*readable=*/true, /*writable=*/false);
    listener_fd_ = fd;
    listener_watch_ = std::move(watch);
    path_ = path;
    socket_dev_ = st.st_dev;
    socket_ino_ = st.st_ino;
    return 0;
}

void ControlServer::closeListener(bool unlink) {
    deferred_accept_.stop();  // the connection waiting for it goes with the listener
    if (listener_fd_ >= 0) {
        // Unlink before closing the descriptor, so a socket created by a newer process under the
        // same name in between is never the one removed.
        if (unlink) unlinkSocketFile();
        listener_watch_.reset();  // before the descriptor closes (loop::FdWatch's contract)
        ::close(listener_fd_);
        listener_fd_ = -1;
    }
    std::unordered_set<Client*> clients;
    clients.swap(clients_);
    for (Client* client : clients) {
        client->detach();
        // One executing its command or writing its reply closes after the reply is out.
        if (client->idle() || client->lingering()) client->close();
    }
}

void ControlServer::unlinkSocketFile() {
    struct stat st;
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == socket_dev_ &&
        st.st_ino == socket_ino_) {
        ::unlink(path_.c_str());
    }
}

void ControlServer::acceptClients(bool deferred) {
    if (listener_fd_ < 0) return;
    // Deferred: one connection, then the listener is watched again; the loop's next poll sees
    // what else waits (a timer started from its own callback would run again at once instead).
    if (deferred) listener_watch_->watch(/*readable=*/true, /*writable=*/false);
    while (listener_fd_ >= 0) {
        if (!deferred && clients_.size() >= kMaxControlClients) {
            // Full: the new connection will replace an older one, and such replacements happen
            // one per loop turn, so that what the connections already accepted have sent is
            // read in between. Accepted in one go, a burst of newcomers would push out the idle
            // ones and then one whose command (an admin's) has arrived but was not read yet.
            // The listener is not watched until the timer takes the next one.
            listener_watch_->watch(/*readable=*/false, /*writable=*/false);
            deferred_accept_.start(0);
            return;
        }
        const int fd = ::accept4(listener_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            addClient(fd);
            if (deferred) return;
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        LOG_WARN("control socket %s: accept failed: %s", path_.c_str(), loop::errorText(-errno));
        // Out of descriptors, say: the connection stays queued and the listener readable, so
        // try again in a while rather than at once, again and again.
        listener_watch_->watch(/*readable=*/false, /*writable=*/false);
        deferred_accept_.start(kAcceptRetryMs);
        return;
    }
}

void ControlServer::addClient(int fd) {
    auto* client = new Client(this, next_serial_++, fd);
    if (clients_.size() >= kMaxControlClients) {
        if (Client* victim = evictionCandidate()) {
            // Idle connections must not lock an admin out: the new one wins. Silent, as the
            // idle timeout is (and unlogged: a flood of connections would flood the log).
            forget(victim);
            victim->detach();
            victim->close();
        }
    }
    clients_.insert(client);
    if (clients_.size() > kMaxControlClients) {
        client->respond("error: too many control connections");
        return;
    }
    client->start();
}

ControlServer::Client* ControlServer::evictionCandidate() const {
    Client* oldest_lingering = nullptr;
    Client* oldest_idle = nullptr;
    for (Client* client : clients_) {
        Client** slot = client->lingering() ? &oldest_lingering
                        : client->idle()    ? &oldest_idle
                                            : nullptr;
        if (slot != nullptr && (*slot == nullptr || client->serial() < (*slot)->serial())) {
            *slot = client;
        }
    }
    return oldest_lingering != nullptr ? oldest_lingering : oldest_idle;
}

std::vector<std::string> tokenize(std::string_view line, bool* json) {
    std::vector<std::string> tokens;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        const size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
        if (i > start) tokens.emplace_back(line.substr(start, i - start));
    }
    const bool has_json = !tokens.empty() && tokens.back() == "--json";
    if (has_json) tokens.pop_back();
    if (json != nullptr) *json = has_json;
    return tokens;
}

}  // namespace sluice::control
