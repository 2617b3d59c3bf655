#pragma once
// An ordered list of header fields whose bytes live in one reusable buffer: clear() keeps the
// capacity, so a keep-alive connection parses request after request without allocating.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {

class HeaderList {
  public:
    void clear();
    void add(std::string_view name, std::string_view value);
    size_t size() const { return fields_.size(); }
    bool empty() const { return fields_.empty(); }
    std::string_view name(size_t i) const;
    std::string_view value(size_t i) const;
    // First field whose name equals `name` case-insensitively; npos when absent.
    size_t find(std::string_view name, size_t from = 0) const;
    size_t count(std::string_view name) const;
    static constexpr size_t npos = static_cast<size_t>(-1);

  private:
    struct Field {
        uint32_t name_offset, name_len, value_offset, value_len;
    };
    std::string bytes_;
    std::vector<Field> fields_;
};

// ASCII case-insensitive equality (header names, tokens).
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace sluice::http
