#include "util/units.hpp"

#include <cstdio>

namespace atlas_restored {

std::string human_bytes(std::uint64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        return std::to_string(bytes) + " B";
    }
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 5) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof(text), "%.1f %s", value, units[unit]);
    return text;
}

namespace {

std::string short_duration(std::int64_t seconds) {
    if (seconds < 120) {
        return std::to_string(seconds) + "s";
    }
    if (seconds < 2 * 3600) {
        return std::to_string(seconds / 60) + "m";
    }
    return std::to_string(seconds / 3600) + "h";
}

}  // namespace

std::string progress_summary(std::uint64_t done, std::uint64_t total_or_zero, double bytes_per_second) {
    std::string text = human_bytes(done);
    if (total_or_zero > 0) {
        const int percent =
            static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total_or_zero));
        text = std::to_string(percent) + "% (" + text + " of " + human_bytes(total_or_zero) + ")";
    }
    if (bytes_per_second >= 1.0) {
        text += " at " + human_bytes(static_cast<std::uint64_t>(bytes_per_second)) + "/s";
        if (total_or_zero > done) {
            const auto left =
                static_cast<std::int64_t>(static_cast<double>(total_or_zero - done) / bytes_per_second + 0.5);
            text += ", ETA " + short_duration(left);
        }
    }
    return text;
}

}  // namespace atlas_restored
