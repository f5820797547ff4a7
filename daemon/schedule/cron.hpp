#pragma once
// Five-field cron expressions (minute hour day-of-month month day-of-week) with ranges, lists,
// steps, month and weekday names and the Vixie rule (when both day fields are restricted, a day
// matches if either matches), evaluated in UTC or an IANA time zone. Pure: `after` is a parameter.

#include "util/error.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::schedule {

class time_zone;  // defined in schedule/time_zone.hpp (TZif reader)

class cron_expression {
public:
    // Errors are errc::invalid_input with a message naming the field and what is allowed.
    static result<cron_expression> parse(std::string_view text);

    // The first fire time strictly after `after`, in the zone (nullptr or unset: UTC). DST gaps:
    // a local time that does not exist fires at the first instant after the gap; repeated local
    // times fire once (the first occurrence). nullopt if nothing matches within ~5 years.
    std::optional<std::chrono::system_clock::time_point> next_after(
        std::chrono::system_clock::time_point after, const time_zone* zone = nullptr) const;

    const std::string& text() const { return text_; }

private:
    std::string text_;
    struct fields;
    std::shared_ptr<const fields> fields_;
};

}  // namespace atlas_restored::schedule
