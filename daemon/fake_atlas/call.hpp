#pragma once
// One request on its way through the world (internal to the fake_atlas module).

#include "fake_atlas/world.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::fake_atlas {

enum class route_kind {
    unknown,
    method_not_allowed,
    create_jobs,
    list_jobs,
    get_job,
    list_snapshots,
    get_snapshot,
    list_checkpoints,
    get_checkpoint,
    token,
    revoke,
    download_v2,  // /backup/restore/v2/pull/{jobId}/{fileName} + auth header
    download_v1,  // /backup/restore/v2/pull/{jobId}/{key}/{fileName}
};

struct world::call {
    call(const http::request& r, request_context c, time_point n) : req(r), ctx(c), now(n) {}
    const http::request& req;
    request_context ctx;
    time_point now;
    std::string path;                          // as sent (percent-encoded)
    std::vector<std::string> segments;         // decoded
    std::map<std::string, std::string> query;  // decoded; the first value of a repeated name
    route_kind kind = route_kind::unknown;
    std::string route;  // "GET /api/atlas/v2/groups/{groupId}/…" for the counters and the log
    bool envelope = false;
    bool pretty = false;
    std::optional<fault_spec> fault;
    std::string auth = "none";
    std::optional<std::string> digest_nc;
    std::optional<double> rate_remaining;  // set when the rate limiter let the call through
};

}  // namespace atlas_restored::fake_atlas

namespace atlas_restored::fake_atlas {

// A job's state at `now`, derived from its timeline and fates (nothing ticks).
struct job_view {
    std::string status;           // IN_PROGRESS, FINISHED, BROKEN, KILLED
    std::string delivery_status;  // NOT_STARTED, IN_PROGRESS, READY, FAILED, …
    bool link_issued = false;     // finished with a download link (url, urlV2, authValue, expires)
    time_point expires;
};

job_view view_of(const job_model& j, time_point now, const std::optional<std::chrono::seconds>& link_ttl);

}  // namespace atlas_restored::fake_atlas
