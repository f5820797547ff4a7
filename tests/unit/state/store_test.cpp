#include "state/store.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

namespace atlas_restored::state {
namespace {

using testing::temp_dir;

run_record sample_run(std::string id, std::string policy = "orders-weekly-drill") {
    run_record run;
    run.id = std::move(id);
    run.policy = std::move(policy);
    run.trigger = "schedule";
    run.state = run_state::pending;
    run.group_id = "32b6e34b3d91647abb20e7b8";
    run.cluster = "orders-prod";
    run.method = "HTTP";
    run.restore_point_json = R"({"snapshotId":"5f1b0a3c3d91647abb20e7b9"})";
    run.config_digest = "sha256:0123";
    run.created_at = 1'764'374'400'000;
    return run;
}

job_record sample_job(std::string run_id, std::string job_id) {
    job_record job;
    job.run_id = std::move(run_id);
    job.job_id = std::move(job_id);
    job.submission_no = 1;
    job.batch_id = "b-1";
    job.status_name = "IN_PROGRESS";
    job.delivery_status = "NOT_STARTED";
    job.delivery_method = "HTTP";
    job.max_downloads = 2;
    return job;
}

store open_store(const temp_dir& dir) {
    auto s = store::open(dir.path());
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return std::move(*s);
}

TEST(store, creates_the_state_directory_and_database) {
    temp_dir dir;
    auto s = store::open(dir / "a/b");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->path(), dir / "a/b/atlas-restored.db");
    EXPECT_TRUE(std::filesystem::exists(dir / "a/b/atlas-restored.db"));
}

TEST(store, a_state_dir_that_is_a_file_is_an_io_error) {
    temp_dir dir;
    testing::write_file(dir / "file", "x");
    auto s = store::open(dir / "file");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::io_failed);
    EXPECT_NE(s.error().message.find((dir / "file").string()), std::string::npos) << s.error().message;
}

TEST(store, run_round_trips_every_field) {
    temp_dir dir;
    auto s = open_store(dir);
    auto run = sample_run("r-1");
    run.started_by = "alice";
    run.snapshot_id = "5f1b0a3c3d91647abb20e7b9";
    run.snapshot_time = "2026-11-28T03:00:00Z";
    run.batch_id = "b-9";
    run.planned_at = 1;
    run.submitted_at = 3;
    run.ready_at = 4;
    run.downloaded_at = 5;
    run.finished_at = 6;
    run.submissions = 2;
    run.error = "";
    ASSERT_TRUE(s.insert_run(run));
    auto got = s.get_run("r-1");
    ASSERT_TRUE(got);
    ASSERT_TRUE(*got);
    EXPECT_EQ(**got, run);
    EXPECT_EQ(s.get_run("r-2").value(), std::nullopt);
    EXPECT_EQ(s.count_runs().value(), 1);
}

TEST(store, reopening_keeps_everything) {
    temp_dir dir;
    {
        auto s = open_store(dir);
        ASSERT_TRUE(s.insert_run(sample_run("r-1")));
        ASSERT_TRUE(s.upsert_job(sample_job("r-1", "j-1")));
        ASSERT_TRUE(s.record_intent("r-1", 1, R"({"snapshotId":"x"})", 10));
        ASSERT_TRUE(s.set_last_fire("orders-weekly-drill", 99));
        ASSERT_TRUE(s.record_reload(true, 5, "ok"));
    }
    auto s = open_store(dir);
    EXPECT_EQ(s.get_run("r-1").value()->policy, "orders-weekly-drill");
    EXPECT_EQ(s.list_jobs("r-1").value().size(), 1u);
    EXPECT_TRUE(s.get_intent("r-1", 1).value().has_value());
    EXPECT_EQ(s.last_fire("orders-weekly-drill").value(), 99);
    EXPECT_EQ(s.last_reload().value()->at, 5);
}

TEST(store, duplicate_run_ids_and_unknown_states_are_refused) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    auto again = s.insert_run(sample_run("r-1"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, errc::invalid_input);
    auto bad = sample_run("r-2");
    bad.state = "running";
    EXPECT_EQ(s.insert_run(bad).error().code, errc::invalid_input);
    EXPECT_EQ(s.set_run_state("r-1", "done").error().code, errc::invalid_input);
    EXPECT_EQ(s.set_run_state("r-404", run_state::waiting).error().code, errc::not_found);
    EXPECT_EQ(s.count_runs().value(), 1);
}

