// The run engine against the fake Atlas (in-process, TLS, real clock): runs to success and to
// each failure, one list call per poll for a sharded batch, exactly one create across ambiguous
// answers and "crashes", on-call precedence, prompt shutdown and resumption.

#include "engine_fixture.hpp"
#include "runs/report.hpp"
#include "util/time.hpp"

#include <fstream>
#include <sstream>

namespace atlas_restored::runs::testing {
namespace {

using state::run_state::failed;
using state::run_state::succeeded;

boost::json::object read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str()).as_object();
}

TEST_F(engine_test, a_replica_set_automated_restore_runs_to_success) {
    make_engine();
    auto id = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(id) << id.error().message;
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, succeeded) << run.error;
    EXPECT_TRUE(run.error.empty());
    EXPECT_EQ(run.trigger, "manual");
    EXPECT_EQ(run.started_by, "tester");
    EXPECT_EQ(run.config_digest, "d1g3st");
    EXPECT_EQ(run.submissions, 1);
    ASSERT_TRUE(run.snapshot_id);
    // The newest completed one (the fake lists them oldest first, then one still being taken).
    const auto ids = world->snapshot_ids(group_id, "users");
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(run.snapshot_id, ids[ids.size() - 2]);
    EXPECT_TRUE(run.snapshot_time);
    EXPECT_NE(run.restore_point_json.find(*run.snapshot_id), std::string::npos);
    EXPECT_TRUE(run.submitted_at && run.ready_at && run.finished_at);
    EXPECT_LE(*run.created_at, *run.submitted_at);
    EXPECT_LE(*run.submitted_at, *run.ready_at);

    EXPECT_EQ(world->counters().creates, 1u);
    auto jobs = store->list_jobs(*id).value();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].status_name, "FINISHED");
    auto intent = store->get_intent(*id, 1).value();
    ASSERT_TRUE(intent);
    EXPECT_TRUE(intent->resolved);
    EXPECT_EQ(intent->job_ids, std::vector<std::string>{jobs[0].job_id});
    // The create call sent what the policy says, with the snapshot resolved at run time.
    const auto& job = world->jobs().at(jobs[0].job_id);
    EXPECT_TRUE(job.automated);
    EXPECT_EQ(job.target_cluster_name, std::optional<std::string>("drill"));
    EXPECT_EQ(job.snapshot_id, *run.snapshot_id);

    ASSERT_EQ(metrics.finished.size(), 1u);
    EXPECT_EQ(metrics.finished[0], (std::pair<std::string, std::string>{"users-drill", "succeeded"}));
    EXPECT_EQ(metrics.drills["users-drill"], 1);

    auto report = read_json(dir / "state" / "reports" / "users-drill" / (*id + ".json"));
    EXPECT_EQ(report.at("outcome"), "succeeded");
    EXPECT_EQ(report.at("started_by").at("kind"), "run-now");
    EXPECT_EQ(report.at("config_digest"), "d1g3st");
    EXPECT_EQ(report.at("jobs").as_array().size(), 1u);
    EXPECT_TRUE(report.at("timings_seconds").at("total_rto").is_double());
    EXPECT_TRUE(report.at("timings_seconds").at("snapshot_age_rpo").is_double());
    EXPECT_TRUE(eng->summary().active_runs == 0 && eng->summary().queued_runs == 0);
}

