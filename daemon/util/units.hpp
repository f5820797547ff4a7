#pragma once
// Sizes and durations as people read them in progress lines: "1.5 GiB", "12s", "3m".

#include <chrono>
#include <cstdint>
#include <string>

namespace atlas_restored {

// "512 B", "1.0 KiB", "1.5 GiB" (binary units, one decimal).
std::string human_bytes(std::uint64_t bytes);

// A live download's progress: "42% (420.0 MiB of 1.0 GiB) at 85.3 MiB/s, ETA 7s"; the parts that
// are unknown (total, rate) are left out.
std::string progress_summary(std::uint64_t done, std::uint64_t total_or_zero, double bytes_per_second);

}  // namespace atlas_restored
