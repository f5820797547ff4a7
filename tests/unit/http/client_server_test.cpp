// The HTTPS client against the HTTP server over real TLS on 127.0.0.1, with certificates from the
// test PKI. Every test runs its io_context for a bounded time.

#include "http/client.hpp"
#include "http/pki.hpp"
#include "http/server.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <memory>

namespace atlas_restored::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A broken test fails after this instead of hanging; expected timeouts are much shorter.
constexpr auto test_guard = 10s;
constexpr auto short_timeout = 300ms;

// Runs one coroutine to completion on io (other work, like the server, keeps running alongside).
template <class T>
T run(asio::io_context& io, asio::awaitable<T> task, std::chrono::seconds guard = test_guard) {
    std::optional<T> out;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        failure = e;
        out.emplace(std::move(value));
        io.stop();
    });
    io.restart();
    io.run_for(guard);
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!out) {
        throw std::runtime_error("test coroutine did not finish within the guard time");
    }
    return std::move(*out);
}

// Deterministic body bytes, so both sides can produce them without holding them: a pseudo-random
// pattern whose prime length never lines up with buffer sizes.
const std::vector<char>& body_pattern() {
    static const std::vector<char> pattern = [] {
        std::vector<char> p(1'000'003);
        std::uint32_t x = 2463534242u;
        for (auto& c : p) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            c = static_cast<char>(x);
        }
        return p;
    }();
    return pattern;
}

void fill_body(std::uint64_t offset, std::span<char> out) {
    const auto& pattern = body_pattern();
    std::size_t done = 0;
    while (done < out.size()) {
        const std::size_t at = static_cast<std::size_t>((offset + done) % pattern.size());
        const std::size_t n = std::min(out.size() - done, pattern.size() - at);
        std::memcpy(out.data() + done, pattern.data() + at, n);
        done += n;
    }
}

class sha1 {
  public:
    sha1() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha1(), nullptr); }
    void update(std::span<const char> bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }
    std::string hex() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int size = 0;
        EVP_DigestFinal_ex(ctx_.get(), digest, &size);
        std::string out;
        for (unsigned i = 0; i < size; ++i) {
            static constexpr char digits[] = "0123456789abcdef";
            out += digits[digest[i] >> 4];
            out += digits[digest[i] & 15];
        }
        return out;
    }

  private:
    struct free_ctx {
        void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
    };
    std::unique_ptr<EVP_MD_CTX, free_ctx> ctx_;
};

class counting_sink : public body_sink {
  public:
    result<void> on_head(const response& head) override {
        ++heads;
        status = head.status;
        data_before_head = bytes != 0;
        return {};
    }
    result<void> on_data(std::span<const char> chunk) override {
        bytes += chunk.size();
        ++chunks;
        largest_chunk = std::max(largest_chunk, chunk.size());
        hash.update(chunk);
        return {};
    }
    int heads = 0;
    int status = 0;
    bool data_before_head = false;
    std::uint64_t bytes = 0;
    std::uint64_t chunks = 0;
    std::size_t largest_chunk = 0;
    sha1 hash;
};

class http_test : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        pki_ = new testing::temp_dir("http-test");
        const auto& d = pki_->path();
        ASSERT_TRUE(generate_ca(d / "ca", "atlas-restored test CA"));
        ASSERT_TRUE(
            issue_certificate(d / "ca", d / "good.pem", d / "good-key.pem", {"localhost", "127.0.0.1"}));
        ASSERT_TRUE(issue_certificate(d / "ca", d / "wrong.pem", d / "wrong-key.pem", {"wrong.example"}));
        ASSERT_TRUE(generate_ca(d / "other-ca", "untrusted CA"));
        ASSERT_TRUE(issue_certificate(
            d / "other-ca", d / "untrusted.pem", d / "untrusted-key.pem", {"localhost", "127.0.0.1"}));
    }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }
    static std::filesystem::path pki(const std::string& name) { return pki_->path() / name; }

    std::unique_ptr<server> start_server(handler h,
                                         const std::string& cert = "good",
                                         server_options options = {}) {
        if (!cert.empty()) {
            options.cert_file = pki(cert + ".pem").string();
            options.key_file = pki(cert + "-key.pem").string();
        }
        auto s = server::start(io.get_executor(), options, std::move(h));
        if (!s) {
            throw std::runtime_error("server start failed: " + s.error().message);
        }
        return std::move(*s);
    }

    https_client make_client(client_options options = {}) {
        if (!options.ca_file) {
            options.ca_file = pki("ca/ca.pem").string();
        }
        auto c = https_client::create(io.get_executor(), options);
        if (!c) {
            throw std::runtime_error("client create failed: " + c.error().message);
        }
        return std::move(*c);
    }

    static handler fixed(reply r) {
        return [r](request, connection_info) -> asio::awaitable<reply> { co_return r; };
    }

    static request get(std::string target = "/") {
        request r;
        r.target = std::move(target);
        return r;
    }

    asio::io_context io;  // declared before anything that uses it, so it is destroyed last

  private:
    static testing::temp_dir* pki_;
};