TEST_F(engine_test, a_sharded_batch_is_polled_with_one_list_call_per_interval) {
    make_engine();
    auto p = automated("orders-drill", "orders");
    p.poll_interval = 100ms;
    auto id = eng->start_run(p, drill());
    ASSERT_TRUE(id) << id.error().message;
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    ASSERT_EQ(run.state, succeeded) << run.error;
    ASSERT_TRUE(run.batch_id);
    auto jobs = store->list_jobs(*id).value();
    ASSERT_EQ(jobs.size(), 3u);  // two shards and the config server
    for (const auto& j : jobs) {
        EXPECT_EQ(j.batch_id, run.batch_id);
        EXPECT_EQ(j.status_name, "FINISHED");
    }
    EXPECT_EQ(route_count(get_route), 0u);  // never one call per job
    std::vector<std::chrono::steady_clock::time_point> polls;
    for (const auto& [at, what] : seen) {
        if (what.rfind("GET /api/atlas/v2/groups/", 0) == 0 &&
            what.find("/restoreJobs?") != std::string::npos) {
            EXPECT_NE(what.find("batchId=" + *run.batch_id), std::string::npos) << what;
            polls.push_back(at);
        }
    }
    EXPECT_EQ(route_count(list_route), polls.size());
    ASSERT_GE(polls.size(), 3u);  // the jobs take 400 ms; the interval is 100 ms
    EXPECT_LE(polls.size(), 8u);
    for (std::size_t i = 1; i < polls.size(); ++i) {
        EXPECT_GE(polls[i] - polls[i - 1], 95ms) << "poll " << i;
    }
}

TEST_F(engine_test, a_broken_job_fails_the_run_with_job_broken) {
    add_fault(R"({"kind":"job_broken"})");
    make_engine();
    auto id = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, failed);
    EXPECT_EQ(run.error.rfind("job_broken: ", 0), 0u) << run.error;
    ASSERT_TRUE(run.finished_at);
    EXPECT_EQ(metrics.finished.back().second, "job_broken");
    EXPECT_EQ(metrics.drills.count("users-drill"), 0u);
    auto report = read_json(dir / "state" / "reports" / "users-drill" / (*id + ".json"));
    EXPECT_EQ(report.at("outcome"), "failed");
    EXPECT_EQ(report.at("reason"), "job_broken");
}

TEST_F(engine_test, a_killed_job_and_a_failed_delivery_have_their_reasons) {
    add_fault(R"([{"kind":"job_killed"},{"kind":"delivery_failed"}])");
    make_engine();
    auto killed = eng->start_run(automated("a"), manual());
    ASSERT_TRUE(killed);
    ASSERT_TRUE(run_until([&] { return finished(*killed); }));
    auto second = eng->start_run(automated("b"), manual());
    ASSERT_TRUE(second);
    ASSERT_TRUE(run_until([&] { return finished(*second); }));
    EXPECT_EQ(run_of(*killed).error.rfind("job_killed: ", 0), 0u) << run_of(*killed).error;
    EXPECT_EQ(run_of(*second).error.rfind("delivery_failed: ", 0), 0u) << run_of(*second).error;
}

class slow_engine_test : public engine_test {
  protected:
    std::chrono::milliseconds job_duration() override { return 60s; }
};

TEST_F(slow_engine_test, the_deadline_fails_a_run_still_waiting) {
    make_engine();
    auto p = automated("users-drill");
    p.deadline = 700ms;
    p.poll_interval = 100ms;
    const auto started = std::chrono::steady_clock::now();
    auto id = eng->start_run(p, manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto took = std::chrono::steady_clock::now() - started;
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, failed);
    EXPECT_EQ(run.error.rfind("deadline_exceeded: ", 0), 0u) << run.error;
    EXPECT_GE(took, 650ms);
    EXPECT_LT(took, 3s);
    EXPECT_EQ(store->list_jobs(*id).value().size(), 1u);  // the job is kept for the record
}

// Links that expire 10 minutes after the job finishes: with expirationHours 4, less than an
// eighth of the link's life is left when the download starts, so the engine announces it.
class short_link_engine_test : public engine_test {
  protected:
    fake_atlas::world_options world_options() override {
        auto o = engine_test::world_options();
        o.link_ttl = std::chrono::minutes(10);
        return o;
    }
};

