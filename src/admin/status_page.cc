#include "admin/status_page.h"

#include "admin/status_page_html.h"  // generated in the build tree from status_page.html

namespace sluice::admin {

std::string_view statusPageHtml() {
    return std::string_view(embedded::kStatusPageHtml, embedded::kStatusPageHtml_size);
}

}  // namespace sluice::admin
