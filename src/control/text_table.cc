#include "control/text_table.h"

#include <algorithm>
#include <string_view>

namespace sluice::control {

namespace {

constexpr std::string_view kColumnGap = "  ";

// Display width approximated as the number of UTF-8 code points (continuation bytes skipped).
size_t displayWidth(std::string_view s) {
    return static_cast<size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void appendRow(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
               std::string* out) {
    // Drop trailing empty cells so short rows carry no trailing padding.
    size_t used = std::min(cells.size(), widths.size());
    while (used > 0 && cells[used - 1].empty()) --used;
    for (size_t col = 0; col < used; ++col) {
        const std::string& cell = cells[col];
        out->append(cell);
        if (col + 1 < used) {
            out->append(widths[col] - displayWidth(cell), ' ');
            out->append(kColumnGap);
        }
    }
    out->push_back('\n');
}

}  // namespace

std::string renderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
    size_t columns = header.size();
    for (const auto& row : rows) columns = std::max(columns, row.size());
    std::vector<size_t> widths(columns, 0);
    const auto measure = [&](const std::vector<std::string>& cells) {
        for (size_t col = 0; col < cells.size(); ++col) {
            widths[col] = std::max(widths[col], displayWidth(cells[col]));
        }
    };
    measure(header);
    for (const auto& row : rows) measure(row);

    std::string out;
    if (!header.empty()) appendRow(header, widths, &out);
    for (const auto& row : rows) appendRow(row, widths, &out);
    return out;
}

}  // namespace sluice::control
