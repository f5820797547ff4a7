#pragma once
// Durations as written in the configuration: a whole number and a unit, or several from the
// largest unit to the smallest: "500ms", "30s", "5m", "6h", "7d", "1h30m", "1d12h".

#include "util/error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace atlas_restored::schedule {

// Units: ms, s, m, h, d, each at most once, largest first; "0s" is allowed; at most 36500d.
// Errors are errc::invalid_input and say what is allowed, e.g. "'1.5h' is not a duration: use
// whole numbers (e.g. 1h30m); allowed units: ms, s, m, h, d (e.g. 30s, 5m, 1h30m)".
result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The inverse of parse_duration: "1h30m", "7d", "500ms", "0s"; negative values get a '-'.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace atlas_restored::schedule
