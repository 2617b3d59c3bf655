#include "config/feature_gate.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"
#include "config/units.h"

namespace sluice::config {
namespace {

bool isTrue(const toml::value& v) { return v.is_boolean() && v.as_boolean(); }
bool written(const toml::value&) { return true; }
bool offersH2(const toml::value& v) {
    return v.is_array() &&
           std::any_of(v.as_array().begin(), v.as_array().end(), [](const toml::value& p) {
               return p.is_string() && p.as_string().str == "h2";
           });
}

struct GatedFeature {
    const char* key;  // dotted path as in config.md; arrays of tables are walked through
    bool (*in_use)(const toml::value&);
    const char* feature;  // "{}" is replaced by the value as written
};

// ---------------------------------------------------------------------------------------------
// FEATURES NOT BUILT YET. When a feature lands (with its tests), delete its line here, and
// drop "Not in this build yet" from its key in conf/sluice.toml. One line per gate.
constexpr GatedFeature kGatedFeatures[] = {
    {"listener.http2", isTrue, "HTTP/2"},
    {"listener.h2c", isTrue, "HTTP/2 without TLS (h2c)"},
    {"listener.http2_max_concurrent_streams", written, "HTTP/2"},
    {"listener.http2_initial_window", written, "HTTP/2"},
    {"listener.tls.alpn", offersH2, "HTTP/2"},
};
// ---------------------------------------------------------------------------------------------

std::string valueText(const toml::value& v) {
    if (v.is_string()) return "\"" + v.as_string().str + "\"";
    if (v.is_boolean()) return v.as_boolean() ? "true" : "false";
    if (v.is_integer()) return std::to_string(v.as_integer());
    if (v.is_array()) {  // ["h2", "http/1.1"]; the first few elements
        std::string text = "[";
        const auto& items = v.as_array();
        for (size_t i = 0; i < items.size() && i < 3; ++i) {
            text += (i == 0 ? "" : ", ") + valueText(items[i]);
        }
        return text + (items.size() > 3 ? ", ...]" : "]");
    }
    return "...";
}

std::string featureText(const GatedFeature& gate, const std::string& value) {
    std::string text = gate.feature;
    const size_t slot = text.find("{}");
    if (slot != std::string::npos) text.replace(slot, 2, value);
    return text;
}

void report(const GatedFeature& gate, const toml::value& leaf, Diagnostics* diags) {
    const std::string path = gate.key;
    if (diags->isBad(leaf)) return;
    if (leaf.is_array() && !leaf.as_array().empty() && leaf.as_array().front().is_table()) {
        // An array of tables, e.g. [[listener.rate_limit]]: once, at the first.
        if (!gate.in_use(leaf)) return;
        diags->error(
            diags->locate(leaf.as_array().front()),
            "[[" + path + "]]: " + featureText(gate, "") + " is not available in this build yet");
        return;
    }
    if (!gate.in_use(leaf)) return;
    const std::string label = leaf.is_table() ? "[" + path + "]" : path + " = " + valueText(leaf);
    diags->error(diags->locate(leaf), label + ": " + featureText(gate, valueText(leaf)) +
                                          " is not available in this build yet");
}

void walk(const GatedFeature& gate, const toml::value& node, const std::vector<std::string>& parts,
          size_t index, Diagnostics* diags) {
    if (node.is_array()) {
        for (const toml::value& element : node.as_array()) walk(gate, element, parts, index, diags);
        return;
    }
    if (!node.is_table()) return;  // a type error, already reported
    const auto& entries = node.as_table();
    const auto it = entries.find(parts[index]);
    if (it == entries.end()) return;
    if (index + 1 == parts.size()) {
        report(gate, it->second, diags);
    } else {
        walk(gate, it->second, parts, index + 1, diags);
    }
}

std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        parts.emplace_back(path.substr(start, dot - start));
        if (dot == std::string_view::npos) return parts;
        start = dot + 1;
    }
}

}  // namespace

void checkFeatureGates(const toml::value& root, Diagnostics* diags) {
    for (const GatedFeature& gate : kGatedFeatures) walk(gate, root, split(gate.key), 0, diags);
}

std::vector<std::string> unsupportedFeatures() {
    std::vector<std::string> names;
    for (const GatedFeature& gate : kGatedFeatures) {
        const std::string name = featureText(gate, "other than the default");
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    return names;
}

}  // namespace sluice::config
