// Company networks (issue 7), end to end with the real binaries: webhooks for failed and
// succeeded runs delivered over TLS through a stretch of 500s; a whole run through an HTTPS
// CONNECT proxy (and a wrong certificate behind the proxy refused, a 407 naming the proxy); a
// second Atlas organisation whose credentials only work with its profile; the audit trail (trigger
// and configuration digest in the report and in status --json).

#include "daemon_support.hpp"
#include "http/pki.hpp"
#include "http/server.hpp"
#include "support/connect_proxy.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// An HTTPS webhook receiver on 127.0.0.1 with a certificate from the fake's CA: answers 500 to
// the first `failures` requests (each after `failure_delay`), 200 after that, and keeps every body
// it accepted.
class webhook_receiver {
  public:
    webhook_receiver(const std::filesystem::path& dir,
                     const std::filesystem::path& ca_dir,
                     int failures,
                     std::chrono::milliseconds failure_delay = 0ms)
        : failures_(failures), guard_(asio::make_work_guard(io_)) {
        const auto cert = dir / "hook.pem";
        const auto key = dir / "hook-key.pem";
        if (!http::issue_certificate(ca_dir, cert, key, {"127.0.0.1"})) {
            throw std::runtime_error("cannot issue the receiver's certificate");
        }
        http::server_options options;
        options.cert_file = cert.string();
        options.key_file = key.string();
        auto s = http::server::start(
            io_.get_executor(),
            options,
            [this, failure_delay](http::request req, http::connection_info) -> asio::awaitable<http::reply> {
                bool fail = false;
                {
                    std::lock_guard lock(mutex_);
                    ++requests_;
                    fail = requests_ <= failures_;
                    if (!fail) {
                        accepted_.push_back(req);
                    }
                }
                if (fail && failure_delay > 0ms) {
                    auto executor = co_await asio::this_coro::executor;
                    asio::steady_timer late(executor, failure_delay);
                    co_await late.async_wait(asio::use_awaitable);
                }
                http::reply r;
                r.status = fail ? 500 : 200;
                co_return r;
            });
        if (!s) {
            throw std::runtime_error("receiver: " + s.error().message);
        }
        server_ = std::move(*s);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~webhook_receiver() {
        asio::post(io_, [this] { server_->stop(); });
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }
    int requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::vector<boost::json::object> accepted() const {
        std::lock_guard lock(mutex_);
        std::vector<boost::json::object> out;
        for (const auto& r : accepted_) {
            out.push_back(boost::json::parse(r.body).as_object());
        }
        return out;
    }
    std::vector<http::request> accepted_requests() const {
        std::lock_guard lock(mutex_);
        return accepted_;
    }

  private:
    int failures_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::unique_ptr<http::server> server_;
    std::thread thread_;
    mutable std::mutex mutex_;
    int requests_ = 0;
    std::vector<http::request> accepted_;
};

// Inserts lines into the atlas: section of a config written by write_config.
void add_atlas_keys(const std::filesystem::path& config, const std::string& lines) {
    auto text = read_file(config);
    const std::string anchor = "  request_timeout: 10s\n";
    const auto at = text.find(anchor);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + anchor.size(), lines);
    write_file(config, text);
}

int line_of(const std::filesystem::path& file, const std::string& needle) {
    std::ifstream in(file);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.find(needle) != std::string::npos) {
            return n;
        }
    }
    return 0;
}

