// Webhook notifications (issue 7): the documents, and real deliveries over TLS to a receiver on
// 127.0.0.1 with a test CA — retried through a stretch of 500s, not retried on a 404 or an
// untrusted certificate, counted when they fail, and never carrying the URL into a log line.

#include "notify/notifier.hpp"

#include "http/pki.hpp"
#include "http/server.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <functional>

namespace atlas_restored::notify {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

class counting_recorder final : public metrics::recorder {
  public:
    void run_finished(std::string_view, std::string_view, std::chrono::duration<double>) override {}
    void jobs_by_status(std::string_view, std::int64_t) override {}
    void http_response(int) override {}
    void retry() override {}
    void download_bytes(std::string_view, std::uint64_t) override {}
    void hash_mismatch(std::string_view) override {}
    void link_expiring(std::string_view) override {}
    void drill_succeeded(std::string_view, std::chrono::system_clock::time_point) override {}
    void config_reloaded(bool, std::chrono::system_clock::time_point) override {}
    void active_runs(std::int64_t) override {}
    void active_downloads(std::int64_t) override {}
    void notification_failed() override { ++failed; }
    int failed = 0;
};

state::run_record failed_run() {
    state::run_record r;
    r.id = "r-20261128-0300-abcd";
    r.policy = "orders-drill";
    r.trigger = "INC-4312";
    r.state = "failed";
    r.error = "job_broken: Atlas marked restore job 5f1b… broken";
    r.group_id = "32b6e34b3d91647abb20e7b8";
    r.cluster = "orders-prod";
    r.method = "HTTP";
    r.config_digest = "d1g3st";
    r.snapshot_time = "2026-11-28T02:00:00Z";
    r.created_at = 1'795'834'800'000;  // 2026-11-28T03:00:00Z
    r.submitted_at = *r.created_at + 2'500;
    r.finished_at = *r.created_at + 60'000;
    return r;
}

TEST(documents, failed_run) {
    const auto doc = run_finished_document(failed_run());
    EXPECT_EQ(doc.at("event"), "failed");
    EXPECT_EQ(doc.at("policy"), "orders-drill");
    EXPECT_EQ(doc.at("run_id"), "r-20261128-0300-abcd");
    EXPECT_EQ(doc.at("reason"), "job_broken");
    EXPECT_EQ(doc.at("trigger"), "INC-4312");
    EXPECT_EQ(doc.at("config_digest"), "d1g3st");
    EXPECT_EQ(doc.at("timings_seconds").at("to_submit").as_double(), 2.5);
    EXPECT_EQ(doc.at("timings_seconds").at("total_rto").as_double(), 60.0);
    EXPECT_EQ(doc.at("timings_seconds").at("snapshot_age_rpo").as_double(), 3600.0);
    EXPECT_TRUE(doc.at("timings_seconds").at("to_ready").is_null());
    const std::string summary(doc.at("summary").as_string());
    EXPECT_EQ(summary.find('\n'), std::string::npos);
    EXPECT_NE(summary.find("orders-drill"), std::string::npos);
    EXPECT_NE(summary.find("job_broken"), std::string::npos);
    EXPECT_EQ(doc.at("text"), doc.at("summary"));
}

TEST(documents, succeeded_run_and_others) {
    auto run = failed_run();
    run.state = "succeeded";
    run.error.clear();
    const auto ok = run_finished_document(run);
    EXPECT_EQ(ok.at("event"), "succeeded");
    EXPECT_TRUE(ok.at("reason").is_null());
    EXPECT_TRUE(ok.at("error").is_null());

    const auto expiring = link_expiring_document("p", "r-1", "job1", "rs0.tar.gz", "2026-11-28T07:00:00Z");
    EXPECT_EQ(expiring.at("event"), "link_expiring");
    EXPECT_EQ(expiring.at("file"), "rs0.tar.gz");

    const auto reload = reload_failed_document("a.yaml:3: policies[0].cluster: bad\nsecond line", "abc");
    EXPECT_EQ(reload.at("event"), "reload_failed");
    EXPECT_TRUE(reload.at("policy").is_null());
    EXPECT_EQ(std::string(reload.at("summary").as_string()).find('\n'), std::string::npos);
    EXPECT_EQ(reload.at("config_digest"), "abc");
}

TEST(documents, webhook_host_shows_only_the_host) {
    EXPECT_EQ(webhook_host("https://hooks.example.com/services/T000/B000/SECRETTOKEN"), "hooks.example.com");
    EXPECT_EQ(webhook_host("not a url"), "(unreadable URL)");
}

class delivery : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        pki_ = new testing::temp_dir("notify-test");
        const auto& d = pki_->path();
        ASSERT_TRUE(http::generate_ca(d / "ca", "notify test CA"));
        ASSERT_TRUE(http::issue_certificate(d / "ca", d / "good.pem", d / "good-key.pem", {"127.0.0.1"}));
        ASSERT_TRUE(http::generate_ca(d / "other-ca", "untrusted CA"));
        ASSERT_TRUE(http::issue_certificate(d / "other-ca", d / "bad.pem", d / "bad-key.pem", {"127.0.0.1"}));
    }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }

    // A receiver answering statuses[i] to the i-th request (the last one after that).
    void start_receiver(std::vector<int> statuses, const std::string& cert = "good") {
        http::server_options options;
        options.cert_file = (pki_->path() / (cert + ".pem")).string();
        options.key_file = (pki_->path() / (cert + "-key.pem")).string();
        auto s = http::server::start(
            io.get_executor(),
            options,
            [this, statuses](http::request req, http::connection_info) -> asio::awaitable<http::reply> {
                received.push_back(req);
                http::reply r;
                r.status = statuses[std::min(received.size(), statuses.size()) - 1];
                co_return r;
            });
        ASSERT_TRUE(s) << s.error().message;
        receiver = std::move(*s);
    }

    config::notify_target target(std::vector<config::notify_event> on = {config::notify_event::failed,
                                                                         config::notify_event::succeeded}) {
        const auto url_file = dir.path() / "webhook-url";
        testing::write_file(url_file,
                            "https://127.0.0.1:" + std::to_string(receiver ? receiver->port() : 1) +
                                "/hooks/T0/SECRETTOKEN\n");
        config::notify_target t;
        t.url.source = config::secret_source::file;
        t.url.name = url_file.string();
        t.url.field_path = "notify[0].url_file";
        t.on = std::move(on);
        t.ca_file = (pki_->path() / "ca" / "ca.pem").string();
        return t;
    }

    std::unique_ptr<notifier> make(std::vector<config::notify_target> targets, int max_attempts = 8) {
        notifier_options options;
        options.retry.initial = 10ms;
        options.retry.max = 40ms;
        options.retry.give_up_after = 20s;
        options.max_attempts = max_attempts;
        options.request_timeout = 5s;
        auto n = notifier::create(
            io.get_executor(), targets, std::nullopt, config::environment{}, metrics, options);
        if (!n) {
            throw std::runtime_error(n.error().message);
        }
        return std::move(*n);
    }

    // Runs the loop until `done` holds (bounded).
    bool run_until(const std::function<bool()>& done, std::chrono::seconds bound = 20s) {
        const auto until = std::chrono::steady_clock::now() + bound;
        while (!done() && std::chrono::steady_clock::now() < until) {
            io.restart();
            io.run_for(20ms);
        }
        return done();
    }

    asio::io_context io;
    testing::temp_dir dir{"notify-delivery"};
    counting_recorder metrics;
    std::unique_ptr<http::server> receiver;
    std::vector<http::request> received;

  private:
    static testing::temp_dir* pki_;
};

