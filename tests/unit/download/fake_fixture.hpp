#pragma once
// The downloader against the in-process fake Atlas (support/in_process_atlas.hpp) on a manual
// clock (fake_now), with a run in `downloading` to download for. run() drives a coroutine for a
// bounded time.

#include "download/downloader.hpp"
#include "fake_atlas/archive.hpp"
#include "metrics/metrics.hpp"
#include "support/in_process_atlas.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace atlas_restored::download::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using atlas_restored::testing::group_id;
using atlas_restored::testing::sa_id;
using atlas_restored::testing::sa_secret;

// A broken test fails after this instead of hanging.
constexpr auto test_guard = std::chrono::seconds(30);

// Counts what the downloader records.
class counting_recorder final : public metrics::recorder {
  public:
    void run_finished(std::string_view, std::string_view, std::chrono::duration<double>) override {}
    void jobs_by_status(std::string_view, std::int64_t) override {}
    void http_response(int status) override { ++responses[status]; }
    void retry() override { ++retries; }
    void download_bytes(std::string_view policy, std::uint64_t bytes) override {
        bytes_by_policy[std::string(policy)] += bytes;
    }
    void hash_mismatch(std::string_view policy) override { ++mismatches[std::string(policy)]; }
    void link_expiring(std::string_view policy) override { ++expiring[std::string(policy)]; }
    void drill_succeeded(std::string_view, std::chrono::system_clock::time_point) override {}
    void config_reloaded(bool, std::chrono::system_clock::time_point) override {}
    void active_runs(std::int64_t) override {}
    void active_downloads(std::int64_t count) override {
        active = count;
        max_active = std::max(max_active, count);
    }
    void notification_failed() override {}

    std::map<int, int> responses;
    std::map<std::string, std::uint64_t> bytes_by_policy;
    std::map<std::string, int> mismatches;
    std::map<std::string, int> expiring;
    int retries = 0;
    std::int64_t active = 0;
    std::int64_t max_active = 0;
};

// Everything the "download" logger writes, so tests can look for leaked secrets.
inline std::ostringstream& captured_log() {
    static std::ostringstream out;
    static const bool installed = [] {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
        auto logger = std::make_shared<spdlog::logger>("download", sink);
        logger->set_level(spdlog::level::debug);
        spdlog::register_logger(logger);
        return true;
    }();
    (void)installed;
    return out;
}

template <class T>
T run(asio::io_context& io, asio::awaitable<T> task, std::chrono::steady_clock::duration guard = test_guard) {
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

class fake_atlas_test : public atlas_restored::testing::in_process_atlas_test {
  protected:
    fake_atlas_test() : in_process_atlas_test("download-test") {}

    fake_atlas::time_point fake_now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 3h;
    counting_recorder metrics;
    std::string run_id = "r-20261128-030000-00000a";

    fake_atlas::time_point fake_time() override { return fake_now; }

    fake_atlas::world_options world_options() override {
        fake_atlas::world_options o;
        o.clusters.push_back({"default", group_id, "users", 0});
        o.clusters.push_back({"default", group_id, "orders", 3});
        o.service_accounts.push_back({"default", sa_id, sa_secret});
        o.job_duration = 3s;
        o.file_bytes = 512 * 1024;
        return o;
    }

    void SetUp() override {
        captured_log().str("");
        in_process_atlas_test::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        state::run_record run;
        run.id = run_id;
        run.policy = "drill";
        run.trigger = "manual";
        run.state = state::run_state::downloading;
        run.group_id = group_id;
        run.cluster = "users";
        run.method = "HTTP";
        run.restore_point_json = "{}";
        run.config_digest = "sha256:0";
        ASSERT_TRUE(store->insert_run(run));
    }

    // Creates an HTTP restore of `cluster` and lets it finish: the jobs, READY, with fresh links.
    std::vector<atlas::restore_job> ready_jobs(const std::string& cluster, int max_downloads = 2) {
        auto jobs = run(io, [&]() -> asio::awaitable<result<std::vector<atlas::restore_job>>> {
            auto snap = co_await api->latest_snapshot(group_id, cluster);
            if (!snap) {
                co_return snap.error();
            }
            atlas::create_restore_job_request req;
            req.snapshot_id = snap->id;
            req.delivery.method_name = "HTTP";
            req.delivery.max_downloads = max_downloads;
            req.delivery.expiration_hours = 4;
            auto made = co_await api->create_restore_job(group_id, cluster, req, fake_now);
            if (!made) {
                co_return made.error();
            }
            co_return made->jobs;
        }());
        EXPECT_TRUE(jobs) << jobs.error().message;
        if (!jobs) {
            return {};
        }
        fake_now += 5s;
        std::vector<atlas::restore_job> out;
        for (const auto& j : *jobs) {
            auto fresh = reread(cluster, j.id)();
            auto got = run(io, std::move(fresh));
            EXPECT_TRUE(got) << got.error().message;
            EXPECT_EQ(got->delivery_info.status_name, "READY");
            state::job_record jr;
            jr.run_id = run_id;
            jr.job_id = j.id;
            jr.submission_no = 1;
            jr.status_name = got->status_name;
            EXPECT_TRUE(store->upsert_job(jr));
            out.push_back(*got);
        }
        return out;
    }

    // A plain lambda around a coroutine with by-value parameters: the awaitable it returns does not
    // depend on the lambda object (a coroutine lambda's captures die with a temporary std::function).
    reread_job_fn reread(std::string cluster, std::string job_id) {
        return [this, cluster, job_id] { return get_job(cluster, job_id); };
    }

    asio::awaitable<result<atlas::restore_job>> get_job(std::string cluster, std::string job_id) {
        co_return co_await api->get_restore_job(group_id, cluster, job_id);
    }

    file_plan plan_for(const atlas::restore_job& job) {
        file_plan p;
        p.policy = "drill";
        p.run_id = run_id;
        p.job_id = job.id;
        p.directory = dir / "downloads" / "drill" / run_id;
        p.idle_timeout = 5s;
        p.hash_wait = 2s;
        p.retry_initial = 5ms;
        p.retry_max = 20ms;
        p.hash_poll_initial = 10ms;
        p.clock = [this] { return fake_now; };
        return p;
    }

    file_result fetch(downloader& d,
                      file_plan plan,
                      const atlas::restore_job& job,
                      const std::string& cluster = "users") {
        return run(io, d.fetch(std::move(plan), job, reread(cluster, job.id)));
    }

    // The fake's request log entries for downloads (the key is redacted there).
    std::vector<boost::json::object> download_requests() {
        std::vector<boost::json::object> out;
        auto log = world->request_log_json(0);
        for (const auto& e : log.at("requests").as_array()) {
            const auto& o = e.as_object();
            if (std::string_view(o.at("target").as_string()).find("/backup/restore/") !=
                std::string_view::npos) {
                out.push_back(o);
            }
        }
        return out;
    }

    static std::string header(const boost::json::object& entry, const std::string& name) {
        const auto& h = entry.at("headers").as_object();
        auto it = h.find(name);
        return it == h.end() ? std::string() : std::string(it->value().as_string());
    }

    // The file's real SHA-1, computed from the fake's own content independently of the downloader.
    std::string true_sha1(const std::string& job_id) {
        const auto& j = world->jobs().at(job_id);
        return fake_atlas::file_sha1(*j.content);
    }
};

}  // namespace atlas_restored::download::testing
