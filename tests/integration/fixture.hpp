#pragma once
// Integration-test fixture: the real `fake-atlas` binary over TLS with a CA it generates, plus a
// configuration file for the real `atlas-restored` binary pointing at it. Everything on 127.0.0.1.

#include "http/message.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace atlas_restored::testing {

inline constexpr const char* test_group_id = "32b6e34b3d91647abb20e7b8";
inline constexpr const char* other_group_id = "5e2211c17a3e5a48f5497de3";
inline constexpr const char* api_public_key = "abcdefgh";
inline constexpr const char* api_private_key = "9f0e6a2c-private-key-SECRET";
inline constexpr const char* sa_client_id = "mdb_sa_id_0123";
inline constexpr const char* sa_client_secret = "mdb_sa_sk_SECRET_0123";

// Generous bound so a broken test fails instead of hanging.
inline constexpr std::chrono::seconds generous_timeout{90};

class fake_atlas_server {
  public:
    // Starts fake-atlas with a fresh CA in dir/tls and the default world (a replica set "rs0" and
    // a 3-shard cluster "sh0" in test_group_id, the test API key and service account), plus `args`.
    fake_atlas_server(const std::filesystem::path& dir, std::vector<std::string> args = {});
    ~fake_atlas_server();

    std::uint16_t port() const { return port_; }
    std::string base_url() const;  // https://127.0.0.1:PORT
    std::filesystem::path ca_file() const;
    std::filesystem::path tls_dir() const { return tls_dir_; }
    process& proc() { return *process_; }

    // The control API (no auth, loopback only).
    boost::json::value counters();
    boost::json::value request_log();
    void add_fault(const std::string& fault_json);
    void reset_counters();

    // One HTTPS exchange verified against the fake's CA.
    result<http::response> send(http::request req);

  private:
    std::filesystem::path tls_dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<process> process_;
};

enum class auth_mode { service_account, api_key };

struct config_options {
    auth_mode auth = auth_mode::service_account;
    std::string policies_yaml;       // appended under `policies:` (each entry starting "  - name:")
    std::string extra_yaml;          // top-level keys appended verbatim
    std::string ca_file;             // default: the fake's CA
    std::uint16_t metrics_port = 0;  // metrics_listen on 127.0.0.1:PORT; 0: metrics_listen off
};

// Writes dir/atlas-restored.yaml and the secret file it names; returns the YAML path.
std::filesystem::path write_config(const std::filesystem::path& dir,
                                   const fake_atlas_server& fake,
                                   const config_options& options = {});

// Runs the real atlas-restored binary with args (no shell) and returns its status and output.
run_result run_atlas_restored(std::vector<std::string> args,
                              std::chrono::milliseconds timeout = generous_timeout,
                              std::map<std::string, std::string> env = {});

// counters()["key"] as an integer, 0 when absent; `key` may be a dotted path ("requests.POST").
std::int64_t counter(const boost::json::value& counters, const std::string& dotted_key);

}  // namespace atlas_restored::testing