testing::temp_dir* delivery::pki_ = nullptr;

TEST_F(delivery, survives_a_receiver_answering_500_for_a_while) {
    start_receiver({500, 500, 503, 200});
    auto n = make({target()});
    n->publish(config::notify_event::failed, run_finished_document(failed_run()));
    ASSERT_TRUE(run_until([&] { return n->stats().delivered == 1; })) << received.size();
    ASSERT_EQ(received.size(), 4u);
    for (const auto& r : received) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.target, "/hooks/T0/SECRETTOKEN");
        EXPECT_EQ(http::find_header(r.headers, "content-type").value_or(""), "application/json");
        EXPECT_EQ(r.body, received.front().body);  // the same document each attempt
    }
    const auto doc = json::parse(received.back().body);
    EXPECT_EQ(doc.at("event"), "failed");
    EXPECT_EQ(doc.at("reason"), "job_broken");
    EXPECT_EQ(n->stats().failed, 0u);
    EXPECT_EQ(metrics.failed, 0);
}

TEST_F(delivery, events_arrive_in_order_and_only_when_subscribed) {
    start_receiver({200});
    auto n = make({target({config::notify_event::failed, config::notify_event::succeeded})});
    auto ok = failed_run();
    ok.state = "succeeded";
    ok.error.clear();
    n->publish(config::notify_event::failed, run_finished_document(failed_run()));
    n->publish(config::notify_event::reload_failed, reload_failed_document("bad", "d"));  // not subscribed
    n->publish(config::notify_event::succeeded, run_finished_document(ok));
    ASSERT_TRUE(run_until([&] { return n->stats().delivered == 2; }));
    io.restart();
    io.run_for(100ms);
    ASSERT_EQ(received.size(), 2u);
    EXPECT_EQ(json::parse(received[0].body).at("event"), "failed");
    EXPECT_EQ(json::parse(received[1].body).at("event"), "succeeded");
}