TEST(store, list_runs_is_oldest_first_and_can_skip_finished_runs) {
    temp_dir dir;
    auto s = open_store(dir);
    // Ids that sort the other way round: the order is the order of insertion.
    for (const char* id : {"r-c", "r-b", "r-a", "r-d"}) {
        ASSERT_TRUE(s.insert_run(sample_run(id)));
    }
    ASSERT_TRUE(s.set_run_state("r-b", run_state::succeeded, "", 10));
    ASSERT_TRUE(s.set_run_state("r-d", run_state::failed, "submit_failed: no", 11));
    ASSERT_TRUE(s.set_run_state("r-a", run_state::downloading));

    std::vector<std::string> all;
    for (const auto& run : s.list_runs().value()) {
        all.push_back(run.id);
    }
    EXPECT_EQ(all, (std::vector<std::string>{"r-c", "r-b", "r-a", "r-d"}));
    std::vector<std::string> unfinished;
    for (const auto& run : s.list_runs(true).value()) {
        unfinished.push_back(run.id);
    }
    EXPECT_EQ(unfinished, (std::vector<std::string>{"r-c", "r-a"}));
}

TEST(store, set_run_state_keeps_other_fields_and_sets_finished_at_when_given) {
    temp_dir dir;
    auto s = open_store(dir);
    auto run = sample_run("r-1");
    run.batch_id = "b-1";
    ASSERT_TRUE(s.insert_run(run));
    ASSERT_TRUE(s.set_run_state("r-1", run_state::waiting));
    EXPECT_EQ(s.get_run("r-1").value()->finished_at, std::nullopt);
    ASSERT_TRUE(s.set_run_state("r-1", run_state::failed, "job_broken: the job broke", 77));
    auto got = *s.get_run("r-1").value();
    EXPECT_EQ(got.state, "failed");
    EXPECT_EQ(got.error, "job_broken: the job broke");
    EXPECT_EQ(got.finished_at, 77);
    EXPECT_EQ(got.batch_id, "b-1");
}

TEST(store, a_final_state_is_never_left) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    ASSERT_TRUE(s.set_run_state("r-1", run_state::failed, "deadline_exceeded: too slow", 5));
    auto r = s.set_run_state("r-1", run_state::succeeded);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    auto run = *s.get_run("r-1").value();
    run.state = run_state::waiting;
    EXPECT_EQ(s.update_run(run).error().code, errc::invalid_input);
    EXPECT_EQ(s.get_run("r-1").value()->state, "failed");
    // Staying in it while changing other fields is fine.
    run.state = run_state::failed;
    run.downloaded_at = 4;
    ASSERT_TRUE(s.update_run(run));
    EXPECT_EQ(s.get_run("r-1").value()->downloaded_at, 4);
}

TEST(store, update_run_replaces_fields) {
    temp_dir dir;
    auto s = open_store(dir);
    auto run = sample_run("r-1");
    ASSERT_TRUE(s.insert_run(run));
    run.state = run_state::waiting;
    run.batch_id = "b-2";
    run.submitted_at = 42;
    run.submissions = 1;
    run.snapshot_id = std::nullopt;
    ASSERT_TRUE(s.update_run(run));
    EXPECT_EQ(*s.get_run("r-1").value(), run);
    EXPECT_EQ(s.update_run(sample_run("r-404")).error().code, errc::not_found);
}

TEST(store, urls_in_errors_are_cut_to_their_host) {
    temp_dir dir;
    auto s = open_store(dir);
    auto run = sample_run("r-1");
    run.error = "delivery_failed: GET https://restore.example.com/dl/abc.tar.gz?key=SECRET failed";
    ASSERT_TRUE(s.insert_run(run));
    EXPECT_EQ(s.get_run("r-1").value()->error, "delivery_failed: GET https://restore.example.com/… failed");
    ASSERT_TRUE(s.set_run_state("r-1", run_state::failed, "link_expired: see http://u:pw@h.example/x", 1));
    EXPECT_EQ(s.get_run("r-1").value()->error, "link_expired: see http://h.example/…");
    ASSERT_TRUE(s.record_reload(false, 1, "bad https://hooks.example.com/T0/B1/SECRET2"));
    EXPECT_EQ(s.last_reload().value()->message, "bad https://hooks.example.com/…");
}