testing::temp_dir* http_test::pki_ = nullptr;

TEST_F(http_test, hundred_sequential_gets_share_one_connection) {
    std::vector<request> seen;
    auto srv = start_server([&](request req, connection_info info) -> asio::awaitable<reply> {
        seen.push_back(req);
        reply r;
        r.body = "reply " + std::to_string(info.connection_id) + "/" + std::to_string(info.request_index);
        co_return r;
    });
    auto client = make_client();
    const origin where{"127.0.0.1", srv->port()};

    auto bodies = run(io, [&]() -> asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> out;
        for (int i = 0; i < 100; ++i) {
            auto r = co_await client.send(where, get("/n/" + std::to_string(i)));
            out.push_back(r ? std::to_string(r->status) + " " + r->body : "error: " + r.error().message);
        }
        co_return out;
    }());

    ASSERT_EQ(bodies.size(), 100u);
    EXPECT_EQ(bodies.front(), "200 reply 1/1");
    EXPECT_EQ(bodies.back(), "200 reply 1/100");
    EXPECT_EQ(srv->stats().connections_accepted, 1u);
    EXPECT_EQ(srv->stats().requests, 100u);
    EXPECT_EQ(client.stats().connections_opened, 1u);
    EXPECT_EQ(client.stats().requests, 100u);

    ASSERT_EQ(seen.size(), 100u);
    EXPECT_EQ(seen[7].target, "/n/7");
    EXPECT_EQ(find_header(seen[0].headers, "Host"), "127.0.0.1:" + std::to_string(srv->port()));
    EXPECT_EQ(find_header(seen[0].headers, "User-Agent"), "atlas-restored");
}

// Twenty API calls at once to one origin share a few connections instead of twenty handshakes;
// without the limit each opens its own.
TEST_F(http_test, concurrent_buffered_calls_wait_for_one_of_a_few_connections) {
    reply slow;
    slow.body = "ok";
    slow.delay = 50ms;
    auto srv = start_server(fixed(slow));
    const origin where{"127.0.0.1", srv->port()};
    const auto twenty_at_once = [&](https_client& client) {
        int ok = 0;
        int done = 0;
        for (int i = 0; i < 20; ++i) {
            asio::co_spawn(
                io, client.send(where, get("/n/" + std::to_string(i))), [&](std::exception_ptr, auto r) {
                    ok += r && r->status == 200 ? 1 : 0;
                    ++done;
                });
        }
        for (int round = 0; round < 300 && done < 20; ++round) {
            io.restart();
            io.run_for(50ms);
        }
        return ok;
    };
    client_options limited;
    limited.max_buffered_per_origin = 3;
    auto client = make_client(limited);
    EXPECT_EQ(twenty_at_once(client), 20);
    EXPECT_LE(client.stats().connections_opened, 3u);
    EXPECT_EQ(client.stats().requests, 20u);

    client_options unlimited;
    unlimited.max_buffered_per_origin = 0;
    auto naive = make_client(unlimited);
    EXPECT_EQ(twenty_at_once(naive), 20);
    EXPECT_GT(naive.stats().connections_opened, 3u);
}

