#include "config/toml_document.h"

namespace sluice::config {

toml::value parseTomlDocument(std::istream& in, const std::string& path) {
    return toml::parse(in, path);
}

}  // namespace sluice::config