TEST(store, last_finished_and_succeeded_run_per_policy) {
    temp_dir dir;
    auto s = open_store(dir);
    EXPECT_EQ(s.last_finished_run_for_policy("p").value(), std::nullopt);
    ASSERT_TRUE(s.insert_run(sample_run("r-1", "p")));
    ASSERT_TRUE(s.insert_run(sample_run("r-2", "p")));
    ASSERT_TRUE(s.insert_run(sample_run("r-3", "p")));
    ASSERT_TRUE(s.insert_run(sample_run("r-4", "q")));
    ASSERT_TRUE(s.set_run_state("r-1", run_state::succeeded, "", 300));
    ASSERT_TRUE(s.set_run_state("r-2", run_state::failed, "sha1_mismatch: bad", 200));
    ASSERT_TRUE(s.set_run_state("r-4", run_state::failed, "sha1_mismatch: bad", 900));
    // r-3 is still running; r-1 finished last although r-2 was inserted later.
    EXPECT_EQ(s.last_finished_run_for_policy("p").value()->id, "r-1");
    ASSERT_TRUE(s.set_run_state("r-3", run_state::cancelled, "", 400));
    EXPECT_EQ(s.last_finished_run_for_policy("p").value()->id, "r-3");
    EXPECT_EQ(s.last_succeeded_run_for_policy("p").value()->id, "r-1");
    EXPECT_EQ(s.last_succeeded_run_for_policy("q").value(), std::nullopt);
}

TEST(store, a_trigger_is_consumed_together_with_its_run) {
    temp_dir dir;
    auto s = open_store(dir);
    EXPECT_FALSE(s.is_trigger_consumed("p", "INC-4312").value());
    auto run = sample_run("r-1", "p");
    run.trigger = "INC-4312";
    ASSERT_TRUE(s.insert_run_consuming_trigger(run, "INC-4312").value());
    EXPECT_TRUE(s.is_trigger_consumed("p", "INC-4312").value());
    EXPECT_FALSE(s.is_trigger_consumed("other-policy", "INC-4312").value());

    // Seen again (a reload, a restart): nothing is written.
    auto again = sample_run("r-2", "p");
    again.trigger = "INC-4312";
    EXPECT_FALSE(s.insert_run_consuming_trigger(again, "INC-4312").value());
    EXPECT_EQ(s.get_run("r-2").value(), std::nullopt);
    EXPECT_EQ(s.count_runs().value(), 1);
}

TEST(store, a_run_that_cannot_be_inserted_does_not_consume_its_trigger) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1", "p")));
    auto clash = sample_run("r-1", "p");  // same id: the insert fails inside the transaction
    auto r = s.insert_run_consuming_trigger(clash, "INC-1");
    ASSERT_FALSE(r);
    EXPECT_FALSE(s.is_trigger_consumed("p", "INC-1").value());
    EXPECT_TRUE(s.connection().autocommit());  // nothing left open
}

TEST(store, consume_trigger_on_its_own_reports_a_second_consumption) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1", "p")));
    EXPECT_TRUE(s.consume_trigger("p", "v", "r-1").value());
    EXPECT_FALSE(s.consume_trigger("p", "v", "r-1").value());
    EXPECT_EQ(s.consume_trigger("p", "w", "r-404").error().code, errc::not_found);
}