TEST_F(http_test, localhost_by_name_and_post_bodies) {
    std::string got_body;
    std::optional<std::string> got_length;
    auto srv = start_server([&](request req, connection_info) -> asio::awaitable<reply> {
        got_body = req.body;
        got_length = find_header(req.headers, "content-length");
        reply r;
        r.status = 201;
        r.headers.push_back({"X-Echo", req.method});
        co_return r;
    });
    auto client = make_client();
    request post;
    post.method = "POST";
    post.target = "/jobs";
    post.body = R"({"a":1})";
    post.headers.push_back({"Content-Type", "application/json"});
    post.headers.push_back({"Content-Length", "999"});  // the client owns framing headers
    auto r = run(io, client.send(origin{"localhost", srv->port()}, post));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(find_header(r->headers, "x-echo"), "POST");
    EXPECT_EQ(got_body, R"({"a":1})");
    EXPECT_EQ(got_length, "7");
}

TEST_F(http_test, wrong_host_certificate_is_refused_before_any_request) {
    int handled = 0;
    auto srv = start_server(
        [&](request, connection_info) -> asio::awaitable<reply> {
            ++handled;
            co_return reply{};
        },
        "wrong");
    auto client = make_client();
    for (const std::string host : {"127.0.0.1", "localhost"}) {
        const origin where{host, srv->port()};
        auto r = run(io, client.send(where, get()));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, errc::tls_failed);
        EXPECT_FALSE(r.error().request_sent);
        EXPECT_NE(r.error().message.find(to_string(where)), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find("mismatch"), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(handled, 0);
    EXPECT_EQ(srv->stats().requests, 0u);
}

TEST_F(http_test, untrusted_ca_is_refused) {
    auto srv = start_server(fixed(reply{}), "untrusted");
    auto client = make_client();
    const origin where{"127.0.0.1", srv->port()};
    auto r = run(io, client.send(where, get()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::tls_failed);
    EXPECT_EQ(r.error().message,
              "TLS verification of " + to_string(where) +
                  " failed: certificate verify failed (unable to get local issuer certificate)");
    EXPECT_EQ(srv->stats().requests, 0u);
}

TEST_F(http_test, system_trust_store_does_not_trust_the_test_ca) {
    auto srv = start_server(fixed(reply{}));
    auto client = https_client::create(io.get_executor(), client_options{});
    ASSERT_TRUE(client);
    auto r = run(io, client->send(origin{"127.0.0.1", srv->port()}, get()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::tls_failed);
}

TEST_F(http_test, unreadable_ca_file_fails_create) {
    client_options options;
    options.ca_file = pki("does-not-exist.pem").string();
    auto c = https_client::create(io.get_executor(), options);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, errc::io_failed);
}

TEST_F(http_test, buffered_body_over_limit_is_bad_response) {
    reply big;
    big.body = std::string(5000, 'x');
    auto srv = start_server(fixed(big));
    client_options options;
    options.body_limit = 4096;
    auto client = make_client(options);
    auto r = run(io, client.send(origin{"127.0.0.1", srv->port()}, get()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_response);

    big.body.resize(4096);
    auto srv2 = start_server(fixed(big));
    auto ok = run(io, client.send(origin{"127.0.0.1", srv2->port()}, get()));
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->body.size(), 4096u);
}

TEST_F(http_test, server_delay_longer_than_request_timeout_times_out) {
    reply slow;
    slow.delay = 5s;
    auto srv = start_server(fixed(slow));
    auto client = make_client();
    request req = get();
    req.timeout = short_timeout;
    const auto started = std::chrono::steady_clock::now();
    auto r = run(io, client.send(origin{"127.0.0.1", srv->port()}, req));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::timeout);
    EXPECT_TRUE(r.error().request_sent);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(http_test, close_without_reply_on_post_is_connection_lost_and_not_retried) {
    int posts = 0;
    auto srv = start_server([&](request req, connection_info) -> asio::awaitable<reply> {
        reply r;
        if (req.method == "POST") {
            ++posts;
            r.inject = fault::close_without_reply;
        }
        co_return r;
    });
    auto client = make_client();
    const origin where{"127.0.0.1", srv->port()};
    request post = get("/restoreJobs");
    post.method = "POST";
    post.body = "{}";

    // Once on a fresh connection, once on a reused one: neither may be repeated.
    auto fresh = run(io, client.send(where, post));
    ASSERT_FALSE(fresh);
    EXPECT_EQ(fresh.error().code, errc::connection_lost);
    EXPECT_TRUE(fresh.error().request_sent);

    ASSERT_TRUE(run(io, client.send(where, get())));
    auto reused = run(io, client.send(where, post));
    ASSERT_FALSE(reused);
    EXPECT_EQ(reused.error().code, errc::connection_lost);
    EXPECT_TRUE(reused.error().request_sent);
    EXPECT_EQ(posts, 2);
}

TEST_F(http_test, get_on_a_reused_connection_that_dies_is_retried_once_on_a_new_one) {
    auto srv = start_server([&](request, connection_info info) -> asio::awaitable<reply> {
        reply r;
        r.body = std::to_string(info.connection_id);
        // The second request on a connection finds it dead, as if the server had timed it out.
        if (info.request_index == 2) {
            r.inject = fault::close_without_reply;
        }
        co_return r;
    });
    auto client = make_client();
    const origin where{"127.0.0.1", srv->port()};
    auto first = run(io, client.send(where, get()));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->body, "1");
    auto second = run(io, client.send(where, get()));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->body, "2");
    EXPECT_EQ(client.stats().connections_opened, 2u);
    EXPECT_EQ(client.stats().requests, 2u);
    EXPECT_EQ(srv->stats().requests, 3u);
}

