#pragma once
// fake-atlas settings: what the world simulates (world_options) and how the program runs
// (program_options), read from the command line and an optional YAML/JSON file. Pure parsing: no
// files are touched except the one --config names.

#include "fake_atlas/faults.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::fake_atlas {

inline constexpr const char* default_org = "default";

struct cluster_spec {
    std::string org = default_org;
    std::string group_id;
    std::string name;
    int shards = 0;  // 0: a replica set; N: a sharded cluster with N shards (N+1 jobs per create)
};

// An API key (id = public key, secret = private key) or a service account (client id, secret).
struct credential_spec {
    std::string org = default_org;
    std::string id;
    std::string secret;
};

struct rate_limit_spec {
    int capacity = 0;
    double refill_per_minute = 0;
};

struct world_options {
    std::vector<cluster_spec> clusters;
    std::vector<credential_spec> api_keys;
    std::vector<credential_spec> service_accounts;
    bool no_auth = false;  // accept API calls without credentials (only when none are configured)
    std::chrono::milliseconds job_duration{3000};  // create -> FINISHED / READY
    std::uint64_t file_bytes = 1024 * 1024;        // size of every restore file
    std::optional<std::chrono::seconds> link_ttl;  // overrides expirationHours for `expires`
    std::chrono::seconds nonce_ttl{300};
    std::chrono::seconds token_ttl{3600};
    int max_tokens_per_account = 100;
    int token_requests_per_minute = 50;
    std::optional<rate_limit_spec> rate_limit;  // per group; off by default
    std::string api_version = "2023-01-01";
    std::string download_auth_header = "X-Atlas-Restore-Key";
    int snapshots_per_cluster = 3;
    std::size_t request_log_limit = 10000;
    std::vector<fault_spec> faults;              // queued at start
    std::string base_url = "https://127.0.0.1";  // links and download URLs point here
    // Source of randomness for ids and secrets; empty: a fixed-seed generator (deterministic tests).
    std::function<void(std::span<unsigned char>)> random;
};

struct program_options {
    world_options world;
    std::string listen = "127.0.0.1:0";
    std::string tls_dir;
    bool generate_ca = false;
    std::optional<std::string> port_file;
    std::optional<std::string> public_host;  // host name in links; default: the listen address
    bool verbose = false;
    double speed = 1.0;  // divides job_duration, applied once everything is read
    bool help = false;
    bool version = false;
};

// "GROUPID/NAME:replicaset" or "GROUPID/NAME:sharded:N".
result<cluster_spec> parse_cluster(std::string_view text, const std::string& org);
// "ID:SECRET" (the secret may contain ':').
result<credential_spec> parse_credential(std::string_view text,
                                         const std::string& org,
                                         std::string_view what);
// "1048576", "64KiB", "1M", "2GiB" (K/M/G are binary multiples).
result<std::uint64_t> parse_size(std::string_view text);
// "3", "0.5", "250ms", "3s", "5m".
result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The arguments after argv[0], in order: --org NAME applies to the --cluster, --api-key and
// --service-account options after it; --config FILE is read where it appears, so later options
// override it.
result<program_options> parse_command_line(const std::vector<std::string>& args);
// Merges a YAML (or JSON) file into `into`.
result<void> load_config_file(const std::string& path, program_options& into);
// Checks the combination (ids, names, duplicates, an org per group, credentials or --no-auth).
result<void> validate(const world_options& w);

std::string usage();

}  // namespace atlas_restored::fake_atlas