TEST(store, one_intent_per_run_and_submission) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    const std::string body = R"({"snapshotId":"5f1b","delivery":{"methodName":"HTTP"}})";
    ASSERT_TRUE(s.record_intent("r-1", 1, body, 100));
    auto twice = s.record_intent("r-1", 1, body, 101);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, errc::invalid_input);
    ASSERT_TRUE(s.record_intent("r-1", 2, body, 200));  // a resubmission is a new number
    EXPECT_EQ(s.record_intent("r-404", 1, body, 1).error().code, errc::not_found);

    auto intent = s.get_intent("r-1", 1).value();
    ASSERT_TRUE(intent);
    EXPECT_EQ(*intent, (intent_record{"r-1", 1, body, 100, false, {}}));
    EXPECT_EQ(s.get_intent("r-1", 3).value(), std::nullopt);

    ASSERT_TRUE(s.mark_intent_resolved("r-1", 1, {"j-1", "j-2"}));
    intent = s.get_intent("r-1", 1).value();
    EXPECT_TRUE(intent->resolved);
    EXPECT_EQ(intent->job_ids, (std::vector<std::string>{"j-1", "j-2"}));
    EXPECT_EQ(s.mark_intent_resolved("r-1", 9, {}).error().code, errc::not_found);

    auto all = s.list_intents("r-1").value();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].submission_no, 1);
    EXPECT_EQ(all[1].submission_no, 2);
    EXPECT_FALSE(all[1].resolved);
}

TEST(store, an_intent_body_that_looks_like_it_holds_a_secret_is_refused) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    EXPECT_EQ(s.record_intent("r-1", 1, R"({"authValue":"x"})", 1).error().code, errc::invalid_input);
    EXPECT_EQ(s.record_intent("r-1", 1, R"({"u":"https://h/x?sig=1"})", 1).error().code, errc::invalid_input);
    EXPECT_EQ(s.get_intent("r-1", 1).value(), std::nullopt);
}

TEST(store, jobs_are_upserted_and_listed_in_first_seen_order) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    ASSERT_TRUE(s.insert_run(sample_run("r-2")));
    ASSERT_TRUE(s.upsert_job(sample_job("r-1", "j-z")));
    ASSERT_TRUE(s.upsert_job(sample_job("r-1", "j-a")));
    ASSERT_TRUE(s.upsert_job(sample_job("r-2", "j-m")));
    auto job = sample_job("r-1", "j-z");
    job.status_name = "FINISHED";
    job.delivery_status = "READY";
    job.expires = "2026-11-29T07:00:00Z";
    job.file_name = "orders-prod-shard-0.tar.gz";
    job.created = "2026-11-29T03:00:00Z";
    job.batch_id = std::nullopt;
    ASSERT_TRUE(s.upsert_job(job));
    auto jobs = s.list_jobs("r-1").value();
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[0], job);
    EXPECT_EQ(jobs[1].job_id, "j-a");
    EXPECT_EQ(s.get_job("r-2", "j-m").value()->job_id, "j-m");
    EXPECT_EQ(s.get_job("r-2", "j-z").value(), std::nullopt);
    EXPECT_EQ(s.upsert_job(sample_job("r-404", "j")).error().code, errc::not_found);
}

TEST(store, files_track_progress_and_verification) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    ASSERT_TRUE(s.upsert_job(sample_job("r-1", "j-1")));
    file_record file;
    file.run_id = "r-1";
    file.job_id = "j-1";
    file.file_name = "orders.tar.gz";
    file.bytes_expected = 1000;
    file.attempts = 7;  // ignored: only count_download_attempt changes it
    ASSERT_TRUE(s.upsert_file(file));
    EXPECT_EQ(s.get_file("r-1", "j-1").value()->attempts, 0);

    ASSERT_TRUE(s.set_file_state("r-1", "j-1", file_state::downloading));
    ASSERT_TRUE(s.update_progress("r-1", "j-1", 400, std::string("\"etag-1\"")));
    ASSERT_TRUE(s.update_progress("r-1", "j-1", 800));  // keeps the etag
    auto got = *s.get_file("r-1", "j-1").value();
    EXPECT_EQ(got.bytes_done, 800);
    EXPECT_EQ(got.etag, "\"etag-1\"");
    EXPECT_EQ(got.state, "downloading");
    EXPECT_FALSE(got.verified);

    const std::string sha1 = "a98af3c1f85a9eb3061423cda0fad8b4d0a48209";
    EXPECT_EQ(s.mark_verified("r-1", "j-1", "A98AF3C1F85A9EB3061423CDA0FAD8B4D0A48209", 1000).error().code,
              errc::invalid_input);
    EXPECT_EQ(s.mark_verified("r-1", "j-1", "abc", 1000).error().code, errc::invalid_input);
    ASSERT_TRUE(s.mark_verified("r-1", "j-1", sha1, 1000));
    got = *s.get_file("r-1", "j-1").value();
    EXPECT_TRUE(got.verified);
    EXPECT_EQ(got.state, "verified");
    EXPECT_EQ(got.sha1_actual, sha1);
    EXPECT_EQ(got.bytes_done, 1000);
    EXPECT_EQ(got.file_name, "orders.tar.gz");
    EXPECT_EQ(got.bytes_expected, 1000);
    EXPECT_EQ(s.list_files("r-1").value(), std::vector<file_record>{got});

    EXPECT_EQ(s.set_file_state("r-1", "j-1", "done").error().code, errc::invalid_input);
    EXPECT_EQ(s.update_progress("r-1", "j-404", 1).error().code, errc::not_found);
    EXPECT_EQ(s.mark_verified("r-1", "j-404", sha1, 1).error().code, errc::not_found);
    EXPECT_EQ(s.set_file_state("r-1", "j-404", file_state::failed).error().code, errc::not_found);
    file.job_id = "j-404";
    EXPECT_EQ(s.upsert_file(file).error().code, errc::not_found);
}