TEST_F(short_link_engine_test, a_link_close_to_expiry_is_announced_with_its_run_job_and_file) {
    struct announcement {
        std::string run_id, policy, job_id, file, expires;
    };
    std::vector<announcement> announced;
    auto o = options();
    o.on_link_expiring = [&announced](const state::run_record& run,
                                      const std::string& job_id,
                                      const std::string& file,
                                      const std::string& expires) {
        announced.push_back({run.id, run.policy, job_id, file, expires});
    };
    make_engine(o);
    auto id = eng->start_run(http_policy("users-http"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    EXPECT_EQ(run_of(*id).state, succeeded) << run_of(*id).error;  // a warning, not a failure
    ASSERT_EQ(announced.size(), 1u);
    const auto jobs = store->list_jobs(*id).value();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(announced[0].run_id, *id);
    EXPECT_EQ(announced[0].policy, "users-http");
    EXPECT_EQ(announced[0].job_id, jobs[0].job_id);
    const auto files = store->list_files(*id).value();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(announced[0].file, files[0].file_name);
    const auto expires = parse_iso8601(announced[0].expires);
    ASSERT_TRUE(expires) << announced[0].expires;
    EXPECT_LT(*expires - std::chrono::system_clock::now(), std::chrono::minutes(11));
}

TEST_F(engine_test, an_ambiguous_create_is_reconciled_to_exactly_one_job) {
    // The fake creates the job, then drops the connection without an answer.
    add_fault(R"({"kind":"ambiguous_create"})");
    make_engine();
    auto id = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, succeeded) << run.error;
    EXPECT_EQ(world->counters().creates, 1u);
    EXPECT_EQ(world->counters().jobs_created, 1u);
    EXPECT_EQ(route_count(create_route), 1u);
    EXPECT_GE(api->stats().reconciliations, 1u);
    auto jobs = store->list_jobs(*id).value();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_TRUE(world->jobs().contains(jobs[0].job_id));
}

TEST_F(engine_test, an_engine_lost_after_the_intent_and_before_the_create_submits_once_on_resume) {
    auto o = options();
    o.crash_point = [](std::string_view point, const std::string&) { return point == "intent_recorded"; };
    make_engine(o);
    auto id = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return !eng->is_active(*id); }));
    {
        const auto run = run_of(*id);
        EXPECT_EQ(run.state, state::run_state::submitting);
        auto intent = store->get_intent(*id, 1).value();
        ASSERT_TRUE(intent);
        EXPECT_FALSE(intent->resolved);
        EXPECT_EQ(world->counters().creates, 0u);
    }
    eng.reset();  // "SIGKILL"
    seen.clear();
    make_engine();  // the restart: resume_unfinished
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    EXPECT_EQ(run_of(*id).state, succeeded) << run_of(*id).error;
    EXPECT_EQ(world->counters().creates, 1u);
    EXPECT_EQ(route_count(create_route), 1u);
    // The restarted engine listed the cluster's jobs before it sent the create.
    std::size_t first_list = seen.size(), first_post = seen.size();
    for (std::size_t i = 0; i < seen.size(); ++i) {
        if (first_list == seen.size() && seen[i].second.rfind("GET ", 0) == 0 &&
            seen[i].second.find("/restoreJobs?") != std::string::npos) {
            first_list = i;
        }
        if (first_post == seen.size() && seen[i].second.rfind("POST ", 0) == 0 &&
            seen[i].second.find("/restoreJobs") != std::string::npos) {
            first_post = i;
        }
    }
    ASSERT_LT(first_post, seen.size());
    EXPECT_LT(first_list, first_post);
}

TEST_F(engine_test, an_engine_lost_after_the_create_adopts_the_job_on_resume) {
    auto o = options();
    o.crash_point = [](std::string_view point, const std::string&) { return point == "create_answered"; };
    make_engine(o);
    auto id = eng->start_run(automated("orders-drill", "orders"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return !eng->is_active(*id); }));
    EXPECT_EQ(world->counters().creates, 1u);
    EXPECT_EQ(store->list_jobs(*id).value().size(), 0u);  // the answer was lost with the process
    eng.reset();
    make_engine();
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, succeeded) << run.error;
    EXPECT_EQ(world->counters().creates, 1u);
    EXPECT_EQ(route_count(create_route), 1u);
    EXPECT_EQ(store->list_jobs(*id).value().size(), 3u);  // the whole batch was adopted
    EXPECT_TRUE(run.batch_id);
}

