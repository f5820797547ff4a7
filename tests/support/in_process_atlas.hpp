#pragma once
// The base fixture of the unit tests that need Atlas (the downloader's, the run engine's): the
// real fake Atlas world behind the real HTTPS server on 127.0.0.1, in this process, with a CA
// made for the test; the real HTTPS client and Atlas client in front of it; a state store in a
// temp dir. Everything runs on one io_context that the test drives for a bounded time.
//
// Header-only: it is compiled into the programs that use it, which link ar_fake_atlas through
// the test_in_process_atlas library (tests/CMakeLists.txt).

#include "atlas/client.hpp"
#include "fake_atlas/world.hpp"
#include "http/client.hpp"
#include "http/pki.hpp"
#include "http/server.hpp"
#include "state/store.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace atlas_restored::testing {

// The one organisation of the in-process fake: a project and a service account.
inline constexpr const char* group_id = "32b6e34b3d91647abb20e7b8";
inline constexpr const char* sa_id = "mdb_sa_id_1";
inline constexpr const char* sa_secret = "sa-secret-1";

class in_process_atlas_test : public ::testing::Test {
  protected:
    explicit in_process_atlas_test(const std::string& dir_name) : dir{dir_name} {}

    temp_dir dir;
    boost::asio::io_context io;
    std::unique_ptr<fake_atlas::world> world;
    std::unique_ptr<http::server> server;
    std::uint16_t port = 0;
    std::optional<http::https_client> transport;
    std::optional<atlas::client> api;
    std::optional<state::store> store;

    // What the fake knows (clusters, accounts, job timing, file size).
    virtual fake_atlas::world_options world_options() = 0;
    // The fake's clock: its time at start and for each request.
    virtual fake_atlas::time_point fake_time() = 0;
    // Sees every request before the fake does.
    virtual void on_request(const http::request&) {}

    void SetUp() override {
        const auto tls = dir / "tls";
        ASSERT_TRUE(http::generate_ca(tls, "in-process Atlas test CA"));
        ASSERT_TRUE(http::issue_certificate(
            tls, tls / "server.pem", tls / "server-key.pem", {"localhost", "127.0.0.1"}));
        world = std::make_unique<fake_atlas::world>(world_options(), fake_time());
        server = start_server(tls / "server.pem", tls / "server-key.pem");
        ASSERT_TRUE(server);
        port = server->port();
        world->set_base_url("https://127.0.0.1:" + std::to_string(port));

        http::client_options co;
        co.ca_file = (tls / "ca.pem").string();
        co.connect_timeout = std::chrono::seconds(5);
        co.request_timeout = std::chrono::seconds(5);
        auto created = http::https_client::create(io.get_executor(), co);
        ASSERT_TRUE(created) << created.error().message;
        transport.emplace(*created);

        atlas::client_settings cs;
        cs.api = http::origin{"127.0.0.1", port};
        cs.auth = atlas::credentials{atlas::credentials::kind::service_account, sa_id, sa_secret};
        cs.retry.initial = std::chrono::milliseconds(10);
        cs.retry.max = std::chrono::milliseconds(50);
        cs.retry.max_attempts = 3;
        api.emplace(*transport, cs);

        auto opened = state::store::open(dir / "state");
        ASSERT_TRUE(opened) << opened.error().message;
        store.emplace(std::move(*opened));
    }

    void TearDown() override {
        if (server) {
            server->stop();
        }
        io.restart();
        io.run_for(std::chrono::milliseconds(100));  // let closed connections and cancelled coroutines finish
    }

    // Another HTTPS server in front of the same fake world (a second host, another certificate).
    std::unique_ptr<http::server> start_server(const std::filesystem::path& cert,
                                               const std::filesystem::path& key) {
        http::server_options so;
        so.cert_file = cert.string();
        so.key_file = key.string();
        http::handler handle = [this](http::request req,
                                      http::connection_info info) -> boost::asio::awaitable<http::reply> {
            on_request(req);
            co_return world->handle(req, {info.connection_id, info.request_index}, fake_time());
        };
        auto started = http::server::start(io.get_executor(), so, handle);
        EXPECT_TRUE(started) << started.error().message;
        return started ? std::move(*started) : nullptr;
    }
};

}  // namespace atlas_restored::testing
