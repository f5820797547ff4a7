#pragma once
// Helpers shared by the world's source files (not part of the module's interface).

#include "http/message.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::fake_atlas::detail {

std::optional<std::string_view> header(const http::header_list& headers, std::string_view name);

// "2026-11-28T03:00:00Z"
std::string iso8601(std::chrono::system_clock::time_point t);
// An ISO-8601 date-time by its meaning: YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|±HH:MM), a real date.
bool is_iso8601(std::string_view s);

bool is_hex24(std::string_view s);
bool is_cluster_name(std::string_view s);

std::string reason_phrase(int status);

// Atlas's ApiError: {"detail","error","errorCode","parameters","reason"}.
boost::json::object api_error(int status, std::string_view error_code, std::string_view detail);

// True when one of the comma-separated media types (parameters ignored, case-insensitive) is `want`.
bool has_media_type(std::string_view header_value, std::string_view want);

}  // namespace atlas_restored::fake_atlas::detail
