// client_options::on_response: every send that reached the network reports exactly one status, the
// final answer's or 0 when none arrived, so the metrics count each exchange once.

#include "http/client.hpp"
#include "http/pki.hpp"
#include "http/server.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace atlas_restored::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto test_guard = 10s;  // a broken test fails after this instead of hanging

class refusing_sink : public body_sink {
  public:
    result<void> on_head(const response& head) override {
        return make_error(errc::http_status, "refused status " + std::to_string(head.status));
    }
    result<void> on_data(std::span<const char>) override { return {}; }
};

class client_hook_test : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto& d = pki_.path();
        ASSERT_TRUE(generate_ca(d / "ca", "hook test CA"));
        ASSERT_TRUE(issue_certificate(d / "ca", d / "cert.pem", d / "key.pem", {"127.0.0.1"}));
        server_options options;
        options.cert_file = (d / "cert.pem").string();
        options.key_file = (d / "key.pem").string();
        auto s = server::start(
            io_.get_executor(), options, [](request req, connection_info) -> asio::awaitable<reply> {
                reply r;
                if (req.target == "/missing") {
                    r.status = 404;
                } else if (req.target == "/busy") {
                    r.status = 503;
                    r.body = "busy";
                } else if (req.target == "/reset") {
                    r.inject = fault::reset;
                } else if (req.target == "/cut") {
                    r.body = std::string(1000, 'x');
                    r.inject = fault::truncate_body;
                    r.truncate_after = 10;
                }
                co_return r;
            });
        ASSERT_TRUE(s) << s.error().message;
        server_ = std::move(*s);
        client_options copts;
        copts.ca_file = (d / "ca/ca.pem").string();
        copts.on_response = [this](int status) { statuses_.push_back(status); };
        auto c = https_client::create(io_.get_executor(), copts);
        ASSERT_TRUE(c) << c.error().message;
        client_.emplace(std::move(*c));
    }

    result<response> run(asio::awaitable<result<response>> task) {
        std::optional<result<response>> out;
        asio::co_spawn(io_, std::move(task), [&](std::exception_ptr e, result<response> r) {
            if (e) {
                std::rethrow_exception(e);
            }
            out.emplace(std::move(r));
            io_.stop();
        });
        io_.restart();
        io_.run_for(test_guard);
        if (!out) {
            throw std::runtime_error("send did not finish within the guard time");
        }
        return std::move(*out);
    }

    result<response> get(std::string target, std::uint16_t port = 0) {
        request req;
        req.target = std::move(target);
        return run(client_->send(origin{"127.0.0.1", port ? port : server_->port()}, req));
    }

    asio::io_context io_;
    testing::temp_dir pki_{"client-hook"};
    std::unique_ptr<server> server_;
    std::optional<https_client> client_;
    std::vector<int> statuses_;
};

TEST_F(client_hook_test, every_answer_is_reported_once_with_its_status) {
    EXPECT_TRUE(get("/ok"));
    EXPECT_TRUE(get("/missing"));  // a 404 is an answer, not a client error
    EXPECT_TRUE(get("/busy"));
    EXPECT_TRUE(get("/ok"));  // on the kept-alive connection
    EXPECT_EQ(statuses_, (std::vector<int>{200, 404, 503, 200}));
}

TEST_F(client_hook_test, failures_without_a_status_report_zero) {
    std::uint16_t closed_port = 0;
    {
        asio::ip::tcp::acceptor probe(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        closed_port = probe.local_endpoint().port();
    }
    EXPECT_FALSE(get("/ok", closed_port));  // connect refused
    EXPECT_FALSE(get("/reset"));            // request sent, connection reset, no status line
    EXPECT_EQ(statuses_, (std::vector<int>{0, 0}));
}

TEST_F(client_hook_test, a_cut_body_still_counts_the_status_that_arrived) {
    EXPECT_FALSE(get("/cut"));
    EXPECT_EQ(statuses_, (std::vector<int>{200}));
}

TEST_F(client_hook_test, streaming_reports_the_status_even_when_the_sink_refuses_it) {
    request req;
    req.target = "/busy";
    auto r = run(client_->send_streaming(
        origin{"127.0.0.1", server_->port()}, req, std::make_shared<refusing_sink>()));
    ASSERT_FALSE(r);
    EXPECT_EQ(statuses_, (std::vector<int>{503}));
}

TEST_F(client_hook_test, a_request_refused_before_sending_is_not_counted) {
    request req;
    req.method = "GET";
    req.target = "no-leading-slash\r\ninjected";
    auto r = run(client_->send(origin{"127.0.0.1", server_->port()}, req));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    EXPECT_TRUE(statuses_.empty());
}

}  // namespace
}  // namespace atlas_restored::http