TEST_F(engine_test, a_run_of_a_removed_policy_finishes_after_a_restart) {
    auto o = options();
    o.crash_point = [](std::string_view point, const std::string&) { return point == "jobs_stored"; };
    cfg.policies.push_back(automated("users-drill"));
    make_engine(o);
    auto id = eng->start_run(cfg.policies[0], manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return !eng->is_active(*id); }));
    EXPECT_EQ(run_of(*id).state, state::run_state::waiting);
    eng.reset();
    cfg.policies.clear();  // a reload removed the policy while the daemon was down
    make_engine();
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    EXPECT_EQ(run_of(*id).state, succeeded) << run_of(*id).error;
    EXPECT_EQ(world->counters().creates, 1u);
}

TEST_F(engine_test, on_call_runs_take_the_next_slot_before_drills) {
    cfg.max_concurrent_runs = 1;
    make_engine();
    auto d1 = eng->start_run(automated("d1"), drill());
    auto d2 = eng->start_run(automated("d2"), drill());
    auto oncall = eng->start_run(automated("incident"), trigger("INC-4312"));
    ASSERT_TRUE(d1 && d2 && oncall);
    EXPECT_TRUE(eng->is_active(*d1));
    EXPECT_TRUE(eng->is_queued(*d2));
    EXPECT_TRUE(eng->is_queued(*oncall));
    EXPECT_EQ(eng->summary().queued_runs, 2);
    int most_active = 0;
    ASSERT_TRUE(run_until([&] { return finished(*d1) && finished(*d2) && finished(*oncall); },
                          test_guard,
                          [&] { most_active = std::max(most_active, eng->summary().active_runs); }));
    EXPECT_EQ(most_active, 1);
    EXPECT_EQ(metrics.max_active, 1);
    const auto a = run_of(*d1), b = run_of(*d2), t = run_of(*oncall);
    EXPECT_EQ(t.state, succeeded);
    EXPECT_EQ(t.trigger, "INC-4312");
    ASSERT_TRUE(a.submitted_at && b.submitted_at && t.submitted_at);
    EXPECT_LT(*a.submitted_at, *t.submitted_at);
    EXPECT_LT(*t.submitted_at, *b.submitted_at);
    EXPECT_GE(*t.submitted_at, *a.finished_at);  // it waited for the slot, then went first
}