TEST(DaemonWebhook, FailedAndSucceededRunsAreNotifiedThroughAStretchOf500s) {
    temp_dir dir{"daemon-webhook"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    webhook_receiver receiver(dir.path(), fake.tls_dir(), 3);
    const std::string secret_path = "/hooks/T000/B000/WEBHOOK-SECRET-TOKEN";
    write_file(dir.path() / "webhook-url",
               "https://127.0.0.1:" + std::to_string(receiver.port()) + secret_path + "\n");
    config_options options;
    options.extra_yaml =
        "notify:\n  - url_file: " + (dir.path() / "webhook-url").string() +
        "\n    on: [failed, succeeded, reload_failed]\n    tls: { ca_file: " + fake.ca_file().string() +
        " }\n";
    options.policies_yaml = http_policy("orders-ok", "rs0", "    trigger: INC-1\n") +
                            http_policy("orders-broken", "no-such-cluster", "    trigger: INC-2\n");
    const auto config = write_config(dir.path(), fake, options);

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto ok = wait_for_final_runs(config, "orders-ok", 1);
    const auto broken = wait_for_final_runs(config, "orders-broken", 1);
    ASSERT_EQ(ok.size(), 1u) << daemon.log();
    ASSERT_EQ(broken.size(), 1u) << daemon.log();
    EXPECT_EQ(str(ok[0].at("state")), "succeeded") << daemon.log();
    EXPECT_EQ(str(broken[0].at("state")), "failed") << daemon.log();

    ASSERT_TRUE(eventually([&] { return receiver.accepted().size() == 2; }, 60s))
        << "requests " << receiver.requests() << "\n"
        << daemon.log();
    EXPECT_GE(receiver.requests(), 5);  // three 500s were retried
    std::map<std::string, boost::json::object> by_event;
    for (const auto& doc : receiver.accepted()) {
        by_event[str(doc.at("event"))] = doc;
    }
    ASSERT_TRUE(by_event.count("failed") && by_event.count("succeeded"));
    const auto& failed = by_event["failed"];
    EXPECT_EQ(str(failed.at("policy")), "orders-broken");
    EXPECT_EQ(str(failed.at("run_id")), str(broken[0].at("id")));
    EXPECT_EQ(str(failed.at("reason")), "preflight_failed");
    EXPECT_EQ(str(failed.at("trigger")), "INC-2");
    EXPECT_FALSE(str(failed.at("summary")).empty());
    EXPECT_TRUE(failed.at("timings_seconds").is_object());
    const auto& succeeded = by_event["succeeded"];
    EXPECT_EQ(str(succeeded.at("policy")), "orders-ok");
    EXPECT_EQ(str(succeeded.at("run_id")), str(ok[0].at("id")));
    EXPECT_TRUE(succeeded.at("reason").is_null());
    EXPECT_GT(succeeded.at("timings_seconds").at("total_rto").to_number<double>(), 0.0);
    for (const auto& r : receiver.accepted_requests()) {
        EXPECT_EQ(r.target, secret_path);
    }
    // The URL is a secret: the daemon names only the host.
    EXPECT_EQ(daemon.log().find("WEBHOOK-SECRET-TOKEN"), std::string::npos) << daemon.log();
    EXPECT_NE(daemon.log().find("notification delivered to 127.0.0.1"), std::string::npos) << daemon.log();

    // A refused reload is announced too; the webhooks in force stay.
    write_file(config, read_file(config) + "  - name: BAD NAME\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(eventually([&] { return receiver.accepted().size() == 3; }, 60s)) << daemon.log();
    const auto reload = receiver.accepted().back();
    EXPECT_EQ(str(reload.at("event")), "reload_failed");
    EXPECT_TRUE(reload.at("policy").is_null());
    EXPECT_NE(str(reload.at("error")).find("policies"), std::string::npos) << reload;
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(15s), 0);
}

// SIGTERM while a notification is still being delivered (its first attempt is answered late,
// with a 500): the daemon waits for the retry (notification_drain_budget) before it exits.
TEST(DaemonWebhook, ANotificationStillBeingDeliveredAtSigtermGoesOutBeforeTheExit) {
    temp_dir dir{"daemon-webhook-drain"};
    fake_atlas_server fake(dir.path());
    webhook_receiver receiver(dir.path(), fake.tls_dir(), 1, 1500ms);
    write_file(dir.path() / "webhook-url",
               "https://127.0.0.1:" + std::to_string(receiver.port()) + "/hook\n");
    config_options options;
    options.extra_yaml = "notify:\n  - url_file: " + (dir.path() / "webhook-url").string() +
                         "\n    on: [reload_failed]\n    tls: { ca_file: " + fake.ca_file().string() + " }\n";
    options.policies_yaml = http_policy("orders", "rs0", "    schedule: \"0 3 1 1 *\"\n");
    const auto config = write_config(dir.path(), fake, options);

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    write_file(config, read_file(config) + "  - name: BAD NAME\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(eventually([&] { return receiver.requests() == 1; }, 30s)) << daemon.log();
    daemon.signal(SIGTERM);  // the first attempt is still waiting for its (failing) answer
    EXPECT_EQ(daemon.wait(15s), 0) << daemon.log();
    const auto accepted = receiver.accepted();
    ASSERT_EQ(accepted.size(), 1u) << daemon.log();
    EXPECT_EQ(str(accepted[0].at("event")), "reload_failed");
    EXPECT_NE(daemon.log().find("still being delivered"), std::string::npos) << daemon.log();
}

TEST(DaemonWebhook, AnUndeliverableNotificationIsCountedAndTheRunStillSucceeds) {
    temp_dir dir{"daemon-webhook-down"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    webhook_receiver receiver(dir.path(), fake.tls_dir(), 1'000'000);  // always 500
    write_file(dir.path() / "webhook-url",
               "https://127.0.0.1:" + std::to_string(receiver.port()) + "/hook\n");
    config_options options;
    options.extra_yaml = "notify:\n  - url_file: " + (dir.path() / "webhook-url").string() +
                         "\n    tls: { ca_file: " + fake.ca_file().string() + " }\n";
    options.policies_yaml = http_policy("orders-ok", "rs0", "    trigger: INC-1\n");
    const auto port = free_port();
    options.metrics_port = port;
    const auto config = write_config(dir.path(), fake, options);

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto runs = wait_for_final_runs(config, "orders-ok", 1);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    // Bounded: the retries stop (8 attempts at most) and the failure is logged and counted.
    ASSERT_TRUE(daemon.wait_for_log("notification to 127.0.0.1 was not delivered", 1, 60s)) << daemon.log();
    EXPECT_LE(receiver.requests(), 8);
    EXPECT_GE(receiver.requests(), 2);
    const auto metrics = http_get(port, "/metrics");
    EXPECT_NE(metrics.find("atlas_restored_notifications_failed_total 1"), std::string::npos) << metrics;
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(15s), 0);
}

TEST(DaemonProxy, AWholeRunGoesThroughTheProxy) {
    temp_dir dir{"daemon-proxy"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    connect_proxy_options proxy_options;
    proxy_options.required_authorization =
        "Basic cHJveHl1c2VyOnByb3h5LVBBU1NXT1JE";  // proxyuser:proxy-PASSWORD
    connect_proxy proxy(proxy_options);
    write_file(dir.path() / "proxy-credentials", "proxyuser:proxy-PASSWORD\n");
    config_options options;
    options.policies_yaml = http_policy("orders-proxied", "rs0", "    trigger: INC-9\n");
    const auto config = write_config(dir.path(), fake, options);
    add_atlas_keys(config,
                   "  proxy: " + proxy.url() +
                       "\n  proxy_credentials_file: " + (dir.path() / "proxy-credentials").string() + "\n");

    const auto checked = run_atlas_restored({"check", "--config", config.string()});
    EXPECT_EQ(checked.status, 0) << checked.err << checked.out;
    EXPECT_EQ((checked.out + checked.err).find("proxy-PASSWORD"), std::string::npos);

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto runs = wait_for_final_runs(config, "orders-proxied", 1);
    ASSERT_EQ(runs.size(), 1u) << daemon.log();
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    ASSERT_EQ(runs[0].at("files").as_array().size(), 1u);
    EXPECT_TRUE(runs[0].at("files").as_array()[0].at("verified").as_bool());
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(15s), 0);

    // Every connection — API calls and the download — went through the proxy to the real host.
    EXPECT_GE(proxy.tunnels(), 1);
    EXPECT_EQ(proxy.refused(), 0);
    for (const auto& target : proxy.targets()) {
        EXPECT_EQ(target, "127.0.0.1:" + std::to_string(fake.port()));
    }
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "downloads_completed"), 1);
    EXPECT_EQ(daemon.log().find("proxy-PASSWORD"), std::string::npos);
}

