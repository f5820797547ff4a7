#include "runs/batch.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace atlas_restored::runs {
namespace {

using namespace std::chrono_literals;

const sys_time t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 3h;
const sys_time deadline = t0 + 6h;

job_state job(std::string status,
              std::optional<std::string> delivery,
              std::string id = "aaaaaaaaaaaaaaaaaaaaaaaa") {
    return {std::move(id), std::move(status), std::move(delivery)};
}

batch_verdict eval(std::vector<job_state> jobs, std::string method = "HTTP", sys_time now = t0) {
    return evaluate_batch(jobs, method, now, deadline);
}

TEST(evaluate_batch, each_terminal_status_fails_with_its_reason) {
    struct row {
        std::string status;
        std::string delivery;
        reason expected;
    };
    const row table[] = {
        {"BROKEN", "FAILED", reason::job_broken},
        {"BROKEN", "IN_PROGRESS", reason::job_broken},
        {"KILLED", "INTERRUPTED", reason::job_killed},
        {"FINISHED", "FAILED", reason::delivery_failed},
        {"FINISHED", "INTERRUPTED", reason::delivery_interrupted},
        {"FINISHED", "EXPIRED", reason::link_expired},
        {"FINISHED", "MAX_DOWNLOADS_EXCEEDED", reason::download_budget_exhausted},
        {"IN_PROGRESS", "FAILED", reason::delivery_failed},
    };
    for (const auto& r : table) {
        for (const char* method : {"HTTP", "CLIENT_PIT_HTTP"}) {
            auto v = eval({job(r.status, r.delivery)}, method);
            EXPECT_EQ(v.outcome, batch_outcome::failed) << r.status << "/" << r.delivery;
            EXPECT_EQ(v.why, r.expected) << r.status << "/" << r.delivery;
            EXPECT_NE(v.message.find("aaaaaaaaaaaaaaaaaaaaaaaa"), std::string::npos) << v.message;
        }
    }
}

TEST(evaluate_batch, automated_restore_has_no_link_to_expire) {
    EXPECT_EQ(eval({job("BROKEN", "FAILED")}, "AUTOMATED_RESTORE").why, reason::job_broken);
    EXPECT_EQ(eval({job("KILLED", "INTERRUPTED")}, "AUTOMATED_RESTORE").why, reason::job_killed);
    EXPECT_EQ(eval({job("FINISHED", "FAILED")}, "AUTOMATED_RESTORE").why, reason::delivery_failed);
    // An automated restore's delivery reads EXPIRED once Atlas's bookkeeping link times out: the
    // restore itself finished.
    EXPECT_EQ(eval({job("FINISHED", "EXPIRED")}, "AUTOMATED_RESTORE").outcome, batch_outcome::succeeded);
    EXPECT_EQ(eval({job("FINISHED", "READY")}, "AUTOMATED_RESTORE").outcome, batch_outcome::succeeded);
    EXPECT_EQ(eval({job("FINISHED", std::nullopt)}, "AUTOMATED_RESTORE").outcome, batch_outcome::succeeded);
}

TEST(evaluate_batch, downloads_need_every_job_finished_and_every_delivery_ready) {
    EXPECT_EQ(eval({job("FINISHED", "READY")}).outcome, batch_outcome::ready_to_download);
    EXPECT_EQ(eval({job("IN_PROGRESS", "NOT_STARTED")}).outcome, batch_outcome::keep_waiting);
    EXPECT_EQ(eval({job("IN_PROGRESS", "READY")}).outcome, batch_outcome::keep_waiting);
    EXPECT_EQ(eval({job("FINISHED", "PENDING")}).outcome, batch_outcome::keep_waiting);
    EXPECT_EQ(eval({job("FINISHED", std::nullopt)}).outcome, batch_outcome::keep_waiting);
    // Unknown statuses (open world) keep waiting rather than fail.
    EXPECT_EQ(eval({job("SOMETHING_NEW", "READY")}).outcome, batch_outcome::keep_waiting);
}

TEST(evaluate_batch, a_sharded_batch_succeeds_only_when_every_job_does) {
    std::vector<job_state> batch{
        job("FINISHED", "READY", "a"), job("FINISHED", "READY", "b"), job("IN_PROGRESS", "IN_PROGRESS", "c")};
    EXPECT_EQ(eval(batch).outcome, batch_outcome::keep_waiting);
    EXPECT_EQ(eval(batch, "AUTOMATED_RESTORE").outcome, batch_outcome::keep_waiting);
    batch[2] = job("FINISHED", "READY", "c");
    EXPECT_EQ(eval(batch).outcome, batch_outcome::ready_to_download);
    EXPECT_EQ(eval(batch, "AUTOMATED_RESTORE").outcome, batch_outcome::succeeded);
    batch[1] = job("KILLED", "INTERRUPTED", "b");
    auto v = eval(batch);
    EXPECT_EQ(v.why, reason::job_killed);
    EXPECT_NE(v.message.find("restore job b (one of a batch of 3)"), std::string::npos) << v.message;
}

TEST(evaluate_batch, the_most_telling_failure_names_the_reason) {
    auto v = eval(
        {job("FINISHED", "EXPIRED", "a"), job("KILLED", "INTERRUPTED", "b"), job("BROKEN", "FAILED", "c")});
    EXPECT_EQ(v.why, reason::job_broken);
    EXPECT_NE(v.message.find(" c "), std::string::npos) << v.message;
}

TEST(evaluate_batch, the_deadline_fails_a_batch_that_is_not_done) {
    auto before = eval({job("IN_PROGRESS", "IN_PROGRESS")}, "HTTP", deadline - 1ms);
    EXPECT_EQ(before.outcome, batch_outcome::keep_waiting);
    auto at = eval({job("IN_PROGRESS", "IN_PROGRESS")}, "HTTP", deadline);
    EXPECT_EQ(at.outcome, batch_outcome::failed);
    EXPECT_EQ(at.why, reason::deadline_exceeded);
    EXPECT_NE(at.message.find("1 of 1 restore job was still not ready"), std::string::npos) << at.message;
    // Done is done, even late; a failure keeps its own reason.
    EXPECT_EQ(eval({job("FINISHED", "READY")}, "HTTP", deadline + 1h).outcome,
              batch_outcome::ready_to_download);
    EXPECT_EQ(eval({job("BROKEN", "FAILED")}, "HTTP", deadline + 1h).why, reason::job_broken);
    // An empty listing waits, then fails at the deadline.
    EXPECT_EQ(eval({}, "HTTP").outcome, batch_outcome::keep_waiting);
    EXPECT_EQ(eval({}, "HTTP", deadline).why, reason::deadline_exceeded);
}

TEST(evaluate_batch, job_state_from_answers_and_records) {
    atlas::restore_job j;
    j.id = "x";
    j.status_name = "FINISHED";
    j.delivery_info.status_name = "READY";
    EXPECT_EQ(job_state_of(j).delivery_status, std::optional<std::string>("READY"));
    j.delivery_info.status_name.clear();
    EXPECT_EQ(job_state_of(j).delivery_status, std::nullopt);
    state::job_record rec;
    rec.job_id = "y";
    rec.status_name = "BROKEN";
    rec.delivery_status = "FAILED";
    EXPECT_EQ(job_state_of(rec).status_name, "BROKEN");
    EXPECT_TRUE(needs_download("HTTP"));
    EXPECT_TRUE(needs_download("CLIENT_PIT_HTTP"));
    EXPECT_FALSE(needs_download("AUTOMATED_RESTORE"));
}

const schedule::backoff_config backoff{1000ms, 2.0, 120'000ms, 3'600'000ms};

TEST(next_poll, after_a_success_the_policy_interval) {
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 0, std::nullopt, 0.99), (poll_decision{30s, false}));
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 0, std::nullopt, 0.0), (poll_decision{30s, false}));
}

