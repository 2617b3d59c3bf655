#pragma once
// One constexpr name table per enum, and the look-ups every table serves (parsing the config,
// formatting replies and logs). An enum E takes part by declaring, in its own namespace, a table
// and `constexpr const auto& namesOf(E)` returning it (found by argument-dependent lookup):
//   enum class Color { kRed, kBlue };
//   inline constexpr EnumName<Color> kColorNames[] = {{Color::kRed, "red"}, {Color::kBlue,
//   "blue"}}; constexpr const auto& namesOf(Color) { return kColorNames; }
//   static_assert(coversEveryValue(kColorNames));
//   nameOf(Color::kBlue) == "blue";  parseName<Color>("red") == Color::kRed
// A table lists every enumerator once, in declaration order (so its order is also the order in
// which choices are listed in error messages).

#include <cstddef>
#include <optional>
#include <string_view>

namespace sluice {

template <typename E>
struct EnumName {
    E value;
    std::string_view name;
};

// True when table[i] names the enumerator with value i, for every i: enumerators numbered 0..N-1
// (the default for an enum without explicit values) are then each named exactly once.
template <typename E, size_t N>
constexpr bool coversEveryValue(const EnumName<E> (&table)[N]) {
    for (size_t i = 0; i < N; ++i) {
        if (table[i].value != static_cast<E>(i)) return false;
    }
    return true;
}

// The name of `value`; "?" for a value outside the table (a cast from a bad integer).
template <typename E>
constexpr std::string_view nameOf(E value) {
    for (const auto& entry : namesOf(E{})) {
        if (entry.value == value) return entry.name;
    }
    return "?";
}

// The enumerator named `name` (exact, case-sensitive match), or nullopt.
template <typename E>
constexpr std::optional<E> parseName(std::string_view name) {
    for (const auto& entry : namesOf(E{})) {
        if (entry.name == name) return entry.value;
    }
    return std::nullopt;
}

}  // namespace sluice
