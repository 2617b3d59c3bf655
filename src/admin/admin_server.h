#pragma once
// The admin endpoint's HTTP/1.1 server (shared/design/admin.md), on the main thread's loop and
// its own listening socket: never on a worker, so the data plane neither blocks it nor is
// blocked by it.
//
// One request per connection (every response says Connection: close), answered as soon as its
// head is parsed (http::RequestParser, the data plane's strict parser); a request body is read
// and dropped. After the response, the write side is shut down and the connection closes at the
// client's EOF. A slow or hostile client cannot hold more than its share: at most
// kMaxConnections connections at once (more wait in the kernel's backlog), each closed
// kConnectionTimeoutMs after it opened whatever it is doing, heads limited to 8 KiB.
//
// Allowed clients (`[admin] allow`) are read from `allow()` at each request, so a reload that
// changes the list applies at once; `listen` is fixed at start.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "admin/routes.h"
#include "config/config.h"
#include "loop/timer.h"
#include "loop/uv_types.h"
#include "net/acceptor.h"

namespace sluice::admin {

class AdminServer final : public net::AcceptHandler {
  public:
    static constexpr size_t kMaxConnections = 32;
    static constexpr uint64_t kConnectionTimeoutMs = 10'000;

    using AllowList = std::function<const std::vector<config::Network>&()>;
    AdminServer(uv_loop_t* loop, Source& source, AllowList allow);
    ~AdminServer() override;  // closes the socket and every connection
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    // Opens the listening socket; false with *error ("admin.listen 127.0.0.1:9900: ...").
    bool listen(const config::Address& address, std::string* error);

    // net::AcceptHandler (the acceptor's calls).
    bool canAccept() override;
    void onAccept(int fd, const sockaddr* peer) override;

  private:
    class Connection;
    void closed(Connection* connection);  // frees it on the next loop turn
    void reap();

    uv_loop_t* loop_;
    Source& source_;
    AllowList allow_;
    std::unique_ptr<net::Acceptor> acceptor_;
    std::vector<Connection*> connections_;
    std::vector<Connection*> closed_;
    std::unique_ptr<loop::Timer> reaper_;
};

}  // namespace sluice::admin