TEST_F(http_test, idle_connection_closed_by_the_server_is_not_reused) {
    server_options options;
    options.idle_timeout = 200ms;
    auto srv = start_server(fixed(reply{}), "good", options);
    auto client = make_client();
    const origin where{"127.0.0.1", srv->port()};
    request post = get("/jobs");
    post.method = "POST";
    auto second = run(io, [&]() -> asio::awaitable<result<response>> {
        auto first = co_await client.send(where, post);
        if (!first) {
            co_return first;
        }
        asio::steady_timer wait(io, 600ms);
        co_await wait.async_wait(asio::use_awaitable);
        // The pooled connection was closed by the server meanwhile: the POST must go out on a new
        // one instead of failing ambiguously on the dead one.
        co_return co_await client.send(where, post);
    }());
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(client.stats().connections_opened, 2u);
    EXPECT_EQ(srv->stats().requests, 2u);
}

TEST_F(http_test, reset_is_connection_lost) {
    reply r;
    r.inject = fault::reset;
    auto srv = start_server(fixed(r));
    auto client = make_client();
    auto result = run(io, client.send(origin{"127.0.0.1", srv->port()}, get()));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, errc::connection_lost);
    EXPECT_TRUE(result.error().request_sent);
    EXPECT_EQ(srv->stats().requests, 1u);  // a fresh connection: no retry
}

TEST_F(http_test, closed_port_is_connect_failed_and_nothing_sent) {
    std::uint16_t closed_port = 0;
    {
        asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        closed_port = probe.local_endpoint().port();
    }
    auto client = make_client();
    auto r = run(io, client.send(origin{"127.0.0.1", closed_port}, get()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::connect_failed);
    EXPECT_FALSE(r.error().request_sent);
    EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(closed_port)), std::string::npos);
}

TEST_F(http_test, invalid_request_fields_are_refused_before_connecting) {
    auto client = make_client();
    request bad = get();
    bad.headers.push_back({"X-Injected", "a\r\nEvil: 1"});
    auto r = run(io, client.send(origin{"127.0.0.1", 1}, bad));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    EXPECT_FALSE(r.error().request_sent);

    request bad_target = get("no-slash");
    r = run(io, client.send(origin{"127.0.0.1", 1}, bad_target));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    EXPECT_EQ(client.stats().connections_opened, 0u);
}

