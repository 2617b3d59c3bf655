#pragma once
// The feature gate: config keys that parse and validate but whose feature is not built yet.
// Using one is an error naming the feature, so `sluice -t` never accepts a config the build
// would silently ignore. The table itself is in feature_gate.cc. Loader-internal.

#include <toml.hpp>

#include "config/diagnostics.h"

namespace sluice::config {

// Reports every use of a gated feature under `root`. Values already reported as invalid are
// skipped (validation comes first; one error per value).
void checkFeatureGates(const toml::value& root, Diagnostics* diags);

}  // namespace sluice::config
