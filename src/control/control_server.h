#pragma once
// The control socket (shared/design/control.md "Control socket protocol"): a unix stream socket,
// one command per connection. The client writes one line of at most kMaxCommandBytes including
// its "\n"; the server runs the command on the loop thread and writes the reply, then closes.
//
// - Lines longer than kMaxCommandBytes get "error: command longer than 4096 bytes".
// - An empty (or all-blank) line gets "error: empty command; try \"help\"".
// - End of input before the "\n" gets "error: command must end with a newline" and nothing runs
//   (a client that died mid-line must not run a truncated command).
// - A client that has not sent a complete line within the idle timeout (5 s) is closed silently;
//   the same timeout bounds writing the reply to a client that does not read.
// - Bytes after the first "\n" are ignored: read and dropped. After its reply the server shuts
//   down its side (the client reads EOF) and waits up to the linger time (kDefaultLingerMs) for
//   the client's EOF, discarding what it still sends (at most 1 MiB), before closing: a close
//   with bytes unread would reset the connection, and a client reading to the end would get
//   ECONNRESET instead of EOF after its reply.
// - A trailing "\r" is ignored (`nc -C`).
// - At most kMaxControlClients connections are open at once. A new one beyond that takes the
//   place of the oldest connection that has its reply and is lingering, else of the oldest idle
//   one (no complete line yet), which is closed silently: idle connections cannot lock an admin
//   out. Such replacements happen one per loop turn, so a burst of connections cannot push out
//   one whose command has arrived before it is read. Only when every connection is executing or
//   writing its reply does the new one get "error: too many control connections".
//
// Runs on the main (control) thread's loop, never on a worker loop, so a slow command cannot block
// the data plane. Not thread-safe. The socket is read and written directly (watched with a
// loop::FdWatch, no libuv stream); replies are sent with MSG_NOSIGNAL, so a client that disconnects
// before its reply is written cannot raise SIGPIPE.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "loop/fd_watch.h"
#include "loop/timer.h"
#include "loop/uv_types.h"

namespace sluice::control {

inline constexpr size_t kMaxCommandBytes = 4096;  // including the "\n"
inline constexpr uint64_t kDefaultIdleTimeoutMs = 5000;
inline constexpr uint64_t kDefaultLingerMs = 1000;
inline constexpr size_t kMaxControlClients = 64;

// Who sent a command: the peer's credentials (SO_PEERCRED); -1 when unknown.
struct Caller {
    int64_t uid = -1;
    int64_t pid = -1;
};

class CommandHandler {
  public:
    virtual ~CommandHandler() = default;
    // Called right before execute()/executeLater() with the peer of that command.
    virtual void setCaller(const Caller& /*caller*/) {}
    // `args` are the whitespace-separated tokens without a trailing "--json" (never empty);
    // returns the full reply text (the server appends "\n" if missing). A reply beginning with
    // "error: " (with --json: an object with an "error" member) is an error. Runs on the loop
    // thread; may take a while (reload). May call
    // ControlServer::close() (the reply to this command is still delivered) but must not destroy
    // the ControlServer. An exception escaping it is logged and answered with
    // "error: internal error: WHAT".
    virtual std::string execute(const std::vector<std::string>& args, bool json) = 0;

    // A command that answers later (`upgrade`, `wait server`): return true and call `reply`
    // exactly once, on the loop thread, with the reply text (calling it after the client went
    // away is harmless). False (the default): the command runs through execute().
    using Reply = std::function<void(const std::string&)>;
    virtual bool executeLater(const std::vector<std::string>& /*args*/, bool /*json*/,
                              Reply /*reply*/) {
        return false;
    }
};

class ControlServer {
  public:
    // `loop` and `handler` must outlive this object. `idle_timeout_ms` is the time a client has to
    // send its command line (and, separately, to take the reply); `linger_ms` the time it has to
    // close after its reply.
    ControlServer(uv_loop_t* loop, CommandHandler& handler,
                  uint64_t idle_timeout_ms = kDefaultIdleTimeoutMs,
                  uint64_t linger_ms = kDefaultLingerMs);
    // Closes the listening socket and all client connections, unlinks the socket file. The loop
    // must run afterwards (or be run without blocking until no handles remain) to free the handles.
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Creates the socket at `path` and listens on it; chmod()s it to `mode` (e.g. 0660) before
    // accepting anything, independent of the umask. A stale socket file (nobody answering) is
    // replaced; fails if another process answers on it, if `path` exists and is not a socket, if
    // its directory does not exist (not created), or if the path is too long for a unix socket.
    // On failure returns false, fills *error ("cannot create control socket PATH: ...") and
    // leaves nothing behind. Fails if already listening.
    bool listen(const std::string& path, unsigned mode, std::string* error);

    // Stops listening, unlinks the socket file (only if it is still the one this server created)
    // and closes all client connections, except that a command being executed still gets its
    // reply. Idempotent; listen() may be called again afterwards.
    void close();
    // Like close(), but the socket file stays: a process it was handed to serves it now.
    void release();
    // Serves the listening socket `fd` (inherited from the process that created the socket file
    // `path`) instead of creating one; the socket file is unlinked by close() only if it still
    // is the one at `path` now. Takes ownership of `fd`. False with *error on failure.
    bool adopt(int fd, const std::string& path, std::string* error);
    // The listening socket's descriptor (-1 when not listening): what an upgrade hands over.
    int listenerFd() const;

    bool listening() const { return listener_fd_ >= 0; }
    const std::string& path() const { return path_; }
    // Client connections currently open (being read, executed, answered or lingering).
    size_t clientCount() const { return clients_.size(); }

  private:
    class Client;

    // Accepts what waits on the listener. `deferred`: called by deferred_accept_ (when full, one
    // connection is taken per loop turn, replacing an older one).
    void acceptClients(bool deferred);
    void addClient(int fd);
    // The connection a new one replaces when full (see above), or nullptr.
    Client* evictionCandidate() const;
    void forget(Client* client) { clients_.erase(client); }
    void unlinkSocketFile();
    void closeListener(bool unlink);
    // Listens on the bound unix socket `fd` (at `path`, whose identity is `st`); 0, or a negative
    // errno with `fd` closed and nothing kept.
    int listenOn(int fd, const std::string& path, const struct stat& st);

    uv_loop_t* loop_;
    CommandHandler& handler_;
    uint64_t idle_timeout_ms_;
    uint64_t linger_ms_;
    uint64_t next_serial_ = 0;                       // accept order of clients
    int listener_fd_ = -1;                           // owned; -1 when not listening
    std::unique_ptr<loop::FdWatch> listener_watch_;  // of listener_fd_
    std::string path_;
    dev_t socket_dev_ = 0;
    ino_t socket_ino_ = 0;
    std::unordered_set<Client*> clients_;  // each deletes itself once closed
    loop::Timer deferred_accept_;
};

// Splits a command line into tokens separated by spaces, tabs or "\r" (no quoting). A last token
// "--json" is removed and sets *json (else *json = false); any other "--json" stays a token.
std::vector<std::string> tokenize(std::string_view line, bool* json);

}  // namespace sluice::control