TEST_F(engine_test, a_trigger_value_runs_once) {
    make_engine();
    auto p = automated("incident");
    auto first = eng->start_run(p, trigger("INC-1"));
    ASSERT_TRUE(first);
    auto again = eng->start_run(p, trigger("INC-1"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, errc::invalid_input);
    EXPECT_EQ(store->count_runs().value(), 1);
    auto other = eng->start_run(p, trigger("INC-2"));
    EXPECT_TRUE(other);
    ASSERT_TRUE(run_until([&] { return finished(*first) && finished(*other); }));
}

TEST_F(engine_test, pre_flight_refuses_a_cluster_that_does_not_exist) {
    make_engine();
    auto id = eng->start_run(automated("ghost", "ghost"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, failed);
    EXPECT_EQ(run.error.rfind("preflight_failed: ", 0), 0u) << run.error;
    EXPECT_EQ(world->counters().creates, 0u);
    EXPECT_FALSE(store->get_intent(*id, 1).value());
}

TEST_F(engine_test, pre_flight_refuses_a_target_given_only_by_id) {
    make_engine();
    auto p = automated("by-id");
    p.delivery.target_cluster_name.reset();
    p.delivery.target_cluster_id = "5f1b0000000000000000c1d0";
    auto id = eng->start_run(p, manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    EXPECT_EQ(run_of(*id).error.rfind("preflight_failed: ", 0), 0u) << run_of(*id).error;
    EXPECT_EQ(world->counters().creates, 0u);
}

TEST_F(engine_test, a_refused_create_fails_with_submit_failed) {
    add_fault(R"({"kind":"status","status":400,"match":"POST */restoreJobs"})");
    make_engine();
    auto id = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    EXPECT_EQ(run_of(*id).error.rfind("submit_failed: ", 0), 0u)
        << run_of(*id).error << " / " << run_of(*id).state;
    EXPECT_EQ(world->counters().creates, 0u);
}

TEST_F(engine_test, polls_back_off_on_errors_and_honour_retry_after) {
    make_engine();
    auto p = automated("users-drill");
    p.poll_interval = 50ms;
    auto id = eng->start_run(p, manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return run_of(*id).state == std::string(state::run_state::waiting); }));
    // The next poll is answered 429 with Retry-After: 1 (the client itself retries a little first).
    add_fault(R"({"kind":"rate_limit","count":3,"retry_after":1,"match":"GET */restoreJobs/*"})");
    const auto limited_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    EXPECT_EQ(run_of(*id).state, succeeded) << run_of(*id).error;
    EXPECT_GE(metrics.retries, 1);
    // After the last 429, nothing was polled for at least the second Retry-After asked for.
    std::optional<std::chrono::steady_clock::time_point> after;
    for (const auto& [at, what] : seen) {
        if (at > limited_at && what.find("/restoreJobs/") != std::string::npos) {
            after = at;
        }
    }
    ASSERT_TRUE(after);
    EXPECT_GE(*after - limited_at, 1s);
}

TEST_F(slow_engine_test, shutdown_is_prompt_and_the_run_resumes_without_a_second_create) {
    make_engine();
    auto p = automated("users-drill");
    p.poll_interval = 30s;
    auto id = eng->start_run(p, manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return run_of(*id).state == std::string(state::run_state::waiting); }));
    bool stopped = false;
    const auto asked = std::chrono::steady_clock::now();
    asio::co_spawn(io, eng->shutdown(), [&](std::exception_ptr) { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);
    EXPECT_EQ(run_of(*id).state, state::run_state::waiting);
    EXPECT_EQ(eng->summary().active_runs, 0);
    auto refused = eng->start_run(p, manual());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::cancelled);

    eng.reset();
    make_engine();
    EXPECT_TRUE(eng->is_active(*id));
    ASSERT_TRUE(run_until([&] { return route_count(get_route) >= 2; }, 5s));  // polled again at once
    EXPECT_EQ(world->counters().creates, 1u);
    EXPECT_EQ(run_of(*id).state, state::run_state::waiting);
}

TEST_F(engine_test, an_http_restore_is_downloaded_verified_and_reported) {
    make_engine();
    auto p = http_policy("users-http");
    p.after_download = config::after_download_settings{{"/bin/sh", "-c", "test -s \"$0\"", "{file}"}, 10s};
    auto id = eng->start_run(p, drill());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    ASSERT_EQ(run.state, succeeded) << run.error;
    EXPECT_TRUE(run.downloaded_at);
    auto files = store->list_files(*id).value();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_TRUE(files[0].verified);
    EXPECT_EQ(files[0].bytes_done, 64 * 1024);
    const auto path = dir / "downloads" / "users-http" / *id / files[0].file_name;
    EXPECT_TRUE(std::filesystem::exists(path)) << path;
    auto report = read_json(dir / "state" / "reports" / "users-http" / (*id + ".json"));
    ASSERT_EQ(report.at("files").as_array().size(), 1u);
    EXPECT_EQ(report.at("files").at(0).at("verified"), true);
    EXPECT_EQ(report.at("files").at(0).at("sha1").as_string(), files[0].sha1_actual.value_or(""));
    EXPECT_TRUE(report.at("timings_seconds").at("to_download_complete").is_double());
    // Nothing in the database or the report carries the link or its key.
    const auto text = boost::json::serialize(report);
    EXPECT_EQ(text.find("/backup/restore"), std::string::npos);
    EXPECT_EQ(text.find("authValue"), std::string::npos);
}

TEST_F(engine_test, a_failing_after_download_command_fails_the_run) {
    make_engine();
    auto p = http_policy("users-http");
    p.after_download = config::after_download_settings{{"/bin/sh", "-c", "echo bad archive; exit 3"}, 10s};
    auto id = eng->start_run(p, drill());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, failed);
    EXPECT_EQ(run.error.rfind("after_download_failed: ", 0), 0u) << run.error;
    EXPECT_NE(run.error.find("bad archive"), std::string::npos) << run.error;
}

TEST_F(engine_test, an_expired_link_fails_the_run_or_is_resubmitted_when_the_policy_says_so) {
    // The created job's link expires the moment the job finishes: EXPIRED instead of READY.
    add_fault(R"({"kind":"expire_link","match":"POST */restoreJobs"})");
    make_engine();
    auto strict = eng->start_run(http_policy("strict"), manual());
    ASSERT_TRUE(strict);
    ASSERT_TRUE(run_until([&] { return finished(*strict); }));
    EXPECT_EQ(run_of(*strict).error.rfind("link_expired: ", 0), 0u) << run_of(*strict).error;
    EXPECT_EQ(world->counters().creates, 1u);

    add_fault(R"({"kind":"expire_link","match":"POST */restoreJobs"})");
    auto p = http_policy("lenient");
    p.resubmit_on_expiry = true;
    auto lenient = eng->start_run(p, manual());
    ASSERT_TRUE(lenient);
    ASSERT_TRUE(run_until([&] { return finished(*lenient); }));
    const auto run = run_of(*lenient);
    EXPECT_EQ(run.state, succeeded) << run.error;
    EXPECT_EQ(run.submissions, 2);
    EXPECT_EQ(world->counters().creates, 3u);  // one for `strict`, two for `lenient`
    auto intents = store->list_intents(*lenient).value();
    ASSERT_EQ(intents.size(), 2u);
    EXPECT_TRUE(intents[0].resolved && intents[1].resolved);
    EXPECT_EQ(intents[0].request_body_json, intents[1].request_body_json);
    auto jobs = store->list_jobs(*lenient).value();
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[0].submission_no, 1);
    EXPECT_EQ(jobs[0].delivery_status, std::optional<std::string>("EXPIRED"));
    EXPECT_EQ(jobs[1].submission_no, 2);
    auto files = store->list_files(*lenient).value();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].job_id, jobs[1].job_id);
    EXPECT_TRUE(files[0].verified);
}

