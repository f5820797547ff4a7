// HTTPS through a CONNECT proxy (issue 7): which proxy applies, the CONNECT request, refusals
// that name the proxy, and real tunnels through the test proxy (tests/support/connect_proxy) with
// the target's certificate and host name still verified end to end.

#include "http/proxy.hpp"

#include "http/client.hpp"
#include "http/pki.hpp"
#include "http/server.hpp"
#include "support/connect_proxy.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <map>

namespace atlas_restored::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

env_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
        if (auto it = vars.find(name); it != vars.end()) {
            return it->second;
        }
        return std::nullopt;
    };
}

TEST(proxy_url, host_port_and_display) {
    auto p = parse_proxy_url("http://proxy.corp:3128", std::nullopt);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->host, "proxy.corp");
    EXPECT_EQ(p->port, 3128);
    EXPECT_EQ(p->display, "http://proxy.corp:3128");
    EXPECT_TRUE(p->authorization.empty());

    auto no_port = parse_proxy_url("http://proxy.corp/", std::nullopt);
    ASSERT_TRUE(no_port);
    EXPECT_EQ(no_port->port, 80);

    auto bare = parse_proxy_url("proxy.corp:8080", std::nullopt);
    ASSERT_TRUE(bare) << bare.error().message;
    EXPECT_EQ(bare->host, "proxy.corp");
    EXPECT_EQ(bare->port, 8080);
}

TEST(proxy_url, credentials_become_basic_and_stay_out_of_display) {
    auto p = parse_proxy_url("http://alice:s3cr3t@proxy.corp:3128", std::nullopt);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->authorization, "Basic YWxpY2U6czNjcjN0");  // base64("alice:s3cr3t")
    EXPECT_EQ(p->display.find("s3cr3t"), std::string::npos);
    EXPECT_EQ(p->display.find("alice"), std::string::npos);

    // A credentials file wins over the URL's userinfo; its trailing newline is not part of it.
    auto from_file = parse_proxy_url("http://alice:s3cr3t@proxy.corp:3128", std::string("bob:pw\n"));
    ASSERT_TRUE(from_file);
    EXPECT_EQ(from_file->authorization, "Basic Ym9iOnB3");

    auto bad = parse_proxy_url("http://proxy.corp:3128", std::string("no-colon"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message.find("no-colon"), std::string::npos);
}

TEST(proxy_url, only_http_proxies_and_no_secret_in_errors) {
    auto https = parse_proxy_url("https://u:topsecret@proxy.corp:3128", std::nullopt);
    ASSERT_FALSE(https);
    EXPECT_NE(https.error().message.find("http://"), std::string::npos);
    EXPECT_EQ(https.error().message.find("topsecret"), std::string::npos);
    EXPECT_FALSE(parse_proxy_url("http://proxy.corp:99999", std::nullopt));
    EXPECT_FALSE(parse_proxy_url("socks5://proxy.corp:1080", std::nullopt));
}

TEST(no_proxy, rules) {
    const auto rules = parse_no_proxy("localhost, .internal.corp,10.1.2.3 example.com:8443");
    EXPECT_TRUE(bypasses_proxy(rules, "localhost", 443));
    EXPECT_TRUE(bypasses_proxy(rules, "LOCALHOST", 443));
    EXPECT_TRUE(bypasses_proxy(rules, "db.internal.corp", 443));
    EXPECT_TRUE(bypasses_proxy(rules, "internal.corp", 443));
    EXPECT_FALSE(bypasses_proxy(rules, "notinternal.corp", 443));
    EXPECT_TRUE(bypasses_proxy(rules, "10.1.2.3", 443));
    EXPECT_FALSE(bypasses_proxy(rules, "10.1.2.4", 443));
    EXPECT_TRUE(bypasses_proxy(rules, "example.com", 8443));
    EXPECT_FALSE(bypasses_proxy(rules, "example.com", 443));
    EXPECT_FALSE(bypasses_proxy(rules, "cloud.mongodb.com", 443));
    EXPECT_TRUE(bypasses_proxy(parse_no_proxy("*"), "cloud.mongodb.com", 443));
    EXPECT_FALSE(bypasses_proxy(parse_no_proxy(""), "cloud.mongodb.com", 443));
}