TEST(store, download_attempts_are_counted_before_the_file_is_known_and_survive_reopen) {
    temp_dir dir;
    {
        auto s = open_store(dir);
        ASSERT_TRUE(s.insert_run(sample_run("r-1")));
        ASSERT_TRUE(s.upsert_job(sample_job("r-1", "j-1")));
        ASSERT_TRUE(s.upsert_job(sample_job("r-1", "j-2")));
        EXPECT_EQ(s.count_download_attempt("r-1", "j-1").value(), 1);
        EXPECT_EQ(s.count_download_attempt("r-1", "j-1").value(), 2);
        EXPECT_EQ(s.count_download_attempt("r-1", "j-2").value(), 1);
        EXPECT_EQ(s.count_download_attempt("r-1", "j-404").error().code, errc::not_found);
        // Learning the file name later does not reset the count.
        file_record file;
        file.run_id = "r-1";
        file.job_id = "j-1";
        file.file_name = "orders.tar.gz";
        ASSERT_TRUE(s.upsert_file(file));
    }
    auto s = open_store(dir);
    auto file = *s.get_file("r-1", "j-1").value();
    EXPECT_EQ(file.attempts, 2);
    EXPECT_EQ(file.file_name, "orders.tar.gz");
    EXPECT_EQ(s.count_download_attempt("r-1", "j-1").value(), 3);
}

// The point of counting before the GET: a process killed right after the call (no destructors,
// no clean close, WAL not checkpointed) has the count on disk.
TEST(store, a_counted_attempt_survives_the_process_being_killed) {
    temp_dir dir;
    {
        auto s = open_store(dir);
        ASSERT_TRUE(s.insert_run(sample_run("r-1")));
        ASSERT_TRUE(s.upsert_job(sample_job("r-1", "j-1")));
    }
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(ready[0]);
        auto s = store::open(dir.path());
        auto attempts = s ? s->count_download_attempt("r-1", "j-1") : result<int>(0);
        const bool ok = s && attempts && *attempts == 1 && s->record_intent("r-1", 1, "{}", 5).has_value();
        const char byte = ok ? 'y' : 'n';
        (void)!write(ready[1], &byte, 1);
        for (;;) {
            pause();  // killed here, with the store open
        }
    }
    close(ready[1]);
    char byte = 0;
    ASSERT_EQ(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_EQ(byte, 'y');

    auto s = open_store(dir);
    EXPECT_EQ(s.get_file("r-1", "j-1").value()->attempts, 1);
    EXPECT_TRUE(s.get_intent("r-1", 1).value().has_value());
}