TEST_F(engine_test, runs_starting_together_share_one_access_token_request) {
    make_engine();
    std::vector<std::string> ids;
    for (const char* name : {"a", "b", "c", "d", "e"}) {
        auto id = eng->start_run(automated(name), manual());
        ASSERT_TRUE(id) << id.error().message;
        ids.push_back(*id);
    }
    ASSERT_TRUE(run_until([&] {
        return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) { return finished(id); });
    }));
    for (const auto& id : ids) {
        EXPECT_EQ(run_of(id).state, succeeded) << run_of(id).error;
    }
    // Five callers found the token cache empty at once: one request, the others waited for it.
    EXPECT_EQ(world->counters().token_requests, 1u);
}

TEST_F(engine_test, the_jobs_gauge_counts_the_jobs_of_active_runs_only) {
    make_engine();
    auto a = eng->start_run(automated("a", "users"), manual());
    auto b = eng->start_run(automated("b", "orders"), manual());
    ASSERT_TRUE(a && b);
    const auto counted = [&] {
        std::int64_t total = 0;
        for (const auto& [status, count] : metrics.jobs) {
            total += count;
        }
        return total;
    };
    ASSERT_TRUE(run_until([&] { return counted() >= 1; }));
    ASSERT_TRUE(run_until([&] { return finished(*a) && finished(*b); }));
    // Both runs left: none of their jobs is counted any more, whatever state it ended in.
    EXPECT_FALSE(metrics.jobs.empty());
    for (const auto& [status, count] : metrics.jobs) {
        EXPECT_EQ(count, 0) << status;
    }
}