TEST_F(delivery, gives_up_bounded_and_counts_the_failure) {
    start_receiver({500});
    auto n = make({target()}, 3);
    n->publish(config::notify_event::failed, run_finished_document(failed_run()));
    ASSERT_TRUE(run_until([&] { return n->stats().failed == 1; }));
    EXPECT_EQ(received.size(), 3u);  // max_attempts
    EXPECT_EQ(metrics.failed, 1);
    EXPECT_EQ(n->stats().delivered, 0u);
}

TEST_F(delivery, a_client_error_is_not_retried) {
    start_receiver({404});
    auto n = make({target()});
    n->publish(config::notify_event::failed, run_finished_document(failed_run()));
    ASSERT_TRUE(run_until([&] { return n->stats().failed == 1; }));
    io.restart();
    io.run_for(100ms);
    EXPECT_EQ(received.size(), 1u);
    EXPECT_EQ(metrics.failed, 1);
}

TEST_F(delivery, an_untrusted_receiver_certificate_is_refused) {
    start_receiver({200}, "bad");
    auto n = make({target()});
    n->publish(config::notify_event::failed, run_finished_document(failed_run()));
    ASSERT_TRUE(run_until([&] { return n->stats().failed == 1; }));
    EXPECT_TRUE(received.empty());
    EXPECT_EQ(n->stats().attempts, 1u);  // a TLS failure is not retried
    EXPECT_EQ(metrics.failed, 1);
}

TEST_F(delivery, an_unreadable_url_file_fails_without_sending) {
    start_receiver({200});
    auto t = target();
    t.url.name = (dir.path() / "missing").string();
    auto n = make({t});
    n->publish(config::notify_event::failed, run_finished_document(failed_run()));
    ASSERT_TRUE(run_until([&] { return n->stats().failed == 1; }));
    EXPECT_TRUE(received.empty());
    EXPECT_EQ(metrics.failed, 1);
}

TEST_F(delivery, the_queue_is_bounded) {
    start_receiver({200});
    notifier_options options;
    options.max_queued = 2;
    auto created = notifier::create(
        io.get_executor(), {target()}, std::nullopt, config::environment{}, metrics, options);
    ASSERT_TRUE(created);
    auto& n = *created;
    for (int i = 0; i < 5; ++i) {
        n->publish(config::notify_event::failed, run_finished_document(failed_run()));
    }
    // publish() never waits: nothing was sent yet, two are queued and three dropped and counted.
    EXPECT_TRUE(received.empty());
    EXPECT_EQ(n->stats().failed, 3u);
    EXPECT_EQ(metrics.failed, 3);
    ASSERT_TRUE(run_until([&] { return n->stats().delivered == 2; }));
}

}  // namespace
}  // namespace atlas_restored::notify
