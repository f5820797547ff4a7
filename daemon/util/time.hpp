#pragma once
// ISO-8601 timestamps as Atlas writes them ("2025-05-04T09:42:00Z", fractions and offsets allowed)
// and Unix milliseconds, the two forms time takes in this project.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored {

using sys_time = std::chrono::system_clock::time_point;

// Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM) with real calendar checks; nullopt otherwise.
std::optional<sys_time> parse_iso8601(std::string_view text);

// "2026-11-28T23:59:59Z" (seconds precision) or with milliseconds when `millis` is true.
std::string format_iso8601(sys_time t, bool millis = false);

std::int64_t to_unix_millis(sys_time t);
sys_time from_unix_millis(std::int64_t millis);

}  // namespace atlas_restored