TEST(store, in_transaction_commits_everything_or_nothing) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    auto failed = s.in_transaction([&]() -> result<void> {
        if (auto r = s.record_intent("r-1", 1, "{}", 1); !r) {
            return r;
        }
        if (auto r = s.set_run_state("r-1", run_state::submitting); !r) {
            return r;
        }
        return make_error(errc::io_failed, "something later failed");
    });
    ASSERT_FALSE(failed);
    EXPECT_EQ(s.get_intent("r-1", 1).value(), std::nullopt);
    EXPECT_EQ(s.get_run("r-1").value()->state, "pending");
    EXPECT_TRUE(s.connection().autocommit());

    auto ok = s.in_transaction([&]() -> result<void> {
        if (auto r = s.mark_intent_resolved("r-1", 1, {}); r) {
            return make_error(errc::invalid_input, "there should be no intent yet");
        }
        if (auto r = s.record_intent("r-1", 1, "{}", 1); !r) {
            return r;
        }
        // Nested: joins the outer transaction.
        return s.in_transaction([&] { return s.set_run_state("r-1", run_state::submitting); });
    });
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_TRUE(s.get_intent("r-1", 1).value().has_value());
    EXPECT_EQ(s.get_run("r-1").value()->state, "submitting");
}

TEST(store, schedule_fires_per_policy) {
    temp_dir dir;
    auto s = open_store(dir);
    EXPECT_EQ(s.last_fire("p").value(), std::nullopt);
    ASSERT_TRUE(s.set_last_fire("p", 100));
    ASSERT_TRUE(s.set_last_fire("q", 5));
    ASSERT_TRUE(s.set_last_fire("p", 200));
    EXPECT_EQ(s.last_fire("p").value(), 200);
    EXPECT_EQ(s.last_fire("q").value(), 5);
}

TEST(store, reloads_keep_the_last_one_and_the_last_success) {
    temp_dir dir;
    auto s = open_store(dir);
    EXPECT_EQ(s.last_reload().value(), std::nullopt);
    ASSERT_TRUE(s.record_reload(true, 10, "loaded 3 policies"));
    for (int i = 0; i < 150; ++i) {
        ASSERT_TRUE(s.record_reload(false, 20 + i, "a.yaml:3: policies[0].name: bad"));
    }
    EXPECT_EQ(s.last_reload().value(), (reload_record{false, 169, "a.yaml:3: policies[0].name: bad"}));
    EXPECT_EQ(s.last_successful_reload().value(), (reload_record{true, 10, "loaded 3 policies"}));
    EXPECT_LE(s.connection().query_int("SELECT count(*) FROM reloads").value(), 102);
}

TEST(store, read_only_view_works_while_the_writer_holds_the_database) {
    temp_dir dir;
    auto writer = open_store(dir);
    ASSERT_TRUE(writer.insert_run(sample_run("r-1")));
    // The writer is in the middle of a transaction.
    ASSERT_TRUE(writer.connection().exec("BEGIN IMMEDIATE"));
    ASSERT_TRUE(writer.insert_run(sample_run("r-2")));

    auto reader = store::open_read_only(dir.path());
    ASSERT_TRUE(reader) << reader.error().message;
    auto runs = reader->list_runs().value();
    ASSERT_EQ(runs.size(), 1u);  // only what was committed
    EXPECT_EQ(runs[0].id, "r-1");

    ASSERT_TRUE(writer.connection().exec("COMMIT"));
    EXPECT_EQ(reader->list_runs().value().size(), 2u);

    auto write = reader->insert_run(sample_run("r-3"));
    ASSERT_FALSE(write);
    EXPECT_EQ(write.error().code, errc::io_failed);
    EXPECT_EQ(writer.count_runs().value(), 2);
}

TEST(store, read_only_view_works_when_the_daemon_is_stopped) {
    temp_dir dir;
    {
        auto s = open_store(dir);
        ASSERT_TRUE(s.insert_run(sample_run("r-1")));
    }
    auto reader = store::open_read_only(dir.path());
    ASSERT_TRUE(reader) << reader.error().message;
    EXPECT_EQ(reader->count_runs().value(), 1);
}

TEST(store, read_only_view_of_a_missing_database_is_not_found_and_creates_nothing) {
    temp_dir dir;
    auto reader = store::open_read_only(dir / "state");
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, errc::not_found);
    EXPECT_FALSE(std::filesystem::exists(dir / "state"));
}

TEST(store, read_only_view_of_an_empty_database_is_not_found) {
    temp_dir dir;
    testing::write_file(store::database_path(dir.path()), "");
    auto reader = store::open_read_only(dir.path());
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, errc::not_found);
    EXPECT_NE(reader.error().message.find("is empty"), std::string::npos) << reader.error().message;
}

