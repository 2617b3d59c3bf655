#pragma once
// An ordered list of header fields whose bytes live in one reusable buffer: clear() keeps the
// capacity, so a keep-alive connection parses request after request without allocating. Each
// field is stored as the line "Name: value\r\n", which the serializer copies as it is.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {

// The field names the parsers, validators and serializer act on, recognised once as a field is
// added to a HeaderList so that they test an enum rather than compare strings.
enum class FieldName : uint8_t {
    kOther,
    kHost,
    kContentLength,
    kTransferEncoding,
    kConnection,
    kKeepAlive,
    kProxyConnection,
    kTe,
    kTrailer,
    kUpgrade,
    kExpect,
    kXForwardedFor,
    kXForwardedProto,
    kXForwardedHost,
    kVia,
    // X_Forwarded_For, x-forwarded_proto...: '_' for '-' in one of the three names above (CGI
    // servers map both spellings to the same variable).
    kXForwardedLookalike,
};

// The FieldName of `name` (ASCII case-insensitive); kOther for any other name.
FieldName classifyFieldName(std::string_view name);

class HeaderList {
  public:
    void clear();
    void add(std::string_view name, std::string_view value);
    size_t size() const { return fields_.size(); }
    bool empty() const { return fields_.empty(); }
    std::string_view name(size_t i) const {
        const Field& f = fields_[i];
        return std::string_view(bytes_.data() + f.offset, f.name_len);
    }
    std::string_view value(size_t i) const {
        const Field& f = fields_[i];
        return std::string_view(bytes_.data() + f.offset + f.name_len + 2, f.value_len);
    }
    // First field whose name equals `name` case-insensitively; npos when absent.
    size_t find(std::string_view name, size_t from = 0) const;
    size_t count(std::string_view name) const;
    static constexpr size_t npos = static_cast<size_t>(-1);

    // By recognised name (id != kOther), without comparing strings: the FieldName of field i,
    // the first field from `from` on named `id` (npos when absent), whether any field is.
    FieldName id(size_t i) const { return fields_[i].id; }
    size_t find(FieldName id, size_t from = 0) const;
    bool has(FieldName id) const { return (present_ & bit(id)) != 0; }
    // Field i as the line "name(i): value(i)\r\n". Lines of consecutive fields are adjacent.
    std::string_view line(size_t i) const {
        const Field& f = fields_[i];
        return std::string_view(bytes_.data() + f.offset, f.name_len + f.value_len + 4);
    }

    // A field whose name and value arrive in slices (as llhttp hands them over), copied straight
    // into the list: every slice of the name, then every slice of the value, then endField(),
    // which trims SP / HTAB at both ends of the value and adds the field. clear() drops a field
    // that was never ended; add() must not be called between the first slice and endField().
    void appendName(std::string_view slice);
    void appendValue(std::string_view slice);
    void endField();

  private:
    // The line of a field starts at `offset` in bytes_. `key` (the lower-cased first and last
    // byte of the name) rejects most non-matching names in find() without comparing them.
    struct Field {
        uint32_t offset, name_len, value_len;
        uint16_t key;
        FieldName id;
    };
    static uint32_t bit(FieldName id) { return uint32_t{1} << static_cast<unsigned>(id); }
    static uint16_t nameKey(std::string_view name);
    // Writes at used_, growing bytes_ when it is full.
    void put(std::string_view bytes);
    void put(char a, char b);
    void grow(size_t needed);
    void startValue();
    // Adds the field whose line starts at line_end_ and whose value has been trimmed.
    void commit(size_t name_len, size_t value_len);

    // The lines are bytes_[0, used_); the rest of bytes_ is room to grow into, so that adding a
    // field is a memcpy rather than a std::string append.
    std::string bytes_;
    uint32_t used_ = 0;
    std::vector<Field> fields_;
    uint32_t present_ = 0;     // bit(id) of every id in fields_
    uint32_t line_end_ = 0;    // end of the last field's line; bytes after it are a field in slices
    uint32_t slice_name_ = 0;  // name length of the field in slices once its value started
    bool slice_value_ = false;
};

}  // namespace sluice::http
