#include "runs/machine.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace atlas_restored::runs {
namespace {

using enum run_state;

constexpr run_state all_states[] = {
    pending, submitting, waiting, downloading, verifying, succeeded, failed, cancelled};

TEST(run_machine, states_round_trip_through_their_names) {
    for (auto s : all_states) {
        EXPECT_EQ(parse_run_state(to_string(s)), s) << to_string(s);
    }
    EXPECT_EQ(parse_run_state("Pending"), std::nullopt);
    EXPECT_EQ(parse_run_state(""), std::nullopt);
}

TEST(run_machine, the_legal_moves_are_exactly_these) {
    const std::set<std::pair<run_state, run_state>> legal{
        {pending, submitting},
        {pending, failed},
        {pending, cancelled},
        {submitting, waiting},
        {submitting, failed},
        {submitting, cancelled},
        {waiting, downloading},
        {waiting, succeeded},
        {waiting, submitting},
        {waiting, failed},
        {waiting, cancelled},
        {downloading, verifying},
        {downloading, submitting},
        {downloading, failed},
        {downloading, cancelled},
        {verifying, succeeded},
        {verifying, failed},
        {verifying, cancelled},
    };
    for (auto from : all_states) {
        for (auto to : all_states) {
            EXPECT_EQ(can_transition(from, to), legal.contains({from, to}))
                << to_string(from) << " -> " << to_string(to);
            EXPECT_EQ(check_transition(from, to).has_value(), legal.contains({from, to}));
        }
    }
}

TEST(run_machine, final_states_are_final) {
    for (auto s : all_states) {
        EXPECT_EQ(is_final(s), s == succeeded || s == failed || s == cancelled);
    }
    auto r = check_transition(failed, pending);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    EXPECT_NE(r.error().message.find("failed to pending"), std::string::npos);
}

TEST(run_machine, reason_codes_are_spelled_as_the_spec_says) {
    const std::pair<reason, const char*> table[] = {
        {reason::preflight_failed, "preflight_failed"},
        {reason::submit_failed, "submit_failed"},
        {reason::job_broken, "job_broken"},
        {reason::job_killed, "job_killed"},
        {reason::delivery_failed, "delivery_failed"},
        {reason::delivery_interrupted, "delivery_interrupted"},
        {reason::link_expired, "link_expired"},
        {reason::download_budget_exhausted, "download_budget_exhausted"},
        {reason::sha1_mismatch, "sha1_mismatch"},
        {reason::disk_full, "disk_full"},
        {reason::after_download_failed, "after_download_failed"},
        {reason::deadline_exceeded, "deadline_exceeded"},
    };
    for (const auto& [r, name] : table) {
        EXPECT_STREQ(to_string(r), name);
        EXPECT_EQ(parse_reason(name), r);
    }
    EXPECT_EQ(parse_reason("timeout"), std::nullopt);
}

TEST(run_machine, an_error_starts_with_its_code_and_never_carries_a_url) {
    const auto text =
        format_error(reason::link_expired,
                     "the link https://api-backup.example.com/pull/abc/KEY/file.tar.gz?sig=1 expired");
    EXPECT_EQ(text.rfind("link_expired: ", 0), 0u) << text;
    EXPECT_EQ(text.find("KEY"), std::string::npos) << text;
    EXPECT_EQ(text.find("sig="), std::string::npos) << text;
    EXPECT_EQ(reason_of(text), reason::link_expired);
    EXPECT_EQ(reason_of("no code here"), std::nullopt);
    EXPECT_EQ(reason_of("weird: thing"), std::nullopt);
}

}  // namespace
}  // namespace atlas_restored::runs