TEST(DaemonProxy, EnvironmentProxyRefusalsAndAWrongCertificateBehindIt) {
    temp_dir dir{"proxy-env"};
    fake_atlas_server fake(dir.path());
    config_options options;
    options.policies_yaml = http_policy("orders", "rs0");
    const auto config = write_config(dir.path(), fake, options);
    const std::vector<std::string> dry_run = {"run-now", "--dry-run", "--config", config.string(), "orders"};

    {  // $https_proxy, with the credentials in its URL.
        connect_proxy_options o;
        o.required_authorization = "Basic dTpwdy1TRUNSRVQ=";  // u:pw-SECRET
        connect_proxy proxy(o);
        const auto url = "http://u:pw-SECRET@127.0.0.1:" + std::to_string(proxy.port());
        const auto r = run_atlas_restored(dry_run, generous_timeout, {{"https_proxy", url}});
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_GE(proxy.tunnels(), 1);
        EXPECT_EQ(r.err.find("pw-SECRET"), std::string::npos);

        // no_proxy: straight to the host.
        const int before = proxy.tunnels();
        const auto direct =
            run_atlas_restored(dry_run, generous_timeout, {{"https_proxy", url}, {"no_proxy", "127.0.0.1"}});
        EXPECT_EQ(direct.status, 0) << direct.err;
        EXPECT_EQ(proxy.tunnels(), before);

        // Without credentials: 407, and the error names the proxy.
        const auto refused = run_atlas_restored(
            dry_run, generous_timeout, {{"https_proxy", "http://127.0.0.1:" + std::to_string(proxy.port())}});
        EXPECT_EQ(refused.status, 1);
        EXPECT_NE(refused.err.find("proxy http://127.0.0.1:" + std::to_string(proxy.port()) + " refused"),
                  std::string::npos)
            << refused.err;
        EXPECT_NE(refused.err.find("407"), std::string::npos) << refused.err;
    }
    {  // 403 from the proxy's policy.
        connect_proxy_options o;
        o.refuse_status = 403;
        connect_proxy proxy(o);
        const auto refused = run_atlas_restored(dry_run, generous_timeout, {{"https_proxy", proxy.url()}});
        EXPECT_EQ(refused.status, 1);
        EXPECT_NE(refused.err.find("proxy " + proxy.url() + " refused"), std::string::npos) << refused.err;
        EXPECT_NE(refused.err.find("403"), std::string::npos) << refused.err;
    }
    {  // Behind the proxy sits someone else with a certificate from another CA: refused.
        temp_dir other_dir{"proxy-impostor"};
        fake_atlas_server impostor(other_dir.path());
        connect_proxy_options o;
        o.redirect_port = impostor.port();
        connect_proxy proxy(o);
        const auto refused = run_atlas_restored(dry_run, generous_timeout, {{"https_proxy", proxy.url()}});
        EXPECT_EQ(refused.status, 1);
        EXPECT_NE(refused.err.find("certificate verify failed"), std::string::npos) << refused.err;
        EXPECT_NE(refused.err.find("127.0.0.1:" + std::to_string(fake.port())), std::string::npos)
            << refused.err;
        EXPECT_EQ(proxy.tunnels(), 1);  // TLS failures are not retried
        EXPECT_EQ(counter(impostor.counters(), "requests_total"), 0);
    }
    EXPECT_EQ(counter(fake.counters(), "creates"), 0);
}