TEST_F(engine_test, every_run_of_a_project_shares_its_rate_limit) {
    cfg.atlas.requests_per_minute = 4;  // a bucket of 4 calls, then one every 15 s
    make_engine();
    auto a = eng->start_run(automated("a", "users"), manual());
    auto b = eng->start_run(automated("b", "orders"), manual());  // another cluster, the same project
    ASSERT_TRUE(a && b);
    const auto api_calls = [&] {
        std::size_t calls = 0;
        for (const auto& [at, what] : seen) {
            calls += what.find(" /api/atlas/v2/") != std::string::npos ? 1 : 0;
        }
        return calls;
    };
    // Wait for the bucket to be spent (slow under a loaded CI machine), then give the
    // runs time to prove they do not go past it: the next token is 15 s away.
    ASSERT_TRUE(run_until([&] { return api_calls() >= 4; }, 10s));
    io.restart();
    io.run_for(1000ms);
    // The bucket's four calls, shared by both runs (which of them got which depends on timing:
    // snapshot listings, creates, a first poll), then nothing until the next token in 15 s.
    EXPECT_EQ(api_calls(), 4u);
    EXPECT_GE(world->counters().creates, 1u);
    EXPECT_FALSE(finished(*a) || finished(*b));
    bool stopped = false;
    asio::co_spawn(io, eng->shutdown(), [&](std::exception_ptr) { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }, 5s));
}

TEST_F(engine_test, a_reload_that_adds_slots_starts_queued_runs) {
    cfg.max_concurrent_runs = 1;
    make_engine();
    auto a = eng->start_run(automated("a"), drill());
    auto b = eng->start_run(automated("b"), drill());
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(eng->is_queued(*b));
    cfg.max_concurrent_runs = 2;
    eng->configuration_changed(cfg, "new-digest");
    EXPECT_TRUE(eng->is_active(*b));
    auto c = eng->start_run(automated("c"), drill());
    ASSERT_TRUE(c);
    EXPECT_TRUE(eng->is_queued(*c));
    ASSERT_TRUE(run_until([&] { return finished(*a) && finished(*b) && finished(*c); }));
    EXPECT_EQ(run_of(*a).config_digest, "d1g3st");
    EXPECT_EQ(run_of(*c).config_digest, "new-digest");
    EXPECT_EQ(metrics.max_active, 2);
}

