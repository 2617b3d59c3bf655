#include "http/header_list.h"

#include <algorithm>
#include <cstring>

#include "http/ascii.h"

namespace sluice::http {

namespace {

bool isOws(char c) { return c == ' ' || c == '\t'; }

// `name` equals `lower` (lower case, same size) ignoring ASCII case.
bool equalsLower(std::string_view name, std::string_view lower) {
    for (size_t i = 0; i < lower.size(); ++i) {
        if (lowerAscii(name[i]) != lower[i]) return false;
    }
    return true;
}

// The same with each '_' of `name` read as '-'.
bool equalsLowerCgi(std::string_view name, std::string_view lower) {
    for (size_t i = 0; i < lower.size(); ++i) {
        const char c = name[i] == '_' ? '-' : lowerAscii(name[i]);
        if (c != lower[i]) return false;
    }
    return true;
}

FieldName forwardingName(std::string_view name, std::string_view lower, FieldName id) {
    if (equalsLower(name, lower)) return id;
    return equalsLowerCgi(name, lower) ? FieldName::kXForwardedLookalike : FieldName::kOther;
}

}  // namespace

FieldName classifyFieldName(std::string_view name) {
    // By length first: most names are rejected without looking at a byte.
    switch (name.size()) {
        case 2:
            return equalsLower(name, "te") ? FieldName::kTe : FieldName::kOther;
        case 3:
            return equalsLower(name, "via") ? FieldName::kVia : FieldName::kOther;
        case 4:
            return equalsLower(name, "host") ? FieldName::kHost : FieldName::kOther;
        case 6:
            return equalsLower(name, "expect") ? FieldName::kExpect : FieldName::kOther;
        case 7:
            if (equalsLower(name, "upgrade")) return FieldName::kUpgrade;
            return equalsLower(name, "trailer") ? FieldName::kTrailer : FieldName::kOther;
        case 10:
            if (equalsLower(name, "connection")) return FieldName::kConnection;
            return equalsLower(name, "keep-alive") ? FieldName::kKeepAlive : FieldName::kOther;
        case 14:
            return equalsLower(name, "content-length") ? FieldName::kContentLength
                                                       : FieldName::kOther;
        case 15:
            return forwardingName(name, "x-forwarded-for", FieldName::kXForwardedFor);
        case 16:
            if (equalsLower(name, "proxy-connection")) return FieldName::kProxyConnection;
            return forwardingName(name, "x-forwarded-host", FieldName::kXForwardedHost);
        case 17:
            if (equalsLower(name, "transfer-encoding")) return FieldName::kTransferEncoding;
            return forwardingName(name, "x-forwarded-proto", FieldName::kXForwardedProto);
        default:
            return FieldName::kOther;
    }
}

uint16_t HeaderList::nameKey(std::string_view name) {
    if (name.empty()) return 0;
    const auto first = static_cast<unsigned char>(lowerAscii(name.front()));
    const auto last = static_cast<unsigned char>(lowerAscii(name.back()));
    return static_cast<uint16_t>((first << 8) | last);
}

void HeaderList::clear() {
    // bytes_ and fields_ keep their capacity: no allocation next time.
    used_ = 0;
    fields_.clear();
    present_ = 0;
    line_end_ = 0;
    slice_name_ = 0;
    slice_value_ = false;
}

void HeaderList::grow(size_t needed) {
    bytes_.resize(std::max({needed, 2 * bytes_.size(), size_t{256}}));
}

void HeaderList::put(std::string_view bytes) {
    if (bytes.empty()) return;
    if (used_ + bytes.size() > bytes_.size()) grow(used_ + bytes.size());
    std::memcpy(bytes_.data() + used_, bytes.data(), bytes.size());
    used_ += static_cast<uint32_t>(bytes.size());
}

void HeaderList::put(char a, char b) {
    if (used_ + 2 > bytes_.size()) grow(used_ + 2);
    bytes_[used_] = a;
    bytes_[used_ + 1] = b;
    used_ += 2;
}

void HeaderList::add(std::string_view name, std::string_view value) {
    put(name);
    put(':', ' ');
    put(value);
    put('\r', '\n');
    commit(name.size(), value.size());
}

void HeaderList::appendName(std::string_view slice) { put(slice); }

void HeaderList::startValue() {
    slice_name_ = used_ - line_end_;
    put(':', ' ');
    slice_value_ = true;
}

void HeaderList::appendValue(std::string_view slice) {
    if (!slice_value_) startValue();
    put(slice);
}

void HeaderList::endField() {
    if (!slice_value_) startValue();
    slice_value_ = false;
    const size_t value_start = line_end_ + slice_name_ + 2;
    size_t begin = value_start;
    size_t end = used_;
    while (begin < end && isOws(bytes_[begin])) ++begin;
    while (end > begin && isOws(bytes_[end - 1])) --end;
    const size_t value_len = end - begin;
    if (begin != value_start) {
        std::memmove(bytes_.data() + value_start, bytes_.data() + begin, value_len);
    }
    used_ = static_cast<uint32_t>(value_start + value_len);
    put('\r', '\n');
    commit(slice_name_, value_len);
}

void HeaderList::commit(size_t name_len, size_t value_len) {
    Field field;
    field.offset = line_end_;
    field.name_len = static_cast<uint32_t>(name_len);
    field.value_len = static_cast<uint32_t>(value_len);
    const std::string_view name(bytes_.data() + line_end_, name_len);
    field.key = nameKey(name);
    field.id = classifyFieldName(name);
    fields_.push_back(field);
    present_ |= bit(field.id);
    line_end_ = used_;
}

size_t HeaderList::find(std::string_view name, size_t from) const {
    const uint16_t key = nameKey(name);
    for (size_t i = from; i < fields_.size(); ++i) {
        const Field& f = fields_[i];
        if (f.name_len == name.size() && f.key == key && equalsIgnoreCase(this->name(i), name)) {
            return i;
        }
    }
    return npos;
}

size_t HeaderList::count(std::string_view name) const {
    size_t n = 0;
    for (size_t i = find(name); i != npos; i = find(name, i + 1)) ++n;
    return n;
}

size_t HeaderList::find(FieldName id, size_t from) const {
    if (!has(id)) return npos;
    for (size_t i = from; i < fields_.size(); ++i) {
        if (fields_[i].id == id) return i;
    }
    return npos;
}

}  // namespace sluice::http
