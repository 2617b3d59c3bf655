#include "proxy/http/upstream_request.h"

#include <cstdio>

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

bool UpstreamRequest::sendBody(http::BodyFraming framing, std::string_view data) {
    if (data.empty()) return true;
    if (framing == http::BodyFraming::kChunked) {
        char size_line[24];
        const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
        return conn_->write(std::string_view(size_line, static_cast<size_t>(n)), data, "\r\n");
    }
    return conn_->write(data);
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