TEST(choose_proxy, configured_wins_then_environment) {
    const auto env = fake_env({{"https_proxy", "http://envproxy:3128"}, {"no_proxy", "localhost"}});
    auto configured = choose_proxy(std::string("http://cfgproxy:8080"), std::nullopt, env);
    ASSERT_TRUE(configured);
    ASSERT_TRUE(*configured);
    EXPECT_EQ((*configured)->host, "cfgproxy");
    EXPECT_TRUE((*configured)->no_proxy.empty());  // no_proxy belongs to the environment's proxy

    auto from_env = choose_proxy(std::nullopt, std::nullopt, env);
    ASSERT_TRUE(from_env && *from_env);
    EXPECT_EQ((*from_env)->host, "envproxy");
    EXPECT_TRUE(bypasses_proxy((*from_env)->no_proxy, "localhost", 443));

    auto upper = choose_proxy(
        std::nullopt, std::nullopt, fake_env({{"HTTPS_PROXY", "http://UP:1"}, {"NO_PROXY", "*.x"}}));
    ASSERT_TRUE(upper && *upper);
    EXPECT_EQ((*upper)->host, "UP");
    EXPECT_TRUE(bypasses_proxy((*upper)->no_proxy, "a.x", 443));
    auto none = choose_proxy(std::nullopt, std::nullopt, fake_env({}));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);

    auto broken = choose_proxy(std::nullopt, std::nullopt, fake_env({{"https_proxy", "ftp://x:pw@y"}}));
    ASSERT_FALSE(broken);
    EXPECT_NE(broken.error().message.find("$https_proxy"), std::string::npos);
    EXPECT_EQ(broken.error().message.find("pw"), std::string::npos);
}

TEST(connect_request, authority_form_and_credentials) {
    auto p = parse_proxy_url("http://u:p@proxy:3128", std::nullopt);
    ASSERT_TRUE(p);
    const auto text = connect_request(*p, origin{"cloud.mongodb.com", 443}, "atlas-restored/1");
    EXPECT_EQ(text,
              "CONNECT cloud.mongodb.com:443 HTTP/1.1\r\nHost: cloud.mongodb.com:443\r\nUser-Agent: "
              "atlas-restored/1\r\nProxy-Authorization: Basic dTpw\r\n\r\n");
    const auto v6 = connect_request(*p, origin{"::1", 8443}, "");
    EXPECT_EQ(v6.rfind("CONNECT [::1]:8443 HTTP/1.1\r\n", 0), 0u);
}

TEST(proxy_refusal, names_the_proxy) {
    auto p = parse_proxy_url("http://proxy.corp:3128", std::nullopt);
    ASSERT_TRUE(p);
    const auto e407 =
        proxy_refusal(*p, origin{"cloud.mongodb.com", 443}, 407, "Proxy Authentication Required");
    EXPECT_EQ(e407.code, errc::auth_failed);
    EXPECT_EQ(e407.message.rfind("proxy http://proxy.corp:3128 refused", 0), 0u) << e407.message;
    EXPECT_NE(e407.message.find("407"), std::string::npos);
    EXPECT_FALSE(e407.request_sent);
    EXPECT_EQ(e407.http_status, 0);  // not an answer of Atlas
    const auto e403 = proxy_refusal(*p, origin{"cloud.mongodb.com", 443}, 403, "Forbidden");
    EXPECT_EQ(e403.code, errc::http_status);
    EXPECT_NE(e403.message.find("proxy http://proxy.corp:3128"), std::string::npos);
    EXPECT_EQ(proxy_refusal(*p, origin{"x", 443}, 502, "Bad Gateway").code, errc::connect_failed);
}

// Real tunnels: the client, the test proxy, an HTTPS server with a test certificate.
class proxy_tunnel : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        pki_ = new testing::temp_dir("proxy-test");
        const auto& d = pki_->path();
        ASSERT_TRUE(generate_ca(d / "ca", "proxy test CA"));
        ASSERT_TRUE(
            issue_certificate(d / "ca", d / "good.pem", d / "good-key.pem", {"localhost", "127.0.0.1"}));
        ASSERT_TRUE(generate_ca(d / "other-ca", "untrusted CA"));
        ASSERT_TRUE(issue_certificate(
            d / "other-ca", d / "untrusted.pem", d / "untrusted-key.pem", {"localhost", "127.0.0.1"}));
    }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }
    static std::string pki(const std::string& name) { return (pki_->path() / name).string(); }

    std::unique_ptr<server> start_server(const std::string& cert) {
        server_options options;
        options.cert_file = pki(cert + ".pem");
        options.key_file = pki(cert + "-key.pem");
        auto s = server::start(
            io.get_executor(), options, [](request req, connection_info) -> asio::awaitable<reply> {
                reply r;
                r.body = "hello through " + req.target;
                co_return r;
            });
        if (!s) {
            throw std::runtime_error(s.error().message);
        }
        return std::move(*s);
    }

    https_client make_client(std::optional<proxy_settings> proxy) {
        client_options options;
        options.ca_file = pki("ca/ca.pem");
        options.connect_timeout = 5s;
        options.request_timeout = 5s;
        options.proxy = std::move(proxy);
        auto c = https_client::create(io.get_executor(), options);
        if (!c) {
            throw std::runtime_error(c.error().message);
        }
        return std::move(*c);
    }

    result<response> get(https_client& client, std::uint16_t port, std::string target = "/x") {
        std::optional<result<response>> out;
        request req;
        req.target = std::move(target);
        asio::co_spawn(io,
                       client.send(origin{"127.0.0.1", port}, std::move(req)),
                       [&](std::exception_ptr e, result<response> r) {
                           if (!e) {
                               out.emplace(std::move(r));
                           }
                           io.stop();
                       });
        io.restart();
        io.run_for(15s);
        if (!out) {
            throw std::runtime_error("request did not finish");
        }
        return std::move(*out);
    }

    asio::io_context io;

  private:
    static testing::temp_dir* pki_;
};

