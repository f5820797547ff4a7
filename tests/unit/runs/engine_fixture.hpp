#pragma once
// The run engine against the in-process fake Atlas (support/in_process_atlas.hpp) on the real
// clock (jobs take a few hundred milliseconds), with a recorder that keeps what the engine
// reports and a log of every request the server received.

#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "runs/engine.hpp"
#include "support/in_process_atlas.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::runs::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using atlas_restored::testing::group_id;
using atlas_restored::testing::sa_id;
using atlas_restored::testing::sa_secret;

// A broken test fails after this instead of hanging.
constexpr auto test_guard = std::chrono::seconds(30);

inline constexpr const char* list_route =
    "GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs";
inline constexpr const char* get_route =
    "GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs/{jobId}";
inline constexpr const char* create_route =
    "POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs";

class keeping_recorder final : public metrics::recorder {
  public:
    void run_finished(std::string_view policy,
                      std::string_view outcome,
                      std::chrono::duration<double>) override {
        finished.emplace_back(std::string(policy), std::string(outcome));
    }
    void jobs_by_status(std::string_view status, std::int64_t count) override {
        jobs[std::string(status)] = count;
    }
    void http_response(int) override {}
    void retry() override { ++retries; }
    void download_bytes(std::string_view, std::uint64_t bytes) override { downloaded += bytes; }
    void hash_mismatch(std::string_view) override {}
    void link_expiring(std::string_view) override {}
    void drill_succeeded(std::string_view policy, std::chrono::system_clock::time_point) override {
        ++drills[std::string(policy)];
    }
    void config_reloaded(bool, std::chrono::system_clock::time_point) override {}
    void active_runs(std::int64_t count) override {
        active = count;
        max_active = std::max(max_active, count);
    }
    void active_downloads(std::int64_t) override {}
    void notification_failed() override {}

    std::vector<std::pair<std::string, std::string>> finished;
    std::map<std::string, std::int64_t> jobs;
    std::map<std::string, int> drills;
    int retries = 0;
    std::uint64_t downloaded = 0;
    std::int64_t active = 0;
    std::int64_t max_active = 0;
};

class engine_test : public atlas_restored::testing::in_process_atlas_test {
  protected:
    engine_test() : in_process_atlas_test("runs-test") {}

    keeping_recorder metrics;
    config::configuration cfg;
    std::unique_ptr<engine> eng;
    // Every request the server received: when (steady clock) and "METHOD target".
    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> seen;

    virtual std::chrono::milliseconds job_duration() { return 400ms; }

    fake_atlas::time_point fake_time() override { return std::chrono::system_clock::now(); }

    fake_atlas::world_options world_options() override {
        fake_atlas::world_options o;
        o.clusters.push_back({"default", group_id, "users", 0});
        o.clusters.push_back({"default", group_id, "orders", 2});
        o.clusters.push_back({"default", group_id, "drill", 0});
        o.service_accounts.push_back({"default", sa_id, sa_secret});
        o.job_duration = job_duration();
        o.file_bytes = 64 * 1024;
        return o;
    }

    void on_request(const http::request& req) override {
        seen.emplace_back(std::chrono::steady_clock::now(), req.method + " " + req.target);
    }

    void SetUp() override {
        in_process_atlas_test::SetUp();
        cfg.state_dir = dir / "state";
        cfg.download_dir = dir / "downloads";
        cfg.retry.initial = 20ms;
        cfg.retry.max = 200ms;
        cfg.max_concurrent_runs = 4;
    }

    void TearDown() override {
        eng.reset();  // before the server and the io_context's last turn
        in_process_atlas_test::TearDown();
    }

    engine_options options() {
        engine_options o;
        o.max_concurrent_runs = cfg.max_concurrent_runs;
        o.download_dir = cfg.download_dir;
        o.reports_dir = dir / "state" / "reports";
        o.config_digest = "d1g3st";
        o.retry.initial = 20ms;
        o.retry.max = 200ms;
        o.download_defaults.idle_timeout = 5s;
        o.download_defaults.hash_wait = 5s;
        o.download_defaults.retry_initial = 10ms;
        o.download_defaults.retry_max = 50ms;
        o.download_defaults.hash_poll_initial = 20ms;
        return o;
    }

    // A fresh engine on the same store (a restart), resumed with `cfg`.
    void make_engine(engine_options o) {
        eng = std::make_unique<engine>(
            io.get_executor(),
            *store,
            metrics,
            [this](const config::policy&) { return &*api; },
            std::move(o));
        eng->resume_unfinished(cfg);
    }
    void make_engine() { make_engine(options()); }

    static config::policy automated(std::string name, std::string cluster = "users") {
        config::policy p;
        p.name = std::move(name);
        p.group_id = group_id;
        p.cluster = std::move(cluster);
        p.delivery.method = "AUTOMATED_RESTORE";
        p.delivery.target_group_id = group_id;
        p.delivery.target_cluster_name = "drill";
        p.delivery.confirm_overwrite = "drill";
        p.poll_interval = 50ms;
        p.deadline = 20s;
        return p;
    }

    static config::policy http_policy(std::string name, std::string cluster = "users") {
        config::policy p;
        p.name = std::move(name);
        p.group_id = group_id;
        p.cluster = std::move(cluster);
        p.delivery.method = "HTTP";
        p.delivery.expiration_hours = 4;
        p.delivery.max_downloads = 3;
        p.poll_interval = 50ms;
        p.deadline = 20s;
        return p;
    }

    static run_origin manual() {
        run_origin o;
        o.type = run_origin::kind::manual;
        o.started_by = "tester";
        return o;
    }
    static run_origin drill() {
        run_origin o;
        o.type = run_origin::kind::schedule;
        o.planned_at = std::chrono::system_clock::now();
        return o;
    }
    static run_origin trigger(std::string value) {
        run_origin o;
        o.type = run_origin::kind::trigger;
        o.trigger_value = std::move(value);
        return o;
    }

    // Drives the io_context until `done` or the guard; false on the guard. `each` runs between
    // slices (to sample state).
    bool run_until(const std::function<bool()>& done,
                   std::chrono::steady_clock::duration guard = test_guard,
                   const std::function<void()>& each = {}) {
        const auto until = std::chrono::steady_clock::now() + guard;
        io.restart();
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) {
                return false;
            }
            io.run_for(5ms);
            if (each) {
                each();
            }
            io.restart();
        }
        return true;
    }

    state::run_record run_of(const std::string& id) {
        auto r = store->get_run(id);
        EXPECT_TRUE(r && *r);
        return r && *r ? **r : state::run_record{};
    }

    bool finished(const std::string& id) { return state::is_final_run_state(run_of(id).state); }

    std::uint64_t route_count(const std::string& route) {
        const auto& by = world->counters().by_route;
        auto it = by.find(route);
        return it == by.end() ? 0 : it->second;
    }

    // The fake's request log, oldest first.
    std::vector<boost::json::object> requests() {
        std::vector<boost::json::object> out;
        for (const auto& e : world->request_log_json(0).at("requests").as_array()) {
            out.push_back(e.as_object());
        }
        return out;
    }

    void add_fault(const std::string& json) {
        auto faults = fake_atlas::parse_faults(json);
        ASSERT_TRUE(faults) << faults.error().message;
        ASSERT_TRUE(world->add_faults(*faults, std::chrono::system_clock::now()));
    }
};

}  // namespace atlas_restored::runs::testing
