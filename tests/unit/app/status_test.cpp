#include "app/status.hpp"

#include "schedule/time_zone.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <sstream>

namespace atlas_restored::app {
namespace {

namespace json = boost::json;

std::int64_t ms(const char* iso) {
    return to_unix_millis(*parse_iso8601(iso));
}

state::run_record run(std::string id, std::string policy, std::string state_name) {
    state::run_record r;
    r.id = std::move(id);
    r.policy = std::move(policy);
    r.trigger = "schedule";
    r.state = std::move(state_name);
    r.group_id = "32b6e34b3d91647abb20e7b8";
    r.cluster = "rs0";
    r.method = "HTTP";
    r.config_digest = "abc";
    return r;
}

config::configuration two_policies() {
    config::configuration c;
    config::policy drill;
    drill.name = "drill";
    drill.schedule = schedule::cron_expression::parse("0 3 * * *").value();
    drill.zone = schedule::time_zone::utc();
    c.policies.push_back(drill);
    config::policy oncall;
    oncall.name = "oncall";
    oncall.trigger = "INC-1";
    c.policies.push_back(oncall);
    return c;
}

const auto now = *parse_iso8601("2026-11-28T12:00:00Z");

// Everything in `store` as a snapshot, read the way write_status reads it.
result<status_snapshot> read_status(state::store& store) {
    status_snapshot s;
    auto read = store.for_each_run_with_details([&](run_details&& d) -> result<void> {
        s.runs.push_back(std::move(d));
        return {};
    });
    if (!read) {
        return read.error();
    }
    auto reload = store.last_reload();
    if (!reload) {
        return reload.error();
    }
    s.last_reload = std::move(*reload);
    return s;
}

status_snapshot sample() {
    status_snapshot s;
    // 1: an old drill that succeeded, with a verified file.
    run_details ok;
    ok.run = run("r-1", "drill", "succeeded");
    ok.run.batch_id = "b1";
    ok.run.submitted_at = ms("2026-11-27T03:00:05Z");
    ok.run.finished_at = ms("2026-11-27T03:10:00Z");
    state::job_record job;
    job.run_id = "r-1";
    job.job_id = "j1";
    job.status_name = "FINISHED";
    job.delivery_status = "READY";
    job.file_name = "rs0-j1.tar.gz";
    ok.jobs.push_back(job);
    state::file_record file;
    file.run_id = "r-1";
    file.job_id = "j1";
    file.file_name = "rs0-j1.tar.gz";
    file.bytes_expected = 1048576;
    file.bytes_done = 1048576;
    file.sha1_actual = "0123456789abcdef0123456789abcdef01234567";
    file.verified = true;
    file.state = state::file_state::verified;
    ok.files.push_back(file);
    s.runs.push_back(ok);
    // 2: a later drill that failed.
    run_details failed;
    failed.run = run("r-2", "drill", "failed");
    failed.run.error = "job_broken: Atlas reported the restore job BROKEN";
    failed.run.finished_at = ms("2026-11-28T03:20:00Z");
    s.runs.push_back(failed);
    // 3: a policy no longer configured.
    run_details gone;
    gone.run = run("r-3", "removed-policy", "cancelled");
    gone.run.trigger = "manual";
    gone.run.started_by = "alice";
    gone.run.finished_at = ms("2026-11-28T04:00:00Z");
    s.runs.push_back(gone);
    // 4: an on-call run downloading, half done; the file's name is only on the job so far.
    run_details active;
    active.run = run("r-4", "oncall", "downloading");
    active.run.trigger = "INC-1";
    state::job_record j4;
    j4.run_id = "r-4";
    j4.job_id = "j4";
    j4.status_name = "FINISHED";
    j4.file_name = "rs0-j4.tar.gz";
    active.jobs.push_back(j4);
    state::file_record f4;
    f4.run_id = "r-4";
    f4.job_id = "j4";
    f4.bytes_expected = 2000;
    f4.bytes_done = 1000;
    f4.sha1_expected = "not-a-sha1";
    f4.state = state::file_state::downloading;
    active.files.push_back(f4);
    s.runs.push_back(active);
    return s;
}

TEST(OutcomeOf, ReasonCodeForFailuresStateOtherwise) {
    auto r = run("r", "p", "failed");
    r.error = "sha1_mismatch: the file's SHA-1 differs";
    EXPECT_EQ(outcome_of(r), "sha1_mismatch");
    r.error = "";
    EXPECT_EQ(outcome_of(r), "failed");
    r.error = "no colon here";
    EXPECT_EQ(outcome_of(r), "no colon here");
    EXPECT_EQ(outcome_of(run("r", "p", "succeeded")), "succeeded");
    EXPECT_EQ(outcome_of(run("r", "p", "cancelled")), "cancelled");
    EXPECT_EQ(outcome_of(run("r", "p", "waiting")), "waiting");
}

TEST(StatusDocument, HasExactlyRunsAndPolicies) {
    const auto c = two_policies();
    const auto doc = status_document(sample(), &c, now);
    EXPECT_EQ(doc.size(), 2u);
    ASSERT_TRUE(doc.contains("runs"));
    ASSERT_TRUE(doc.contains("policies"));
}

TEST(StatusDocument, EveryRunOldestFirstWithTheSpecFields) {
    const auto c = two_policies();
    const auto doc = status_document(sample(), &c, now);
    const auto& runs = doc.at("runs").as_array();
    ASSERT_EQ(runs.size(), 4u);
    EXPECT_EQ(runs[0].at("id").as_string(), "r-1");
    EXPECT_EQ(runs[2].at("policy").as_string(), "removed-policy");  // not configured: still listed
    for (const auto& v : runs) {
        const auto& r = v.as_object();
        for (const char* key : {"id",
                                "policy",
                                "trigger",
                                "state",
                                "job_ids",
                                "batch_id",
                                "files",
                                "error",
                                "submitted_at",
                                "finished_at"}) {
            EXPECT_TRUE(r.contains(key)) << key << " in " << json::serialize(r);
        }
        EXPECT_TRUE(r.at("job_ids").is_array());
        EXPECT_TRUE(r.at("files").is_array());
    }
    const auto& first = runs[0].as_object();
    EXPECT_EQ(first.at("trigger").as_string(), "schedule");
    EXPECT_EQ(first.at("batch_id").as_string(), "b1");
    EXPECT_EQ(first.at("job_ids").as_array().size(), 1u);
    EXPECT_EQ(first.at("job_ids").as_array()[0].as_string(), "j1");
    EXPECT_TRUE(first.at("error").is_null());
    EXPECT_EQ(first.at("submitted_at").as_string(), "2026-11-27T03:00:05Z");
    EXPECT_EQ(first.at("finished_at").as_string(), "2026-11-27T03:10:00Z");
    const auto& file = first.at("files").as_array()[0].as_object();
    EXPECT_EQ(file.at("name").as_string(), "rs0-j1.tar.gz");
    EXPECT_TRUE(file.at("bytes").is_int64());
    EXPECT_EQ(file.at("bytes").as_int64(), 1048576);
    EXPECT_EQ(file.at("sha1").as_string(), "0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(file.at("verified").as_bool(), true);

    const auto& failed = runs[1].as_object();
    EXPECT_EQ(failed.at("error").as_string(), "job_broken: Atlas reported the restore job BROKEN");
    EXPECT_EQ(failed.at("outcome").as_string(), "job_broken");
    EXPECT_TRUE(failed.at("submitted_at").is_null());
    EXPECT_TRUE(failed.at("batch_id").is_null());

    EXPECT_EQ(runs[2].at("trigger").as_string(), "manual");
    EXPECT_EQ(runs[2].at("started_by").as_string(), "alice");
    EXPECT_EQ(runs[3].at("trigger").as_string(), "INC-1");
}

TEST(StatusDocument, UnknownOrMalformedShaIsNullAndNameComesFromTheJob) {
    const auto doc = status_document(sample(), nullptr, now);
    const auto& file = doc.at("runs").as_array()[3].at("files").as_array()[0].as_object();
    EXPECT_EQ(file.at("name").as_string(), "rs0-j4.tar.gz");
    EXPECT_TRUE(file.at("sha1").is_null());
    EXPECT_EQ(file.at("verified").as_bool(), false);
    EXPECT_EQ(file.at("bytes").as_int64(), 2000);
    EXPECT_EQ(file.at("bytes_done").as_int64(), 1000);
}

TEST(StatusDocument, WithoutAConfigurationPoliciesIsEmptyButRunsAreComplete) {
    const auto doc = status_document(sample(), nullptr, now);
    EXPECT_EQ(doc.at("runs").as_array().size(), 4u);
    EXPECT_TRUE(doc.at("policies").as_array().empty());
}

TEST(StatusDocument, PoliciesCarryLastOutcomeNextFireAndActiveRun) {
    const auto c = two_policies();
    const auto doc = status_document(sample(), &c, now);
    const auto& policies = doc.at("policies").as_array();
    ASSERT_EQ(policies.size(), 2u);
    const auto& drill = policies[0].as_object();
    EXPECT_EQ(drill.at("name").as_string(), "drill");
    EXPECT_EQ(drill.at("last_outcome").as_string(), "job_broken");  // the latest finished run
    EXPECT_EQ(drill.at("next_fire_time").as_string(), "2026-11-29T03:00:00Z");
    EXPECT_EQ(drill.at("last_drill_at").as_string(), "2026-11-27T03:10:00Z");  // the last success
    EXPECT_TRUE(drill.at("active_run").is_null());

    const auto& oncall = policies[1].as_object();
    EXPECT_TRUE(oncall.at("last_outcome").is_null());
    EXPECT_TRUE(oncall.at("next_fire_time").is_null());
    const auto& active = oncall.at("active_run").as_object();
    EXPECT_EQ(active.at("id").as_string(), "r-4");
    EXPECT_EQ(active.at("state").as_string(), "downloading");
    EXPECT_EQ(active.at("bytes_done").as_int64(), 1000);
    EXPECT_EQ(active.at("bytes_total").as_int64(), 2000);
}

TEST(StatusDocument, LastOutcomeFollowsFinishTimeNotInsertionOrder) {
    status_snapshot s;
    run_details late;
    late.run = run("r-a", "drill", "succeeded");
    late.run.finished_at = ms("2026-11-28T10:00:00Z");
    run_details early;
    early.run = run("r-b", "drill", "failed");
    early.run.error = "deadline_exceeded: took too long";
    early.run.finished_at = ms("2026-11-28T09:00:00Z");
    s.runs = {late, early};
    const auto c = two_policies();
    const auto doc = status_document(s, &c, now);
    EXPECT_EQ(doc.at("policies").as_array()[0].at("last_outcome").as_string(), "succeeded");
}

TEST(ReadStatus, EachRunGetsItsOwnJobsAndFilesInTheOrderTheyWereStored) {
    testing::temp_dir dir{"read-status"};
    auto store = state::store::open(dir.path());
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE(store->insert_run(run("r-1", "drill", "downloading")));
    ASSERT_TRUE(store->insert_run(run("r-2", "oncall", "waiting")));
    ASSERT_TRUE(store->insert_run(run("r-3", "drill", "pending")));  // nothing yet
    // Stored interleaved, as two runs in flight would store them.
    for (const auto& [run_id, job_id] : std::vector<std::pair<std::string, std::string>>{
             {"r-2", "j-a"}, {"r-1", "j-b"}, {"r-2", "j-c"}, {"r-1", "j-d"}}) {
        state::job_record j;
        j.run_id = run_id;
        j.job_id = job_id;
        j.submission_no = 1;
        j.status_name = "IN_PROGRESS";
        ASSERT_TRUE(store->upsert_job(j));
    }
    state::file_record f;
    f.run_id = "r-1";
    f.job_id = "j-d";
    f.state = state::file_state::downloading;
    ASSERT_TRUE(store->upsert_file(f));
    f.job_id = "j-b";
    ASSERT_TRUE(store->upsert_file(f));

    auto s = read_status(*store);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(s->runs.size(), 3u);
    const auto job_ids = [](const run_details& d) {
        std::vector<std::string> ids;
        for (const auto& j : d.jobs) {
            ids.push_back(j.job_id);
        }
        return ids;
    };
    EXPECT_EQ(job_ids(s->runs[0]), (std::vector<std::string>{"j-b", "j-d"}));
    EXPECT_EQ(job_ids(s->runs[1]), (std::vector<std::string>{"j-a", "j-c"}));
    EXPECT_TRUE(s->runs[2].jobs.empty());
    ASSERT_EQ(s->runs[0].files.size(), 2u);
    EXPECT_EQ(s->runs[0].files[0].job_id, "j-d");
    EXPECT_TRUE(s->runs[1].files.empty());
}

// The command's path reads the runs one at a time and writes as it goes; what it writes must be
// what the documented functions say about the same runs.
TEST(WriteStatus, StreamsTheSameDocumentAndTextAsTheSnapshot) {
    testing::temp_dir dir{"write-status"};
    auto store = state::store::open(dir.path());
    ASSERT_TRUE(store) << store.error().message;
    for (const auto& d : sample().runs) {
        ASSERT_TRUE(store->insert_run(d.run));
        for (const auto& j : d.jobs) {
            ASSERT_TRUE(store->upsert_job(j));
        }
        for (const auto& f : d.files) {
            ASSERT_TRUE(store->upsert_file(f));
        }
    }
    const auto c = two_policies();
    const auto snapshot = read_status(*store);
    ASSERT_TRUE(snapshot) << snapshot.error().message;
    ASSERT_EQ(snapshot->runs.size(), 4u);

    std::ostringstream streamed;
    ASSERT_TRUE(write_status(*store, &c, std::nullopt, true, now, streamed));
    EXPECT_EQ(streamed.str(), json::serialize(status_document(*snapshot, &c, now)) + "\n");
    const auto doc = json::parse(streamed.str()).as_object();
    EXPECT_EQ(doc.at("runs").as_array().size(), 4u);
    EXPECT_EQ(doc.at("policies").as_array().size(), 2u);

    daemon_liveness d;
    d.detail = "no control socket answers";
    std::ostringstream text;
    ASSERT_TRUE(write_status(*store, &c, d, false, now, text));
    EXPECT_EQ(text.str(), status_text(*snapshot, &c, d, now));
    EXPECT_NE(text.str().find("r-4 "), std::string::npos) << text.str();

    std::ostringstream empty;  // no runs at all: still one valid document
    testing::temp_dir other{"write-status-empty"};
    auto fresh = state::store::open(other.path());
    ASSERT_TRUE(fresh);
    ASSERT_TRUE(write_status(*fresh, nullptr, std::nullopt, true, now, empty));
    EXPECT_EQ(empty.str(), "{\"runs\":[],\"policies\":[]}\n");
}

TEST(StatusText, OneLinePerPolicyThenRecentRuns) {
    const auto c = two_policies();
    daemon_liveness d;
    d.running = true;
    d.detail = "pid 42: 1 active run, 0 queued, 1 download";
    auto s = sample();
    s.last_reload = state::reload_record{false, ms("2026-11-28T11:00:00Z"), "1 problem: x.yaml:3: bad"};
    const auto text = status_text(s, &c, d, now);
    EXPECT_NE(text.find("daemon: running (pid 42"), std::string::npos) << text;
    EXPECT_NE(text.find("last reload: FAILED at 2026-11-28T11:00:00Z: 1 problem: x.yaml:3: bad"),
              std::string::npos);
    // drill: last outcome, last success age (2026-11-27T03:10 -> 32h ago), next fire.
    const auto drill_line = text.substr(text.find("\ndrill "));
    EXPECT_NE(drill_line.find("job_broken"), std::string::npos) << text;
    EXPECT_NE(drill_line.find("32h ago"), std::string::npos) << text;
    EXPECT_NE(drill_line.find("2026-11-29T03:00:00Z"), std::string::npos) << text;
    const auto oncall_line = text.substr(text.find("\noncall "));
    EXPECT_NE(oncall_line.find("downloading r-4 50% (1000 B of 2.0 KiB), 0/1 files verified"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("r-3  removed-policy  manual by alice  cancelled"), std::string::npos) << text;
    EXPECT_NE(text.find("error: job_broken: Atlas reported"), std::string::npos) << text;
}

TEST(StatusText, ADownloadShowsItsRateAndTimeLeft) {
    auto s = sample();
    auto& active = s.runs.back();  // r-4, downloading
    active.run.ready_at = to_unix_millis(now - std::chrono::seconds(10));
    active.files[0].bytes_expected = 100 * 1048576;
    active.files[0].bytes_done = 50 * 1048576;  // 5 MiB/s since READY: 10 s to go
    const auto text = status_text(s, nullptr, std::nullopt, now);
    EXPECT_NE(text.find("50% (50.0 MiB of 100.0 MiB) at 5.0 MiB/s, ETA 10s, 0/1 files verified"),
              std::string::npos)
        << text;
    const auto doc = status_document(s, nullptr, now);
    const auto& download = doc.at("runs").as_array().back().at("download");
    EXPECT_EQ(download.at("rate_bytes_per_second").as_int64(), 5 * 1048576);
    EXPECT_EQ(download.at("eta_seconds").as_int64(), 10);
    // A finished run has no rate.
    EXPECT_TRUE(doc.at("runs").as_array().front().at("download").at("eta_seconds").is_null());
}

TEST(StatusText, AScheduledRunShowsItsPlannedTime) {
    auto s = sample();
    s.runs.front().run.planned_at = ms("2026-11-27T03:04:05Z");  // the fire time plus its jitter
    const auto text = status_text(s, nullptr, std::nullopt, now);
    EXPECT_NE(text.find("r-1  drill  schedule  succeeded  planned 2026-11-27T03:04:05Z"), std::string::npos)
        << text;
}

TEST(StatusText, LimitsRecentRunsAndSaysSo) {
    const auto text = status_text(sample(), nullptr, std::nullopt, now, 2);
    EXPECT_EQ(text.find("r-1 "), std::string::npos);
    EXPECT_NE(text.find("r-4 "), std::string::npos);
    EXPECT_NE(text.find("2 older not shown"), std::string::npos);
    EXPECT_NE(status_text({}, nullptr, std::nullopt, now).find("no runs yet"), std::string::npos);
}

TEST(FormatAge, Units) {
    using namespace std::chrono_literals;
    EXPECT_EQ(format_age(45s), "45s");
    EXPECT_EQ(format_age(10min), "10m");
    EXPECT_EQ(format_age(5h), "5h");
    EXPECT_EQ(format_age(72h), "3d");
    EXPECT_EQ(format_age(-5s), "in the future");
}

}  // namespace
}  // namespace atlas_restored::app