TEST(store, state_dir_lock_admits_one_holder_at_a_time) {
    temp_dir dir;
    {
        auto first = state_dir_lock::acquire(dir.path());
        ASSERT_TRUE(first) << first.error().message;
        auto second = state_dir_lock::acquire(dir.path());
        ASSERT_FALSE(second);
        EXPECT_EQ(second.error().code, errc::io_failed);
        EXPECT_NE(second.error().message.find("in use by another atlas-restored"), std::string::npos);
        auto moved = std::move(*first);  // still held by the moved-to object
        EXPECT_FALSE(state_dir_lock::acquire(dir.path()));
    }
    EXPECT_TRUE(state_dir_lock::acquire(dir.path()));
}

TEST(run_id, sorts_by_time_and_carries_24_random_bits) {
    EXPECT_EQ(make_run_id(1'795'910'399'000, 0xab12cd), "r-20261128-235959-ab12cd");
    EXPECT_EQ(make_run_id(0, 0xffab12cd), "r-19700101-000000-ab12cd");
    EXPECT_EQ(make_run_id(-5, 1), "r-19700101-000000-000001");
    EXPECT_LT(make_run_id(1'795'910'399'000, 0xffffff), make_run_id(1'795'910'400'000, 0));
    const auto a = make_run_id(1'795'910'399'000);
    EXPECT_EQ(a.size(), std::string("r-20261128-235959-ab12cd").size());
    EXPECT_EQ(a.substr(0, 18), "r-20261128-235959-");
}

TEST(strip_urls, keeps_scheme_and_host_only) {
    EXPECT_EQ(strip_urls("no url here"), "no url here");
    EXPECT_EQ(strip_urls("https://h.example"), "https://h.example");
    EXPECT_EQ(strip_urls("GET HTTPS://h.example:8443/a/b?sig=s#f, then"),
              "GET HTTPS://h.example:8443/…, then");
    EXPECT_EQ(strip_urls("(see https://h.example/x?k=v)."), "(see https://h.example/…).");
    EXPECT_EQ(strip_urls("\"http://user:pass@h/p\" and https://i/q"), "\"http://h/…\" and https://i/…");
    EXPECT_EQ(strip_urls("https://h?token=abc"), "https://h/…");
    EXPECT_EQ(strip_urls("ftp://h/x stays"), "ftp://h/x stays");
}

TEST(store, the_configuration_in_force_is_replaced_as_a_whole_and_read_back) {
    temp_dir dir;
    {
        auto s = open_store(dir);
        EXPECT_EQ(s.configuration_in_force().value(), std::nullopt);  // no daemon has started yet
        configuration_record first{"d1", {{"atlas", "a"}, {"retry", "r"}}, {{"p1", "x"}, {"p2", "y"}}};
        ASSERT_TRUE(s.save_configuration_in_force(first));
        EXPECT_EQ(s.configuration_in_force().value(), std::optional(first));
        configuration_record second{"d2", {{"atlas", "b"}}, {{"p3", "z"}}};
        ASSERT_TRUE(s.save_configuration_in_force(second));  // p1 and p2 are gone, not merged
    }
    auto reader = store::open_read_only(dir.path());
    ASSERT_TRUE(reader) << reader.error().message;
    auto read = reader->configuration_in_force().value();
    ASSERT_TRUE(read);
    EXPECT_EQ(read->digest, "d2");
    EXPECT_EQ(read->policies, (std::map<std::string, std::string>{{"p3", "z"}}));
    EXPECT_EQ(read->sections, (std::map<std::string, std::string>{{"atlas", "b"}}));
}

TEST(store, runs_of_one_policy_oldest_first) {
    temp_dir dir;
    auto s = open_store(dir);
    ASSERT_TRUE(s.insert_run(sample_run("r-1", "a")));
    ASSERT_TRUE(s.insert_run(sample_run("r-2", "b")));
    ASSERT_TRUE(s.insert_run(sample_run("r-3", "a")));
    auto of_a = s.list_runs_of_policy("a").value();
    ASSERT_EQ(of_a.size(), 2u);
    EXPECT_EQ(of_a[0].id, "r-1");
    EXPECT_EQ(of_a[1].id, "r-3");
    EXPECT_TRUE(s.list_runs_of_policy("c").value().empty());
}

}  // namespace
}  // namespace atlas_restored::state