TEST_F(http_test, streams_fifty_mebibytes_through_a_fixed_buffer) {
    constexpr std::uint64_t size = 50ull * 1024 * 1024;
    reply big;
    big.headers.push_back({"Content-Type", "application/gzip"});
    big.content_length = size;
    big.body_source = [](std::uint64_t offset, std::span<char> out) {
        fill_body(offset, out);
        return out.size();
    };
    auto srv = start_server(fixed(big));

    sha1 expected;
    std::vector<char> block(1 << 20);
    for (std::uint64_t offset = 0; offset < size; offset += block.size()) {
        fill_body(offset, block);
        expected.update(block);
    }

    client_options options;
    options.body_limit = 1024 * 1024;  // applies to buffered responses only
    auto client = make_client(options);
    auto sink = std::make_shared<counting_sink>();
    request req = get("/snapshot.tar.gz");
    req.timeout = 5s;
    // 50 MiB through TLS takes a few seconds in a debug build and more under sanitizers.
    auto r = run(io, client.send_streaming(origin{"127.0.0.1", srv->port()}, req, sink), 90s);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(find_header(r->headers, "content-length"), std::to_string(size));
    EXPECT_EQ(sink->heads, 1);
    EXPECT_FALSE(sink->data_before_head);
    EXPECT_EQ(sink->bytes, size);
    EXPECT_LE(sink->largest_chunk, 64u * 1024);
    // Whole TLS records per read, not Beast's 512-byte minimum: the body once arrived in 102,400
    // pieces, which made downloads four times slower than curl (bench/run download).
    EXPECT_LE(sink->chunks, size / 4096)
        << "average chunk " << size / std::max<std::uint64_t>(1, sink->chunks);
    EXPECT_EQ(sink->hash.hex(), expected.hex());

    // The connection goes back to the pool after a complete streamed body. (HEAD: the same header,
    // no body.)
    request head = get("/snapshot.tar.gz");
    head.method = "HEAD";
    auto again = run(io, client.send(origin{"127.0.0.1", srv->port()}, head));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(find_header(again->headers, "content-length"), std::to_string(size));
    EXPECT_TRUE(again->body.empty());
    EXPECT_EQ(client.stats().connections_opened, 1u);
    EXPECT_EQ(srv->stats().connections_accepted, 1u);
}

TEST_F(http_test, truncated_body_fails_the_stream) {
    reply cut;
    cut.content_length = 1'000'000;
    cut.body_source = [](std::uint64_t offset, std::span<char> out) {
        fill_body(offset, out);
        return out.size();
    };
    cut.inject = fault::truncate_body;
    cut.truncate_after = 100'000;
    auto srv = start_server(fixed(cut));
    auto client = make_client();
    auto sink = std::make_shared<counting_sink>();
    auto r = run(io, client.send_streaming(origin{"127.0.0.1", srv->port()}, get(), sink));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::connection_lost);
    EXPECT_TRUE(r.error().request_sent);
    EXPECT_EQ(sink->heads, 1);
    EXPECT_EQ(sink->bytes, 100'000u);

    // Buffered, the same truncation is an error too, never a short success.
    auto buffered = run(io, client.send(origin{"127.0.0.1", srv->port()}, get()));
    ASSERT_FALSE(buffered);
    EXPECT_EQ(buffered.error().code, errc::connection_lost);
}

TEST_F(http_test, sink_error_aborts_the_exchange) {
    class refusing_sink : public body_sink {
      public:
        result<void> on_head(const response&) override { return {}; }
        result<void> on_data(std::span<const char>) override {
            return make_error(errc::io_failed, "disk full");
        }
    };
    reply r;
    r.body = std::string(100'000, 'z');
    auto srv = start_server(fixed(r));
    auto client = make_client();
    auto result = run(
        io,
        client.send_streaming(origin{"127.0.0.1", srv->port()}, get(), std::make_shared<refusing_sink>()));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, errc::io_failed);
    EXPECT_EQ(result.error().message, "disk full");
}

TEST_F(http_test, server_close_after_reply_means_a_new_connection_next_time) {
    reply r;
    r.body = "bye";
    r.close = true;
    auto srv = start_server(fixed(r));
    auto client = make_client();
    const origin where{"127.0.0.1", srv->port()};
    auto first = run(io, client.send(where, get()));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(find_header(first->headers, "connection"), "close");
    auto second = run(io, client.send(where, get()));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->body, "bye");
    EXPECT_EQ(srv->stats().connections_accepted, 2u);
    EXPECT_EQ(client.stats().connections_opened, 2u);
}

