#include "proxy/http/upstream_request.h"

namespace sluice::proxy {

UpstreamRequest::UpstreamRequest(net::TcpConnection* conn, bool reused,
                                 net::ConnectionHandler& handler)
    : conn_(conn), reused_(reused) {
    conn_->setHandler(&handler);
    conn_->startReading();
}

UpstreamRequest::~UpstreamRequest() {
    if (conn_) conn_->destroy();
}

bool UpstreamRequest::sendHead(std::string_view head, std::string_view rest) {
    return rest.empty() ? conn_->write(head) : conn_->write(head, rest);
}

void UpstreamRequest::finish(bool reusable, upstream::ConnectionPool& pool,
                             const upstream::ServerState* server,
                             const config::PoolConfig& config) {
    net::TcpConnection* conn = conn_;
    conn_ = nullptr;
    if (reusable && server) {
        pool.put(server, conn, static_cast<uint64_t>(config.idle_timeout.count()),
                 config.keepalive);
    } else {
        conn->destroy();
    }
}

}  // namespace sluice::proxy
