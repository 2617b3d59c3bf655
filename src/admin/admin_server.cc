#include "admin/admin_server.h"

#include <algorithm>

#include "admin/client_filter.h"
#include "base/log.h"
#include "http/request_parser.h"
#include "loop/timer.h"
#include "net/tcp_connection.h"

namespace sluice::admin {

class AdminServer::Connection final : public net::ConnectionHandler, public http::RequestHandler {
  public:
    Connection(AdminServer& server, net::TcpConnection* conn)
        : server_(server),
          conn_(conn),
          parser_(*this, limits()),
          timer_(server.loop_, [this] { close(); }) {
        conn_->setHandler(this);
        conn_->startReading();
        timer_.start(kConnectionTimeoutMs);
    }
    ~Connection() override = default;

    // Closes the socket; the object is freed on a later loop turn (never under its own
    // callbacks).
    void close() {
        if (closing_) return;
        closing_ = true;
        timer_.stop();
        conn_->destroy();
        server_.closed(this);
    }

  private:
    static http::RequestLimits limits() {
        http::RequestLimits l;
        l.max_header_bytes = 8 * 1024;
        l.max_headers = 64;
        return l;
    }

    // net::ConnectionHandler
    void onData(net::TcpConnection&, std::string_view bytes) override {
        if (responded_) return;  // a body, or anything after the request: dropped
        const http::FeedResult r = parser_.feed(bytes);
        if (write_failed_) return close();
        if (responded_) return;
        if (r.kind == http::FeedResult::kError) {
            Response response;
            response.status = r.status;
            response.body = std::string(r.reason) + "\n";
            respond(response, false);
            if (write_failed_) close();
        }
    }
    void onEof(net::TcpConnection&) override {
        // Unsent response bytes: close once they are out (onDrain).
        if (conn_->pendingBytes() > 0) {
            eof_ = true;
            return;
        }
        close();
    }
    void onDrain(net::TcpConnection&) override {
        if (eof_) close();
    }
    void onError(net::TcpConnection&, int) override { close(); }

    // http::RequestHandler
    http::Action onRequestHead(http::RequestHead& head) override {
        const bool allowed = clientAllowed(server_.allow_(), conn_->peerAddress());
        respond(route(head.method, head.target, allowed, server_.source_), head.method == "HEAD");
        return http::Action::kPause;
    }
    http::Action onRequestBody(std::string_view) override { return http::Action::kContinue; }
    void onRequestComplete() override {}

    void respond(const Response& response, bool head_only) {
        responded_ = true;
        if (!conn_->write(serializeResponse(response, head_only))) {
            write_failed_ = true;  // closed by the caller, outside the parser
            return;
        }
        // FIN after the response; the client's EOF (or the timeout) closes the connection.
        conn_->shutdownWrite();
    }

    AdminServer& server_;
    net::TcpConnection* conn_;
    http::RequestParser parser_;
    loop::Timer timer_;
    bool responded_ = false;
    bool write_failed_ = false;
    bool eof_ = false;
    bool closing_ = false;
};

AdminServer::AdminServer(uv_loop_t* loop, Source& source, AllowList allow)
    : loop_(loop),
      source_(source),
      allow_(std::move(allow)),
      reaper_(std::make_unique<loop::Timer>(loop, [this] { reap(); })) {}

AdminServer::~AdminServer() {
    acceptor_.reset();
    while (!connections_.empty()) connections_.back()->close();
    reap();
}

void AdminServer::reap() {
    for (Connection* c : closed_) delete c;
    closed_.clear();
}

bool AdminServer::listen(const config::Address& address, std::string* error) {
    std::string why;
    const int fd = net::openListenSocket(address, &why);
    if (fd < 0) {
        *error = "admin.listen " + address.text + ": " + why;
        return false;
    }
    acceptor_ = std::make_unique<net::Acceptor>(loop_, fd, *this, "admin");
    return true;
}

bool AdminServer::canAccept() { return connections_.size() < kMaxConnections; }

void AdminServer::onAccept(int fd, const sockaddr* peer) {
    net::TcpConnection* conn = net::TcpConnection::adopt(loop_, fd, peer);
    if (!conn) return;
    connections_.push_back(new Connection(*this, conn));
}

void AdminServer::closed(Connection* connection) {
    connections_.erase(std::remove(connections_.begin(), connections_.end(), connection),
                       connections_.end());
    closed_.push_back(connection);
    reaper_->start(0);
}

}  // namespace sluice::admin
