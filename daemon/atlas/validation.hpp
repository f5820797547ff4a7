#pragma once
// Every rule of the seed page for a create call, checked before anything is sent. Pure: `now` is a
// parameter because pointInTimeUTCMillis must fall within the last 24 hours.

#include "atlas/types.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::atlas {

struct field_error {
    std::string field;    // API field path: "snapshotId", "delivery.targetGroupId", "groupId"
    std::string message;  // what is wrong and what is allowed
};

bool is_hex24(std::string_view value);         // ^([a-f0-9]{24})$
bool is_cluster_name(std::string_view value);  // ^[a-zA-Z0-9][a-zA-Z0-9-]*$
// An ISO-8601 date-time by its meaning (real calendar dates, leap years, Z or ±hh:mm offset,
// optional 1-9 fraction digits), as the seed describes oplogTs; the spec's regex is buggy.
bool is_iso8601_date_time(std::string_view value);

inline constexpr std::int64_t min_point_in_time_utc_millis = 1199145600000;  // 2008-01-01T00:00:00Z

// The path parameters: groupId (24 hex) and clusterName (pattern).
std::vector<field_error> validate_target(std::string_view group_id, std::string_view cluster_name);

// The body. Returns every problem found (empty: valid).
std::vector<field_error> validate_create_request(const create_restore_job_request& request,
                                                 std::chrono::system_clock::time_point now);

}  // namespace atlas_restored::atlas