TEST_F(slow_engine_test, shutdown_cancels_a_call_in_flight) {
    make_engine();
    auto id = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return run_of(*id).state == std::string(state::run_state::waiting); }));
    // The next poll gets no answer for 20 s.
    add_fault(R"({"kind":"stall","delay_ms":20000,"match":"GET */restoreJobs/*"})");
    const auto stalled_from = seen.size();
    ASSERT_TRUE(run_until([&] { return seen.size() > stalled_from; }, 5s));
    io.restart();
    io.run_for(50ms);
    bool stopped = false;
    const auto asked = std::chrono::steady_clock::now();
    asio::co_spawn(io, eng->shutdown(), [&](std::exception_ptr) { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }, 10s));
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);
    EXPECT_EQ(run_of(*id).state, state::run_state::waiting);
    EXPECT_TRUE(run_of(*id).error.empty());
}

TEST_F(engine_test, two_runs_of_one_policy_at_once_each_get_their_own_job) {
    // Both send the same request and both creates are ambiguous: each listing shows two matching
    // jobs, and neither run may adopt the other's.
    add_fault(R"({"kind":"ambiguous_create","count":2})");
    make_engine();
    auto p = automated("users-drill");
    auto a = eng->start_run(p, drill());
    auto b = eng->start_run(p, trigger("INC-9"));
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(run_until([&] { return finished(*a) && finished(*b); }));
    EXPECT_EQ(run_of(*a).state, succeeded) << run_of(*a).error;
    EXPECT_EQ(run_of(*b).state, succeeded) << run_of(*b).error;
    EXPECT_EQ(world->counters().creates, 2u);
    auto ja = store->list_jobs(*a).value();
    auto jb = store->list_jobs(*b).value();
    ASSERT_EQ(ja.size(), 1u);
    ASSERT_EQ(jb.size(), 1u);
    EXPECT_NE(ja[0].job_id, jb[0].job_id);
}

TEST_F(engine_test, a_run_that_finished_just_before_a_crash_gets_its_report_at_the_next_start) {
    state::run_record run;
    run.id = "r-20261128-030000-abcdef";
    run.policy = "users-drill";
    run.trigger = "schedule";
    run.state = state::run_state::failed;
    run.error = "job_killed: restore job x was KILLED in Atlas";
    run.group_id = group_id;
    run.cluster = "users";
    run.method = "AUTOMATED_RESTORE";
    run.restore_point_json = "{}";
    run.config_digest = "old";
    run.created_at = 1'764'298'800'000;
    run.finished_at = 1'764'299'000'000;
    ASSERT_TRUE(store->insert_run(run));
    const auto path = dir / "state" / "reports" / "users-drill" / (run.id + ".json");
    ASSERT_FALSE(std::filesystem::exists(path));
    make_engine();
    ASSERT_TRUE(std::filesystem::exists(path));
    EXPECT_EQ(read_json(path).at("reason"), "job_killed");
    EXPECT_FALSE(eng->is_active(run.id));
}

TEST_F(engine_test, a_file_that_never_matches_its_hash_fails_with_sha1_mismatch) {
    add_fault(R"({"kind":"wrong_hash","count":5})");
    make_engine();
    auto p = http_policy("users-http");
    p.delivery.max_downloads = 1;
    auto id = eng->start_run(p, drill());
    ASSERT_TRUE(id);
    ASSERT_TRUE(run_until([&] { return finished(*id); }));
    const auto run = run_of(*id);
    EXPECT_EQ(run.state, failed);
    EXPECT_EQ(run.error.rfind("sha1_mismatch: ", 0), 0u) << run.error;
    EXPECT_EQ(metrics.finished.back().second, "sha1_mismatch");
    auto files = store->list_files(*id).value();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_FALSE(files[0].verified);
}

}  // namespace
}  // namespace atlas_restored::runs::testing

namespace atlas_restored::runs::testing {
namespace {

// The notification hook (issue 7 webhooks): called once per finished run, after the final state
// is committed, with that final record.
TEST_F(engine_test, the_finished_hook_sees_each_final_run_once) {
    std::vector<state::run_record> seen;
    auto o = options();
    o.on_finished = [&](const state::run_record& run) {
        // Already durable when the hook runs.
        EXPECT_EQ(store->get_run(run.id).value()->state, run.state);
        seen.push_back(run);
    };
    make_engine(std::move(o));
    add_fault(R"({"kind":"job_broken"})");
    auto broken = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(broken) << broken.error().message;
    ASSERT_TRUE(run_until([&] { return finished(*broken); }));
    auto ok = eng->start_run(automated("users-drill"), manual());
    ASSERT_TRUE(ok) << ok.error().message;
    ASSERT_TRUE(run_until([&] { return finished(*ok); }));
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].id, *broken);
    EXPECT_EQ(seen[0].state, "failed");
    EXPECT_EQ(seen[0].error.rfind("job_broken: ", 0), 0u) << seen[0].error;
    EXPECT_TRUE(seen[0].finished_at);
    EXPECT_EQ(seen[1].id, *ok);
    EXPECT_EQ(seen[1].state, "succeeded");
}

}  // namespace
}  // namespace atlas_restored::runs::testing
