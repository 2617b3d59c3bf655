#include "http2/response_fields.h"

#include "http/ascii.h"
#include "http/field_rules.h"
#include "http2/field_checks.h"

namespace sluice::http2 {

namespace {

using http::FieldName;

bool isHttp11Only(FieldName id) {
    return id == FieldName::kConnection || id == FieldName::kKeepAlive ||
           id == FieldName::kProxyConnection || id == FieldName::kTransferEncoding ||
           id == FieldName::kUpgrade || id == FieldName::kTe;
}

// Whether a connection field of `headers` names `name` (a field private to that hop).
bool nominatedByConnection(const http::HeaderList& headers, std::string_view name) {
    for (size_t i = headers.find(FieldName::kConnection); i != http::HeaderList::npos;
         i = headers.find(FieldName::kConnection, i + 1)) {
        if (http::listHasToken(headers.value(i), name)) return true;
    }
    return false;
}

}  // namespace

void ResponseFields::clear() {
    bytes_.clear();
    fields_.clear();
}

bool ResponseFields::addStatus(int status) {
    if (status < 100 || status > 999 || status == 101) return false;
    const char digits[3] = {static_cast<char>('0' + status / 100),
                            static_cast<char>('0' + status / 10 % 10),
                            static_cast<char>('0' + status % 10)};
    add(":status", std::string_view(digits, 3));
    return true;
}

void ResponseFields::add(std::string_view name, std::string_view value) {
    Field f;
    f.name_at = static_cast<uint32_t>(bytes_.size());
    f.name_len = static_cast<uint32_t>(name.size());
    bytes_ += name;
    f.value_at = static_cast<uint32_t>(bytes_.size());
    f.value_len = static_cast<uint32_t>(value.size());
    bytes_ += value;
    fields_.push_back(f);
}

void ResponseFields::addFrom(const http::HeaderList& headers, bool trailers) {
    const bool has_connection = headers.has(FieldName::kConnection);
    for (size_t i = 0; i < headers.size(); ++i) {
        const FieldName id = headers.id(i);
        if (isHttp11Only(id)) continue;
        if (trailers && (id == FieldName::kContentLength || id == FieldName::kTrailer)) continue;
        const std::string_view name = headers.name(i);
        const std::string_view value = headers.value(i);
        if (has_connection && nominatedByConnection(headers, name)) continue;
        if (!isValidFieldValue(value)) continue;
        Field f;
        f.name_at = static_cast<uint32_t>(bytes_.size());
        f.name_len = static_cast<uint32_t>(name.size());
        for (char c : name) bytes_ += http::lowerAscii(c);
        if (!isLowercaseToken(std::string_view(bytes_).substr(f.name_at))) {
            bytes_.resize(f.name_at);
            continue;
        }
        f.value_at = static_cast<uint32_t>(bytes_.size());
        f.value_len = static_cast<uint32_t>(value.size());
        bytes_ += value;
        fields_.push_back(f);
    }
}

}  // namespace sluice::http2
