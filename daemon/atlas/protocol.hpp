#pragma once
// The Atlas Admin API v2 calls of SPEC §1 as plain values: request builders and response parsers,
// no sockets. The client sends what these build and hands back what it received.

#include "atlas/types.hpp"
#include "http/message.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::atlas {

struct api_settings {
    std::string api_version = "2023-01-01";
    bool envelope = false;  // ?envelope=true: the real status travels in the body
    bool pretty = false;    // ?pretty=true: indented bodies, same content
};

// "application/vnd.atlas.2023-01-01+json": both Accept and, on POST, Content-Type.
std::string media_type(const api_settings& settings);

// Percent-encodes everything but RFC 3986 unreserved characters, so any string is a safe path
// segment or query value.
std::string percent_encode(std::string_view value);

// "/api/atlas/v2/groups/{groupId}/clusters/{clusterName}" (encoded).
std::string cluster_path(std::string_view group_id, std::string_view cluster_name);

// POST …/restoreJobs with the JSON body (writable fields only). Validate first (validation.hpp):
// the builders encode but do not judge their input.
http::request build_create_restore_job(const api_settings& settings,
                                       std::string_view group_id,
                                       std::string_view cluster_name,
                                       const create_restore_job_request& body);

// GET …/restoreJobs?[batchId=…&]pageNum=N&itemsPerPage=M&includeCount=true
http::request build_list_restore_jobs(const api_settings& settings,
                                      std::string_view group_id,
                                      std::string_view cluster_name,
                                      std::optional<std::string> batch_id,
                                      int page_num,
                                      int items_per_page);

// GET …/restoreJobs/{jobId}
http::request build_get_restore_job(const api_settings& settings,
                                    std::string_view group_id,
                                    std::string_view cluster_name,
                                    std::string_view job_id);

// GET …/snapshots?completed=true&pageNum=N&itemsPerPage=M&includeCount=true
http::request build_list_snapshots(const api_settings& settings,
                                   std::string_view group_id,
                                   std::string_view cluster_name,
                                   int page_num,
                                   int items_per_page);

// GET …/backupCheckpoints?pageNum=N&itemsPerPage=M&includeCount=true
http::request build_list_checkpoints(const api_settings& settings,
                                     std::string_view group_id,
                                     std::string_view cluster_name,
                                     int page_num,
                                     int items_per_page);

// Response parsers. A 2xx parses the body (unwrapping the envelope when settings.envelope); any
// failure status, outer or enveloped, becomes error_from_response's error; a body that is not the
// documented JSON is errc::bad_response. `now` only serves Retry-After dates.
// parse_restore_job_page also reads the create call's answer (a list, not one job).
result<page<restore_job>> parse_restore_job_page(
    const http::response& response,
    const api_settings& settings,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
result<restore_job> parse_restore_job(
    const http::response& response,
    const api_settings& settings,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
result<page<snapshot>> parse_snapshot_page(
    const http::response& response,
    const api_settings& settings,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
result<page<checkpoint>> parse_checkpoint_page(
    const http::response& response,
    const api_settings& settings,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// A failure status turned into the project's error:
//   rate_limited  429, any errorCode containing RATE_LIMITED (whatever the status), 503 + Retry-After
//   auth_failed   401, 403
//   atlas_error   any other status with an ApiError body (http_status, atlas_error_code, detail, reason)
//   http_status   any other status without one (a proxy's HTML page, an empty body)
// An enveloped body ({"status":N,"content":{…}}) is unwrapped. retry_after comes from Retry-After.
// request_sent is true for 5xx (the server may have acted before failing), false for 4xx (refused).
error error_from_response(const http::response& response, std::chrono::system_clock::time_point now);

// Pagination that always ends: a rel "next" link means another page; without one, totalCount
// decides; without that, a short page is the last. An empty page, a page number past
// max_list_pages or nonsense arguments stop it.
inline constexpr int max_list_pages = 10000;
std::optional<int> next_page_number(bool has_next_link,
                                    std::size_t results_on_page,
                                    std::optional<std::int64_t> total_count,
                                    int current_page,
                                    int items_per_page);

template <class T>
std::optional<int> next_page_number(const page<T>& p, int current_page, int items_per_page) {
    bool has_next = false;
    for (const auto& l : p.links) {
        has_next = has_next || l.rel == "next";
    }
    return next_page_number(has_next, p.results.size(), p.total_count, current_page, items_per_page);
}

}  // namespace atlas_restored::atlas
