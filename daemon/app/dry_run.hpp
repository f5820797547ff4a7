#pragma once
// `run-now --dry-run POLICY` (SPEC §3): what a run of the policy would send, without the daemon and
// without sending anything that changes Atlas: the policy is validated, `latest_snapshot` resolved
// through the snapshots call (which also proves the credentials and the cluster), the pre-flight
// applied (restore point rules, room in download_dir), and the exact create request printed.

#include "config/config.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace atlas_restored::app {

// The document printed on stdout: {"dry_run":true,"policy":…,"request":{"method","url","headers",
// "body"},"snapshot_id","snapshot_time","expected_bytes","download_dir_free_bytes"}.
struct dry_run_facts {
    std::string policy;
    std::string method;
    std::string url;
    boost::json::object headers;
    boost::json::value body;
    std::optional<std::string> snapshot_id;
    std::optional<std::string> snapshot_time;
    std::uint64_t expected_bytes = 0;
    std::optional<std::uint64_t> free_bytes;  // when the delivery downloads
};
boost::json::object dry_run_document(const dry_run_facts& facts);

// 0: the pre-flight passed (the request is printed); 1: the policy is unknown, the pre-flight
// failed ("preflight_failed: …" on err) or Atlas could not be reached.
int run_dry_run(const config::configuration& configuration,
                const std::string& policy_name,
                std::ostream& out,
                std::ostream& err);

}  // namespace atlas_restored::app