testing::temp_dir* proxy_tunnel::pki_ = nullptr;

TEST_F(proxy_tunnel, requests_go_through_one_tunnel_with_the_target_verified) {
    auto srv = start_server("good");
    testing::connect_proxy proxy;
    auto settings = parse_proxy_url(proxy.url(), std::nullopt);
    ASSERT_TRUE(settings);
    auto client = make_client(*settings);
    for (int i = 0; i < 3; ++i) {
        auto r = get(client, srv->port(), "/call" + std::to_string(i));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "hello through /call" + std::to_string(i));
    }
    EXPECT_EQ(proxy.tunnels(), 1);  // keep-alive: one CONNECT, one TLS handshake
    ASSERT_EQ(proxy.targets().size(), 1u);
    EXPECT_EQ(proxy.targets()[0], "127.0.0.1:" + std::to_string(srv->port()));
    EXPECT_EQ(srv->stats().connections_accepted, 1u);
}

TEST_F(proxy_tunnel, a_wrong_certificate_behind_the_proxy_is_refused) {
    auto impostor = start_server("untrusted");
    testing::connect_proxy_options options;
    options.redirect_port = impostor->port();  // the proxy (or someone behind it) swaps the peer
    testing::connect_proxy proxy(options);
    auto client = make_client(*parse_proxy_url(proxy.url(), std::nullopt));
    auto r = get(client, 443);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::tls_failed) << r.error().message;
    EXPECT_NE(r.error().message.find("127.0.0.1:443"), std::string::npos) << r.error().message;
    EXPECT_EQ(proxy.tunnels(), 1);
}

TEST_F(proxy_tunnel, proxy_credentials_are_sent_and_a_407_names_the_proxy) {
    auto srv = start_server("good");
    testing::connect_proxy_options options;
    options.required_authorization = "Basic dXNlcjpwYXNzd29yZA==";  // user:password
    testing::connect_proxy proxy(options);

    auto without = make_client(*parse_proxy_url(proxy.url(), std::nullopt));
    auto refused = get(without, srv->port());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::auth_failed);
    EXPECT_NE(refused.error().message.find("proxy " + proxy.url()), std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("407"), std::string::npos);

    auto wrong = make_client(*parse_proxy_url(proxy.url(), std::string("user:nope")));
    auto refused_again = get(wrong, srv->port());
    ASSERT_FALSE(refused_again);
    EXPECT_EQ(refused_again.error().message.find("nope"), std::string::npos);

    auto with = make_client(*parse_proxy_url(proxy.url(), std::string("user:password")));
    auto ok = get(with, srv->port());
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(proxy.tunnels(), 1);
}

TEST_F(proxy_tunnel, a_403_names_the_proxy_and_no_proxy_bypasses_it) {
    auto srv = start_server("good");
    testing::connect_proxy_options options;
    options.refuse_status = 403;
    testing::connect_proxy proxy(options);
    auto settings = *parse_proxy_url(proxy.url(), std::nullopt);
    auto client = make_client(settings);
    auto refused = get(client, srv->port());
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("proxy " + proxy.url() + " refused"), std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("403"), std::string::npos);

    settings.no_proxy = parse_no_proxy("127.0.0.1");
    auto direct = make_client(settings);
    auto ok = get(direct, srv->port());
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(proxy.targets().size(), 1u);  // only the refused attempt went to the proxy
}

}  // namespace
}  // namespace atlas_restored::http