TEST(DaemonProfiles, ASecondOrganisationWorksOnlyWithItsProfile) {
    temp_dir dir{"daemon-profiles"};
    const std::string pay_id = "mdb_sa_id_0456";
    const std::string pay_secret = "mdb_sa_sk_PAYMENTS_0456";
    fake_atlas_server fake(dir.path(),
                           {"--job-seconds",
                            "1",
                            "--org",
                            "payments",
                            "--cluster",
                            std::string(other_group_id) + "/pay0:replicaset",
                            "--service-account",
                            pay_id + ":" + pay_secret});
    write_file(dir.path() / "payments-secret", pay_secret + "\n");
    const auto pay_policy = [&](const std::string& name, const std::string& extra) {
        return "  - name: " + name + "\n    group_id: " + other_group_id +
               "\n    cluster: pay0\n    restore_point: { latest_snapshot: true }\n    delivery: { method: "
               "HTTP }\n"
               "    poll_interval: 1s\n    deadline: 5m\n" +
               extra;
    };
    config_options options;
    options.extra_yaml =
        "profiles:\n  - name: payments-org\n    auth: { service_account: { client_id: " + pay_id +
        ", client_secret_file: " + (dir.path() / "payments-secret").string() + " } }\n";
    options.policies_yaml = http_policy("orders", "rs0", "    trigger: INC-A\n") +
                            pay_policy("payments", "    profile: payments-org\n    trigger: INC-B\n") +
                            pay_policy("payments-without-profile", "    trigger: INC-C\n");
    const auto config = write_config(dir.path(), fake, options);

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto orders = wait_for_final_runs(config, "orders", 1);
    const auto payments = wait_for_final_runs(config, "payments", 1);
    const auto without = wait_for_final_runs(config, "payments-without-profile", 1);
    ASSERT_EQ(orders.size() + payments.size() + without.size(), 3u) << daemon.log();
    EXPECT_EQ(str(orders[0].at("state")), "succeeded") << daemon.log();
    EXPECT_EQ(str(payments[0].at("state")), "succeeded") << daemon.log();
    // The default organisation's credentials do not open the payments project.
    EXPECT_EQ(str(without[0].at("state")), "failed") << daemon.log();
    EXPECT_NE(str(without[0].at("error")).find("401"), std::string::npos) << str(without[0].at("error"));
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(15s), 0);
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "creates"), 2);
    EXPECT_GE(counter(counters, "token_requests"), 2);  // one token per profile at least
    EXPECT_EQ(daemon.log().find(pay_secret), std::string::npos);

    // check: an unknown profile is reported with the policy and its line.
    options.policies_yaml = pay_policy("payments", "    profile: payments-orgg\n");
    write_config(dir.path(), fake, options);
    const auto checked = run_atlas_restored({"check", "--config", config.string()});
    EXPECT_EQ(checked.status, 1);
    const int line = line_of(config, "profile: payments-orgg");
    ASSERT_GT(line, 0);
    EXPECT_NE(checked.err.find(config.string() + ":" + std::to_string(line) + ":"), std::string::npos)
        << checked.err;
    EXPECT_NE(checked.err.find("unknown profile 'payments-orgg' in policy 'payments'"), std::string::npos)
        << checked.err;
    EXPECT_NE(checked.err.find("payments-org"), std::string::npos) << checked.err;
    EXPECT_NE(checked.err.find("policies[0]"), std::string::npos) << checked.err;
}

