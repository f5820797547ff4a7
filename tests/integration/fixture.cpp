#include "fixture.hpp"

#include "http/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>

namespace atlas_restored::testing {

fake_atlas_server::fake_atlas_server(const std::filesystem::path& dir, std::vector<std::string> args) {
    tls_dir_ = dir / "tls";
    const auto port_file = dir / "fake-atlas.port";
    std::vector<std::string> argv = {FAKE_ATLAS_BIN,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--tls-dir",
                                     tls_dir_.string(),
                                     "--port-file",
                                     port_file.string(),
                                     "--cluster",
                                     std::string(test_group_id) + "/rs0:replicaset",
                                     "--cluster",
                                     std::string(test_group_id) + "/sh0:sharded:3",
                                     "--api-key",
                                     std::string(api_public_key) + ":" + api_private_key,
                                     "--service-account",
                                     std::string(sa_client_id) + ":" + sa_client_secret};
    // A test may have placed its own certificates (e.g. for the wrong host name) in dir/tls.
    if (!std::filesystem::exists(tls_dir_ / "ca.pem")) {
        argv.push_back("--generate-ca");
    }
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<process>(process_options{argv, {}, {}, dir, "fake-atlas"});
    if (!process_->wait_for_output("fake-atlas listening on", std::chrono::seconds(30))) {
        throw std::runtime_error("fake-atlas did not start: " + process_->stderr_text());
    }
    port_ = static_cast<std::uint16_t>(std::stoi(read_file(port_file)));
}

fake_atlas_server::~fake_atlas_server() {
    process_->signal(SIGTERM);
    if (!process_->wait(std::chrono::seconds(5))) {
        process_->kill_now();
    }
}

std::string fake_atlas_server::base_url() const {
    return "https://127.0.0.1:" + std::to_string(port_);
}

std::filesystem::path fake_atlas_server::ca_file() const {
    return tls_dir_ / "ca.pem";
}

result<http::response> fake_atlas_server::send(http::request req) {
    boost::asio::io_context io;
    http::client_options options;
    options.ca_file = ca_file().string();
    auto client = http::https_client::create(io.get_executor(), options);
    if (!client) {
        return client.error();
    }
    result<http::response> answer = make_error(errc::cancelled, "not run");
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            // Named, not a braced temporary: GCC 12 destroys braced temporaries in a co_await
            // expression twice.
            http::origin where{"127.0.0.1", port_};
            answer = co_await client->send(where, req);
        },
        boost::asio::detached);
    io.run_for(std::chrono::seconds(30));
    return answer;
}

boost::json::value fake_atlas_server::counters() {
    http::request req;
    req.target = "/_fake/counters";
    auto answer = send(req);
    if (!answer || answer->status != 200) {
        throw std::runtime_error("GET /_fake/counters failed");
    }
    return boost::json::parse(answer->body);
}

boost::json::value fake_atlas_server::request_log() {
    http::request req;
    req.target = "/_fake/requests";
    auto answer = send(req);
    if (!answer || answer->status != 200) {
        throw std::runtime_error("GET /_fake/requests failed");
    }
    return boost::json::parse(answer->body);
}

void fake_atlas_server::add_fault(const std::string& fault_json) {
    http::request req;
    req.method = "POST";
    req.target = "/_fake/faults";
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = fault_json;
    auto answer = send(req);
    if (!answer || answer->status >= 300) {
        throw std::runtime_error("POST /_fake/faults failed: " +
                                 (answer ? answer->body : to_string(answer.error())));
    }
}

void fake_atlas_server::reset_counters() {
    http::request req;
    req.method = "POST";
    req.target = "/_fake/reset-counters";
    auto answer = send(req);
    if (!answer || answer->status >= 300) {
        throw std::runtime_error("POST /_fake/reset-counters failed");
    }
}

std::filesystem::path write_config(const std::filesystem::path& dir,
                                   const fake_atlas_server& fake,
                                   const config_options& options) {
    std::string auth;
    if (options.auth == auth_mode::service_account) {
        write_file(dir / "client-secret", std::string(sa_client_secret) + "\n");
        auth = "    service_account:\n      client_id: " + std::string(sa_client_id) +
               "\n      client_secret_file: " + (dir / "client-secret").string() + "\n";
    } else {
        write_file(dir / "private-key", std::string(api_private_key) + "\n");
        auth = "    api_key:\n      public_key: " + std::string(api_public_key) +
               "\n      private_key_file: " + (dir / "private-key").string() + "\n";
    }
    const auto ca = options.ca_file.empty() ? fake.ca_file().string() : options.ca_file;
    std::string yaml = "atlas:\n  base_url: " + fake.base_url() + "\n  auth:\n" + auth +
                       "  tls:\n    ca_file: " + ca + "\n  request_timeout: 10s\n" +
                       "retry: { initial: 100ms, multiplier: 2, max: 1s, give_up_after: 30s }\n" +
                       "state_dir: " + (dir / "state").string() + "\n" +
                       "download_dir: " + (dir / "downloads").string() + "\n" + "metrics_listen: " +
                       (options.metrics_port ? "127.0.0.1:" + std::to_string(options.metrics_port) : "off") +
                       "\n" + options.extra_yaml;
    if (!options.policies_yaml.empty()) {
        yaml += "policies:\n" + options.policies_yaml;
    }
    const auto path = dir / "atlas-restored.yaml";
    write_file(path, yaml);
    return path;
}

run_result run_atlas_restored(std::vector<std::string> args,
                              std::chrono::milliseconds timeout,
                              std::map<std::string, std::string> env) {
    args.insert(args.begin(), ATLAS_RESTORED_BIN);
    return run_command(process_options{args, env, {"CREDENTIALS_DIRECTORY"}, {}, "atlas-restored"}, timeout);
}

std::int64_t counter(const boost::json::value& counters, const std::string& dotted_key) {
    const boost::json::value* at = &counters;
    std::size_t start = 0;
    while (start <= dotted_key.size()) {
        const auto dot = dotted_key.find('.', start);
        const auto key = dotted_key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!at->is_object() || !at->as_object().contains(key)) {
            return 0;
        }
        at = &at->as_object().at(key);
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    return at->is_int64() ? at->as_int64() : at->is_uint64() ? static_cast<std::int64_t>(at->as_uint64()) : 0;
}

}  // namespace atlas_restored::testing
