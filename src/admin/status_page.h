#pragma once
// The `/status` page (admin.md): one self-contained HTML file, src/admin/status_page.html, with
// its CSS and script inline and no external asset. It renders `/status.json` (schema at the top
// of the file) and fetches it again every 2 s without reloading.
//
// The bytes are compiled into the binary (cmake/embed_file.cmake writes a header from the file at
// build time), so sluice serves the page without reading anything from disk.

#include <string_view>

namespace sluice::admin {

// Content-Type to serve it with.
inline constexpr std::string_view kStatusPageContentType = "text/html; charset=utf-8";

// The page, byte for byte as src/admin/status_page.html; static storage.
std::string_view statusPageHtml();

}  // namespace sluice::admin
