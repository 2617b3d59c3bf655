#include "http/header_list.h"

namespace sluice::http {

namespace {

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
    }
    return true;
}

void HeaderList::clear() {
    // std::string::clear and std::vector::clear keep their capacity: no allocation next time.
    bytes_.clear();
    fields_.clear();
}

void HeaderList::add(std::string_view name, std::string_view value) {
    Field field;
    field.name_offset = static_cast<uint32_t>(bytes_.size());
    field.name_len = static_cast<uint32_t>(name.size());
    bytes_.append(name);
    field.value_offset = static_cast<uint32_t>(bytes_.size());
    field.value_len = static_cast<uint32_t>(value.size());
    bytes_.append(value);
    fields_.push_back(field);
}

std::string_view HeaderList::name(size_t i) const {
    const Field& f = fields_[i];
    return std::string_view(bytes_).substr(f.name_offset, f.name_len);
}

std::string_view HeaderList::value(size_t i) const {
    const Field& f = fields_[i];
    return std::string_view(bytes_).substr(f.value_offset, f.value_len);
}

size_t HeaderList::find(std::string_view name, size_t from) const {
    for (size_t i = from; i < fields_.size(); ++i) {
        if (equalsIgnoreCase(this->name(i), name)) return i;
    }
    return npos;
}

size_t HeaderList::count(std::string_view name) const {
    size_t n = 0;
    for (size_t i = 0; i < fields_.size(); ++i) {
        if (equalsIgnoreCase(this->name(i), name)) ++n;
    }
    return n;
}

}  // namespace sluice::http
