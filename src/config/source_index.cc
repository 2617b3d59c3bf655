#include "config/source_index.h"

#include <algorithm>

namespace sluice::config {

const SourceIndex::Text* SourceIndex::find(const toml::value& value, size_t* offset) {
    // toml11 keeps a value's position as a detail::region (iterators into its own copy of the
    // text, shared by every value of the document); values made otherwise have none.
    const auto* region = dynamic_cast<const toml::detail::region*>(toml::detail::get_region(value));
    if (region == nullptr || !region->is_ok()) return nullptr;
    const auto& source = region->source();
    *offset = static_cast<size_t>(region->first() - region->begin());
    for (const Text& text : texts_) {
        if (text.source == source) return &text;
    }
    Text& text = texts_.emplace_back();
    text.source = source;
    text.line_starts.push_back(0);
    for (size_t i = 0; i < source->size(); ++i) {
        if ((*source)[i] == '\n') text.line_starts.push_back(i + 1);
    }
    return &text;
}

size_t SourceIndex::lineIndex(const Text& text, size_t offset) {
    const auto next = std::upper_bound(text.line_starts.begin(), text.line_starts.end(), offset);
    return static_cast<size_t>(next - text.line_starts.begin()) - 1;  // line_starts[0] is 0
}

Location SourceIndex::locate(const toml::value& value) {
    size_t offset = 0;
    const Text* text = find(value, &offset);
    if (text == nullptr) return Location{};
    const size_t line = lineIndex(*text, offset);
    return Location{static_cast<uint32_t>(line + 1),
                    static_cast<uint32_t>(offset - text->line_starts[line] + 1)};
}

std::string_view SourceIndex::lineOf(const toml::value& value, size_t* column) {
    size_t offset = 0;
    const Text* text = find(value, &offset);
    *column = 0;
    if (text == nullptr) return {};
    const size_t line = lineIndex(*text, offset);
    const size_t start = text->line_starts[line];
    size_t end = line + 1 < text->line_starts.size() ? text->line_starts[line + 1] - 1
                                                     : text->source->size();
    if (end > start && (*text->source)[end - 1] == '\r') --end;
    *column = offset - start;
    return std::string_view(text->source->data() + start, end - start);
}

}  // namespace sluice::config