TEST_F(http_test, request_body_over_the_server_limit_is_413) {
    int handled = 0;
    server_options options;
    options.request_body_limit = 1000;
    auto srv = start_server(
        [&](request, connection_info) -> asio::awaitable<reply> {
            ++handled;
            co_return reply{};
        },
        "good",
        options);
    auto client = make_client();
    request post = get("/upload");
    post.method = "POST";
    post.body = std::string(5000, 'b');
    auto r = run(io, client.send(origin{"127.0.0.1", srv->port()}, post));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(handled, 0);
}

TEST_F(http_test, stop_ends_a_stalled_connection_and_leaves_no_work_behind) {
    reply stalled;
    stalled.delay = 60s;
    auto srv = start_server(fixed(stalled));
    auto client = make_client();
    const origin where{"127.0.0.1", srv->port()};

    std::optional<result<response>> outcome;
    asio::co_spawn(io, client.send(where, get()), [&](std::exception_ptr, result<response> r) {
        outcome = std::move(r);
    });
    asio::steady_timer stop_timer(io, 200ms);
    stop_timer.async_wait([&](boost::system::error_code) { srv->stop(); });

    // run_for returns early only when nothing is left: the accept loop, the stalled connection
    // and the client's request have all ended.
    const auto started = std::chrono::steady_clock::now();
    io.run_for(test_guard);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_FALSE(*outcome);
    EXPECT_EQ(outcome->error().code, errc::connection_lost);
}

TEST_F(http_test, plain_http_server_for_metrics) {
    auto srv = start_server(
        [](request req, connection_info info) -> asio::awaitable<reply> {
            reply r;
            r.headers.push_back({"Content-Type", "text/plain; version=0.0.4"});
            r.body =
                req.target == "/metrics" ? "up 1\nrequest " + std::to_string(info.request_index) + "\n" : "";
            r.status = req.target == "/metrics" ? 200 : 404;
            co_return r;
        },
        "");

    namespace beast = boost::beast;
    auto bodies = run(io, [&]() -> asio::awaitable<std::vector<std::string>> {
        beast::tcp_stream stream(io);
        stream.expires_after(test_guard);
        co_await stream.async_connect(
            asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), srv->port()), asio::use_awaitable);
        std::vector<std::string> out;
        for (const char* target : {"/metrics", "/metrics", "/nope"}) {
            beast::http::request<beast::http::empty_body> req(beast::http::verb::get, target, 11);
            req.set(beast::http::field::host, "127.0.0.1");
            co_await beast::http::async_write(stream, req, asio::use_awaitable);
            beast::flat_buffer buffer;
            beast::http::response<beast::http::string_body> res;
            co_await beast::http::async_read(stream, buffer, res, asio::use_awaitable);
            out.push_back(std::to_string(res.result_int()) + " " + res.body());
        }
        co_return out;
    }());
    ASSERT_EQ(bodies.size(), 3u);
    EXPECT_EQ(bodies[0], "200 up 1\nrequest 1\n");
    EXPECT_EQ(bodies[1], "200 up 1\nrequest 2\n");
    EXPECT_EQ(bodies[2], "404 ");
    EXPECT_EQ(srv->stats().connections_accepted, 1u);
}

TEST_F(http_test, server_start_failures) {
    server_options options;
    options.address = "not an address";
    EXPECT_FALSE(server::start(io.get_executor(), options, fixed(reply{})));

    server_options half;
    half.cert_file = pki("good.pem").string();
    EXPECT_FALSE(server::start(io.get_executor(), half, fixed(reply{})));

    server_options mismatched;
    mismatched.cert_file = pki("good.pem").string();
    mismatched.key_file = pki("wrong-key.pem").string();
    EXPECT_FALSE(server::start(io.get_executor(), mismatched, fixed(reply{})));

    auto first = start_server(fixed(reply{}));
    server_options busy;
    busy.port = first->port();
    EXPECT_FALSE(server::start(io.get_executor(), busy, fixed(reply{})));
}

}  // namespace
}  // namespace atlas_restored::http