TEST(next_poll, failures_back_off_with_full_jitter) {
    // The n-th consecutive failure waits random × min(max, initial × 2^(n-1)).
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 1, std::nullopt, 0.5).delay, 500ms);
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 2, std::nullopt, 0.5).delay, 1000ms);
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 4, std::nullopt, 0.5).delay, 4000ms);
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 20, std::nullopt, 0.5).delay, 60'000ms);  // max 2m
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 3, std::nullopt, 0.0).delay, 0ms);
    EXPECT_LE(next_poll(t0, deadline, 30s, backoff, 3, std::nullopt, 0.999999).delay, 4000ms);
}

TEST(next_poll, retry_after_is_a_floor) {
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 1, 7s, 0.5).delay, 7000ms);
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 0, 45s, 0.5).delay, 45'000ms);
    EXPECT_EQ(next_poll(t0, deadline, 30s, backoff, 0, 5s, 0.5).delay, 30'000ms);
}

TEST(next_poll, the_deadline_cuts_the_wait) {
    EXPECT_EQ(next_poll(deadline - 10s, deadline, 30s, backoff, 0, std::nullopt, 0.5),
              (poll_decision{10s, true}));
    EXPECT_EQ(next_poll(deadline - 30s, deadline, 30s, backoff, 0, std::nullopt, 0.5),
              (poll_decision{30s, true}));
    EXPECT_EQ(next_poll(deadline - 31s, deadline, 30s, backoff, 0, std::nullopt, 0.5),
              (poll_decision{30s, false}));
    EXPECT_EQ(next_poll(deadline + 1s, deadline, 30s, backoff, 0, std::nullopt, 0.5),
              (poll_decision{0ms, true}));
    EXPECT_EQ(next_poll(deadline - 10s, deadline, 1s, backoff, 0, 60s, 0.5), (poll_decision{10s, true}));
}

}  // namespace
}  // namespace atlas_restored::runs
