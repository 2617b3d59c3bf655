#include "health/http_probe.h"

namespace sluice::health {

HttpProbe::HttpProbe(uv_loop_t* loop, std::chrono::milliseconds timeout, std::string path,
                     const std::string& host, std::vector<std::pair<int, int>> expect_status)
    : Probe(loop, timeout), path_(std::move(path)), expect_status_(std::move(expect_status)) {
    request_ = "GET " + path_ + " HTTP/1.1\r\nHost: " + host +
               "\r\nUser-Agent: sluice-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

bool HttpProbe::statusExpected(int status, const std::vector<std::pair<int, int>>& ranges) {
    for (const auto& [low, high] : ranges) {
        if (status >= low && status <= high) return true;
    }
    return false;
}

void HttpProbe::resetProtocol() {
    status_ = 0;
    parser_.reset();
    parser_.emplace(static_cast<http::ResponseHandler&>(*this));
    parser_->setRequestMethod("GET");
}

void HttpProbe::onProbeConnected(net::TcpConnection& conn) {
    if (!conn.write(request_)) {
        finish(false, "connection: write failed");
        return;
    }
    conn.startReading();
}

void HttpProbe::onData(net::TcpConnection&, std::string_view bytes) {
    if (!running() || !parser_) return;
    const http::FeedResult result = parser_->feed(bytes);
    if (status_ != 0) {
        verdict();  // the head is in; the rest of the response does not matter
    } else if (result.kind == http::FeedResult::kError) {
        finish(false, std::string("invalid HTTP response: ") + result.reason);
    } else if (result.kind == http::FeedResult::kUpgraded) {
        finish(false, "invalid HTTP response: unexpected 101");
    }
}

void HttpProbe::onEof(net::TcpConnection&) {
    if (!running()) return;
    if (status_ != 0) {
        verdict();
        return;
    }
    finish(false, "connection closed by the server before the response head");
}

void HttpProbe::onInterimResponse(const http::ResponseHead&) {}

http::Action HttpProbe::onResponseHead(http::ResponseHead& head) {
    status_ = head.status;
    return http::Action::kPause;
}

http::Action HttpProbe::onResponseBody(std::string_view) { return http::Action::kPause; }

void HttpProbe::onResponseComplete() {}

void HttpProbe::verdict() {
    const std::string status = "HTTP " + std::to_string(status_);
    if (statusExpected(status_, expect_status_)) {
        finish(true, status);
    } else {
        finish(false, status + " from " + path_);
    }
}

}  // namespace sluice::health
