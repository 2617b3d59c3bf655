#pragma once
// The header block of an HTTP/2 response (or trailer section) made from an HTTP/1.1 upstream's
// fields: names lower-cased (HTTP/2 requires it), and the fields that describe an HTTP/1.1
// connection left out (RFC 9113 8.2.2): connection, keep-alive, proxy-connection,
// transfer-encoding, upgrade, te, and every field a connection header names. Fields that an
// HTTP/2 peer would reject (a name that is not a token, a value with a control character) are
// dropped too: one bad field must not cost the client the whole response. A reusable scratch
// buffer; pure, no nghttp2.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_list.h"

namespace sluice::http2 {

class ResponseFields {
  public:
    void clear();
    // ":status" first. False (nothing added) unless 100 <= status <= 999 and status != 101.
    bool addStatus(int status);
    // The fields of `headers` as above. `trailers`: also drop content-length (framing is done).
    void addFrom(const http::HeaderList& headers, bool trailers);
    // One field as given (the caller vouches for it: lowercase name, valid value).
    void add(std::string_view name, std::string_view value);

    size_t size() const { return fields_.size(); }
    std::string_view name(size_t i) const {
        return std::string_view(bytes_).substr(fields_[i].name_at, fields_[i].name_len);
    }
    std::string_view value(size_t i) const {
        return std::string_view(bytes_).substr(fields_[i].value_at, fields_[i].value_len);
    }

  private:
    struct Field {
        uint32_t name_at, name_len, value_at, value_len;
    };
    std::string bytes_;  // names and values, one after the other
    std::vector<Field> fields_;
};

}  // namespace sluice::http2
