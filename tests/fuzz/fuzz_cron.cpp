// Cron parsing and next-fire search on arbitrary text, in UTC and a DST zone.
#include "schedule/cron.hpp"
#include "schedule/time_zone.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace atlas_restored::schedule;
    static const auto berlin = time_zone::load("Europe/Berlin");
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = cron_expression::parse(text);
    if (parsed) {
        const auto start = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56);
        (void)parsed->next_after(start);
        if (berlin) {
            (void)parsed->next_after(start, berlin->get());
        }
    }
    return 0;
}