TEST(DaemonAudit, ReportAndStatusNameTheTriggerAndTheConfigDigest) {
    temp_dir dir{"daemon-audit"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("orders-audit", "rs0", "    trigger: INC-7777\n");
    const auto config = write_config(dir.path(), fake, options);
    const auto checked = run_atlas_restored({"check", "--config", config.string()});
    ASSERT_EQ(checked.status, 0) << checked.err;
    const std::string marker = "configuration is valid (digest ";
    const auto at = checked.err.find(marker);
    ASSERT_NE(at, std::string::npos) << checked.err;
    const std::string digest = checked.err.substr(at + marker.size(), 64);
    EXPECT_EQ(digest.find_first_not_of("0123456789abcdef"), std::string::npos) << digest;  // SHA-256 hex

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto runs = wait_for_final_runs(config, "orders-audit", 1);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(runs[0].at("trigger")), "INC-7777");
    EXPECT_EQ(str(runs[0].at("config_digest")), digest);

    const auto report_file =
        dir.path() / "state" / "reports" / "orders-audit" / (str(runs[0].at("id")) + ".json");
    ASSERT_TRUE(std::filesystem::exists(report_file)) << report_file;
    const auto report = boost::json::parse(read_file(report_file));
    EXPECT_EQ(str(report.at("config_digest")), digest);
    EXPECT_EQ(str(report.at("started_by").at("kind")), "trigger") << report;
    EXPECT_EQ(str(report.at("started_by").at("value")), "INC-7777") << report;

    // run-now: the Unix user behind it, in status and in the report.
    const auto started = run_atlas_restored({"run-now", "--config", config.string(), "orders-audit"});
    ASSERT_EQ(started.status, 0) << started.err;
    const auto both = wait_for_final_runs(config, "orders-audit", 2);
    ASSERT_EQ(both.size(), 2u);
    EXPECT_EQ(str(both[1].at("trigger")), "manual");
    EXPECT_FALSE(str(both[1].at("started_by")).empty()) << boost::json::serialize(both[1]);
    EXPECT_EQ(str(both[1].at("config_digest")), digest);
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(15s), 0);
}

}  // namespace
}  // namespace atlas_restored::testing
