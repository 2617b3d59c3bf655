#pragma once
// A server's administrative state, set over the control socket (`set server POOL/NAME state X`)
// and kept in the state file; the names are what both show and accept.
//   ready: in service; drain: no new requests or connections, existing ones finish;
//   maint: like drain, and its active health checks stop.

#include <cstdint>

#include "base/enum_names.h"

namespace sluice::upstream {

enum class AdminState : uint8_t { kReady, kDrain, kMaint };
inline constexpr EnumName<AdminState> kAdminStateNames[] = {
    {AdminState::kReady, "ready"}, {AdminState::kDrain, "drain"}, {AdminState::kMaint, "maint"}};
constexpr const auto& namesOf(AdminState) { return kAdminStateNames; }
static_assert(coversEveryValue(kAdminStateNames));

}  // namespace sluice::upstream
