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
#include "loop/timer.h"

namespace sluice::control {

namespace {

constexpr int kListenBacklog = 128;
constexpr size_t kReadChunk = 1024;

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

// One accepted connection. Frees itself in the pipe's close callback; `server_` is cleared when
// the server lets go of it first, so a client may outlive its server by one loop turn.
class ControlServer::Client {
  public:
    Client(ControlServer* server, uint64_t timeout_ms)
        : server_(server), timeout_ms_(timeout_ms), timer_(server->loop_, [this] { close(); }) {
        uv_pipe_init(server->loop_, &pipe_, 0);
        pipe_.data = this;
    }

    uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&pipe_); }
    bool executing() const { return executing_; }
    void detach() { server_ = nullptr; }

    void start() {
        timer_.start(timeout_ms_);
        const int rc = uv_read_start(stream(), &Client::onAlloc, &Client::onRead);
        if (rc != 0) close();
    }

    // Writes `text` (plus "\n" if missing), then closes.
    void respond(std::string text) {
        if (closing_) return;
        responding_ = true;
        uv_read_stop(stream());
        reply_ = std::move(text);
        if (reply_.empty() || reply_.back() != '\n') reply_.push_back('\n');
        timer_.start(timeout_ms_);  // bounds a client that never reads its reply
        uv_buf_t buf = uv_buf_init(reply_.data(), static_cast<unsigned>(reply_.size()));
        write_req_.data = this;
        if (uv_write(&write_req_, stream(), &buf, 1, &Client::onWritten) != 0) close();
    }

    // Idempotent. Any pending write is cancelled (its callback runs before onClosed).
    void close() {
        if (closing_) return;
        closing_ = true;
        timer_.stop();
        uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), &Client::onClosed);
    }

  private:
    static void onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Client*>(handle->data);
        *buf = uv_buf_init(self->read_buf_, sizeof(self->read_buf_));
    }

    static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<Client*>(stream->data);
        if (self->closing_ || self->responding_) return;
        if (nread > 0) {
            self->received(std::string_view(buf->base, static_cast<size_t>(nread)));
        } else if (nread == UV_EOF && !self->line_.empty()) {
            // Half-closed mid-line: say why nothing ran instead of running a truncated command.
            self->respond("error: command must end with a newline");
        } else if (nread < 0) {
            self->close();  // EOF before any byte, or a reset: nobody to answer
        }
    }

    static void onWritten(uv_write_t* req, int) { static_cast<Client*>(req->data)->close(); }

    static void onClosed(uv_handle_t* handle) {
        auto* self = static_cast<Client*>(handle->data);
        if (self->server_ != nullptr) self->server_->forget(self);
        delete self;  // also closes the timer (freed in its own close callback)
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

    static std::string tooLong() {
        return "error: command longer than " + std::to_string(kMaxCommandBytes) + " bytes";
    }

    void run() {
        uv_read_stop(stream());
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
        executing_ = true;
        std::string reply;
        try {  // an exception must not unwind through libuv's C frames
            reply = server_->handler_.execute(args, json);
        } catch (const std::exception& e) {
            LOG_ERROR("control command '%s' failed: %s", line_.c_str(), e.what());
            reply = std::string("error: internal error: ") + e.what();
        }
        executing_ = false;
        respond(std::move(reply));
    }

    ControlServer* server_;
    uint64_t timeout_ms_;
    loop::Timer timer_;
    uv_pipe_t pipe_{};
    uv_write_t write_req_{};
    std::string line_;
    std::string reply_;
    bool closing_ = false;
    bool responding_ = false;
    bool executing_ = false;
    char read_buf_[kReadChunk];
};

ControlServer::ControlServer(uv_loop_t* loop, CommandHandler& handler, uint64_t idle_timeout_ms)
    : loop_(loop), handler_(handler), idle_timeout_ms_(idle_timeout_ms) {}

ControlServer::~ControlServer() { close(); }

bool ControlServer::listen(const std::string& path, unsigned mode, std::string* error) {
    const std::string prefix = "cannot create control socket " + path + ": ";
    const auto failWith = [&](const std::string& why) {
        *error = prefix + why;
        return false;
    };
    if (listener_ != nullptr) return failWith("already listening on " + path_);
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

    // Bound here rather than by uv_pipe_bind: libuv would unlink the path on close whatever file
    // is there by then; we unlink only the socket we created (see unlinkSocketFile).
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

    auto* pipe = new uv_pipe_t;
    uv_pipe_init(loop_, pipe, 0);
    pipe->data = this;
    int rc = uv_pipe_open(pipe, fd);
    if (rc == 0)
        rc = uv_listen(reinterpret_cast<uv_stream_t*>(pipe), kListenBacklog,
                       &ControlServer::onConnection);
    if (rc != 0) {
        ::unlink(path.c_str());
        // uv_pipe_open failing leaves the fd ours; after success uv_close closes it.
        if (uv_fileno(reinterpret_cast<uv_handle_t*>(pipe), nullptr) != 0) ::close(fd);
        uv_close(reinterpret_cast<uv_handle_t*>(pipe),
                 [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
        return failWith(std::string("listen: ") + uv_strerror(rc));
    }
    listener_ = pipe;
    path_ = path;
    socket_dev_ = st.st_dev;
    socket_ino_ = st.st_ino;
    return true;
}

void ControlServer::close() {
    if (listener_ != nullptr) {
        // Unlink before closing the descriptor, so a socket created by a newer process under the
        // same name in between is never the one removed.
        unlinkSocketFile();
        listener_->data = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(listener_),
                 [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
        listener_ = nullptr;
    }
    std::unordered_set<Client*> clients;
    clients.swap(clients_);
    for (Client* client : clients) {
        client->detach();
        if (!client->executing()) client->close();  // an executing one closes after its reply
    }
}

void ControlServer::unlinkSocketFile() {
    struct stat st;
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == socket_dev_ &&
        st.st_ino == socket_ino_) {
        ::unlink(path_.c_str());
    }
}

void ControlServer::onConnection(uv_stream_t* server, int status) {
    auto* self = static_cast<ControlServer*>(server->data);
    if (self == nullptr) return;
    if (status != 0) {
        LOG_WARN("control socket %s: accept failed: %s", self->path_.c_str(), uv_strerror(status));
        return;
    }
    self->acceptClient();
}

void ControlServer::acceptClient() {
    auto* client = new Client(this, idle_timeout_ms_);
    if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_), client->stream()) != 0) {
        client->detach();
        client->close();
        return;
    }
    clients_.insert(client);
    if (clients_.size() > kMaxControlClients) {
        client->respond("error: too many control connections");
        return;
    }
    client->start();
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
