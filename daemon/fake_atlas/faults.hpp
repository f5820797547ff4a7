#pragma once
// Faults the fake Atlas injects on request (control API POST /_fake/faults, or --fault): each one
// applies to the next `count` requests its `match` selects. Pure parsing and matching here; the
// world decides what each kind does to a request.

#include "util/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::fake_atlas {

enum class fault_kind {
    status,            // answer `status` (5xx burst, 400, …) with an ApiError body; request not processed
    rate_limit,        // 429 RATE_LIMITED_TOKEN_BUCKET with Retry-After; request not processed
    stall,             // process normally, then wait `delay_ms` before writing anything
    reset,             // read the request, reset the connection (processed only with `process`)
    close,             // read the request, close without an answer (processed only with `process`)
    truncate,          // process, announce the full length, send `bytes` bytes, close
    wrong_hash,        // a download that completes records a wrong SHA-1 in the job's hashes
    ambiguous_create,  // create the jobs, then close without an answer
    job_broken,        // the jobs created (or `job_id`) end BROKEN
    job_killed,        // … end KILLED
    delivery_failed,   // … finish with delivery FAILED
    delivery_interrupted,  // … finish with delivery INTERRUPTED
    expire_link,           // the job's download link expires now
};

std::string_view to_string(fault_kind k);
std::optional<fault_kind> parse_fault_kind(std::string_view name);

struct fault_spec {
    fault_kind kind = fault_kind::status;
    int count = 1;
    std::string match;  // "[METHOD ]PATTERN" ('*' or '…' match any run); empty: the kind's default
    int status = 503;
    std::string error_code;          // empty: chosen from the status
    std::optional<int> retry_after;  // seconds, sent as Retry-After
    std::chrono::milliseconds delay{0};
    std::uint64_t bytes = 0;            // truncate: bytes of the body sent before the cut
    bool process = false;               // reset/close/status: let the request take effect first
    std::optional<std::string> job_id;  // job kinds: apply at once to this job instead of matching
    std::optional<int> index;           // job kinds on a create: only the index-th job of the batch
};

// One fault from its JSON object; errors name the field.
result<fault_spec> parse_fault(const boost::json::value& v);
// A JSON object or an array of them.
result<std::vector<fault_spec>> parse_faults(std::string_view json_text);
boost::json::object to_json(const fault_spec& f);

// The match used when a fault has none: downloads for truncate/wrong_hash/expire_link, creates for
// the job kinds, any request otherwise.
std::string_view default_match(fault_kind k);
// True when `match` (or the default) selects this request. PATTERN is matched against the whole
// path (no query); METHOD may be '*'.
bool fault_matches(const fault_spec& f, std::string_view method, std::string_view path);
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace atlas_restored::fake_atlas
