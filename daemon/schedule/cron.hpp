#pragma once
// Five-field cron expressions (minute hour day-of-month month day-of-week) with ranges, lists,
// steps, month and weekday names and the Vixie rule (when both day fields are restricted, a day
// matches if either matches), evaluated in UTC or an IANA time zone. Pure: `after` is a parameter.
//
// Syntax: `*`, `a`, `a-b`, `*/n`, `a-b/n`, `a/n` (a to the field's maximum, every n), comma
// lists; JAN-DEC and SUN-SAT (any case); day-of-week 0-7 where 7 is Sunday; macros @hourly,
// @daily (@midnight), @weekly, @monthly, @yearly (@annually). A day field counts as restricted
// when it does not start with `*` (so `*/2` is unrestricted, as in Vixie cron).
//
// Daylight-saving time: fire times are wall-clock times in the zone.
// - A fire time skipped by a forward transition fires at the first instant after the gap
//   (02:30 on Berlin's spring-forward day fires at 03:00 CEST); several skipped fire times
//   collapse into that one instant.
// - A wall-clock time that occurs twice fires once, at its first occurrence. This holds for
//   every expression, `*` hours included: during the repeated hour nothing fires a second time.

#include "util/error.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::schedule {

class time_zone;  // defined in schedule/time_zone.hpp (TZif reader)

class cron_expression {
  public:
    // Errors are errc::invalid_input with a message naming the field and what is allowed,
    // e.g. "hour: 24 is out of range 0-23".
    static result<cron_expression> parse(std::string_view text);

    // The first fire time strictly after `after`, in the zone (nullptr or unset: UTC). DST gaps:
    // a local time that does not exist fires at the first instant after the gap; repeated local
    // times fire once (the first occurrence). nullopt if nothing matches within 8 years (long
    // enough for a February 29 across 2100). Whole months and days that cannot match are skipped,
    // so an impossible "0 0 30 2 *" gives up after a few hundred cheap checks.
    std::optional<std::chrono::system_clock::time_point> next_after(
        std::chrono::system_clock::time_point after, const time_zone* zone = nullptr) const;

    // Up to n successive fire times after `after` (fewer if the schedule runs out).
    std::vector<std::chrono::system_clock::time_point> next_n(std::chrono::system_clock::time_point after,
                                                              std::size_t n,
                                                              const time_zone* zone = nullptr) const;

    // The gap between the next two fire times after `after`; zero if there are not two.
    std::chrono::seconds nominal_period(std::chrono::system_clock::time_point after,
                                        const time_zone* zone = nullptr) const;

    // Whether a wall-clock minute matches (seconds are ignored).
    bool matches(std::chrono::local_seconds local) const;

    const std::string& text() const { return text_; }

  private:
    std::string text_;
    struct fields;
    std::shared_ptr<const fields> fields_;
};

}  // namespace atlas_restored::schedule
