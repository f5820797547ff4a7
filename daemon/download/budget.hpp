#pragma once
// Whether one more download attempt may be spent (SPEC §4 Deliveries): every GET of a delivery URL
// may count against maxDownloads, and a link stops working at `expires`. Pure: the caller passes
// what it knows and `now`, and gets a verdict with a SPEC §3 reason code.

#include "atlas/types.hpp"
#include "util/time.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::download {

// The failure reason codes of SPEC §3 that downloads produce (a failed run's error starts with one).
namespace reason {
inline constexpr const char* preflight_failed = "preflight_failed";
inline constexpr const char* delivery_failed = "delivery_failed";
inline constexpr const char* delivery_interrupted = "delivery_interrupted";
inline constexpr const char* link_expired = "link_expired";
inline constexpr const char* download_budget_exhausted = "download_budget_exhausted";
inline constexpr const char* sha1_mismatch = "sha1_mismatch";
inline constexpr const char* disk_full = "disk_full";
inline constexpr const char* after_download_failed = "after_download_failed";
}  // namespace reason

struct budget_input {
    sys_time now;
    std::optional<sys_time> expires;               // delivery.expires
    std::optional<std::chrono::seconds> lifetime;  // the link's whole life, see link_lifetime()
    std::optional<std::int32_t> max_downloads;     // delivery.maxDownloads; unset: no limit known
    int attempts_counted = 0;                      // GETs counted durably so far (all processes)
    // Of those, attempts known not to have reached the server (the connection failed before the
    // request was written): Atlas cannot have counted them.
    int attempts_not_sent = 0;
    std::uint64_t bytes_remaining = 0;
    std::optional<double> bytes_per_second;  // measured on an earlier attempt, if any
    bool last_attempt_mismatched = false;    // the previous complete file failed verification
    // A link that expires within this margin is treated as expired: the GET would race it.
    std::chrono::seconds expiry_margin{30};
};

struct budget_decision {
    bool go = true;
    std::string reason;          // SPEC reason code when !go
    std::string message;         // a sentence when !go, or a note when the attempt is unlikely to finish
    bool warn_expiring = false;  // see should_warn_expiring()
    std::optional<std::chrono::seconds> estimated_duration;
};

// go, or fail with download_budget_exhausted (sha1_mismatch when the last complete file failed
// verification) when the attempts are spent, or link_expired when the link has expired or expires
// within expiry_margin. A link that will probably expire before the attempt finishes at the
// measured rate is still tried (it may only need to be valid when the GET starts), with a note.
budget_decision decide_attempt(const budget_input& in);

// True when less than a quarter of the link's life remains (and it has not expired), so an
// operator can still react. Without a known lifetime: within 1 hour of expiry.
bool should_warn_expiring(sys_time now, sys_time expires, std::optional<std::chrono::seconds> lifetime);

// The link's life: expirationHours when Atlas reports it (it counts from the job's completion),
// otherwise expires − created.
std::optional<std::chrono::seconds> link_lifetime(const atlas::delivery& d, std::optional<sys_time> created);

// The reason a delivery status ends a download with, or nullopt for statuses that do not (READY,
// and the waiting ones): FAILED → delivery_failed, INTERRUPTED → delivery_interrupted, EXPIRED →
// link_expired, MAX_DOWNLOADS_EXCEEDED → download_budget_exhausted (sha1_mismatch when the last
// complete file failed verification).
std::optional<std::string> reason_for_delivery_status(std::string_view status, bool last_attempt_mismatched);

// Full-jitter backoff: a uniform share (random01 in [0,1)) of min(cap, initial · 2^failures).
std::chrono::milliseconds retry_delay(int failures,
                                      std::chrono::milliseconds initial,
                                      std::chrono::milliseconds cap,
                                      double random01);

}  // namespace atlas_restored::download
