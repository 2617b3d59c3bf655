#include "config/toml_document.h"

namespace sluice::config {

toml::value parseTomlDocument(std::istream& in) {
    // toml11 copies its source name into every region it makes and into the message of every
    // alternative its parser tries and rejects (a bare key is first tried as a "..." and a '...'
    // string, each line as a [table] and an [[array]] header): several copies per token. A
    // path longer than std::string's inline buffer made each of them an allocation (14% of
    // the parse of 10,000 servers); the empty name never allocates.
    return toml::parse(in, std::string());
}

}  // namespace sluice::config
