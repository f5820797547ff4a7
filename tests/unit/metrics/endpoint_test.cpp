// /metrics and /healthz over a real plain-HTTP server on 127.0.0.1, scraped with Beast.

#include "metrics/endpoint.hpp"

#include "metrics/prometheus.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace atlas_restored::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using namespace std::chrono_literals;

constexpr auto test_guard = 10s;  // a broken test fails after this instead of hanging

struct answer {
    int status = 0;
    std::string content_type;
    std::string allow;
    std::string body;
};

asio::awaitable<answer> get(std::uint16_t port, std::string method, std::string target) {
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream stream(ex);
    stream.expires_after(5s);
    co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                  asio::use_awaitable);
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    co_await bhttp::async_write(stream, req, asio::use_awaitable);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    co_await bhttp::async_read(stream, buffer, res, asio::use_awaitable);
    co_return answer{static_cast<int>(res.result_int()),
                     std::string(res[bhttp::field::content_type]),
                     std::string(res[bhttp::field::allow]),
                     res.body()};
}

answer fetch(asio::io_context& io, std::uint16_t port, std::string target, std::string method = "GET") {
    std::optional<answer> out;
    std::exception_ptr failure;
    asio::co_spawn(io, get(port, std::move(method), std::move(target)), [&](std::exception_ptr e, answer a) {
        failure = e;
        out = std::move(a);
        io.stop();
    });
    io.restart();
    io.run_for(test_guard);
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!out) {
        throw std::runtime_error("no answer within the guard time");
    }
    return *out;
}

TEST(MetricsEndpoint, ServesTheRecorderAndHealthOverLoopback) {
    asio::io_context io;
    prometheus_recorder recorder;
    std::optional<std::string> problem;
    auto ep = endpoint::start(
        io.get_executor(), "127.0.0.1:0", [&] { return recorder.render(); }, [&] { return problem; });
    ASSERT_TRUE(ep) << ep.error().message;
    const std::uint16_t port = (*ep)->port();
    ASSERT_NE(port, 0);

    recorder.run_finished("orders-weekly-drill", "succeeded", 600s);
    recorder.http_response(503);
    auto metrics = fetch(io, port, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(metrics.body.find("# TYPE atlas_restored_runs_total counter\n"), std::string::npos);
    EXPECT_NE(metrics.body.find(
                  "\natlas_restored_runs_total{policy=\"orders-weekly-drill\",outcome=\"succeeded\"} 1\n"),
              std::string::npos);
    EXPECT_NE(metrics.body.find("\natlas_restored_http_requests_total{code_class=\"5xx\"} 1\n"),
              std::string::npos);
    EXPECT_EQ(metrics.body, recorder.render());

    // A later scrape sees later values: nothing is cached.
    recorder.retry();
    EXPECT_NE(fetch(io, port, "/metrics?x=1").body.find("\natlas_restored_retries_total 1\n"),
              std::string::npos);

    auto healthy = fetch(io, port, "/healthz");
    EXPECT_EQ(healthy.status, 200);
    EXPECT_EQ(healthy.body, "ok\n");

    problem = "the event loop has not run for 42s";
    auto sick = fetch(io, port, "/healthz");
    EXPECT_EQ(sick.status, 503);
    EXPECT_EQ(sick.body, "the event loop has not run for 42s\n");

    problem.reset();
    EXPECT_EQ(fetch(io, port, "/healthz").status, 200);

    EXPECT_EQ(fetch(io, port, "/").status, 404);
    auto post = fetch(io, port, "/metrics", "POST");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.allow, "GET, HEAD");
}

TEST(MetricsEndpoint, OnItsOwnThreadHealthAnswersWhileTheDaemonLoopIsStuck) {
    prometheus_recorder recorder;
    // The daemon's loop is blocked (never run here); its heartbeat is read atomically.
    std::atomic<bool> loop_stuck{false};
    auto ep = endpoint::start_threaded(
        "127.0.0.1:0",
        [&] { return recorder.render(); },
        [&]() -> std::optional<std::string> {
            if (loop_stuck) {
                return "event loop stalled for 12s";
            }
            return std::nullopt;
        });
    ASSERT_TRUE(ep) << ep.error().message;
    asio::io_context client;  // the prober, separate from everything else
    const auto port = (*ep)->port();
    EXPECT_EQ(fetch(client, port, "/healthz").status, 200);
    loop_stuck = true;
    auto sick = fetch(client, port, "/healthz");
    EXPECT_EQ(sick.status, 503);
    EXPECT_EQ(sick.body, "event loop stalled for 12s\n");
    recorder.retry();  // recorded on this thread, scraped on the endpoint's
    EXPECT_NE(fetch(client, port, "/metrics").body.find("\natlas_restored_retries_total 1\n"),
              std::string::npos);

    (*ep)->stop();  // returns once its thread has ended; the port is closed
    EXPECT_THROW(fetch(client, port, "/healthz"), boost::system::system_error);
}

TEST(MetricsEndpoint, OnItsOwnThreadABusyPortIsReportedAtStart) {
    auto first = endpoint::start_threaded(
        "127.0.0.1:0", [] { return std::string(); }, [] { return std::optional<std::string>(); });
    ASSERT_TRUE(first);
    auto second = endpoint::start_threaded(
        "127.0.0.1:" + std::to_string((*first)->port()),
        [] { return std::string(); },
        [] { return std::optional<std::string>(); });
    EXPECT_FALSE(second);
}

TEST(MetricsEndpoint, AThrowingHealthCheckIsUnhealthyNotACrash) {
    const auto reply = handle_request(
        http::request{.method = "GET", .target = "/healthz"},
        [] { return std::string(); },
        []() -> std::optional<std::string> { throw std::runtime_error("state database locked"); });
    EXPECT_EQ(reply.status, 503);
    EXPECT_EQ(reply.body, "the health check failed: state database locked\n");
}

TEST(MetricsEndpoint, RefusesABusyPortNamingTheAddress) {
    asio::io_context io;
    auto first = endpoint::start(
        io.get_executor(),
        "127.0.0.1:0",
        [] { return std::string(); },
        [] { return std::optional<std::string>(); });
    ASSERT_TRUE(first);
    const std::string busy = "127.0.0.1:" + std::to_string((*first)->port());
    auto second = endpoint::start(
        io.get_executor(), busy, [] { return std::string(); }, [] { return std::optional<std::string>(); });
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find(busy), std::string::npos) << second.error().message;
}

TEST(MetricsEndpoint, ParsesListenAddresses) {
    auto v4 = parse_listen("127.0.0.1:9464");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->address, "127.0.0.1");
    EXPECT_EQ(v4->port, 9464);
    auto v6 = parse_listen("[::1]:9464");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->address, "::1");
    auto local = parse_listen("localhost:1");
    ASSERT_TRUE(local);
    EXPECT_EQ(local->address, "127.0.0.1");
    auto any = parse_listen("0.0.0.0:0");
    ASSERT_TRUE(any);
    EXPECT_EQ(any->port, 0);

    for (const char* bad :
         {"9464", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:94x", "::1:9464", "metrics.host:9464", ""}) {
        auto r = parse_listen(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, errc::invalid_input);
        }
    }
}

}  // namespace
}  // namespace atlas_restored::metrics
