#include "download/budget.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::download {
namespace {

using namespace std::chrono_literals;

const sys_time now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 3h;

budget_input base() {
    budget_input in;
    in.now = now;
    in.expires = now + 4h;
    in.lifetime = 4h;
    in.max_downloads = 2;
    in.attempts_counted = 0;
    in.bytes_remaining = 1 << 20;
    return in;
}

TEST(decide_attempt, table) {
    struct row {
        std::string name;
        std::function<void(budget_input&)> change;
        bool go;
        std::string reason;
        bool warn;
    };
    const std::vector<row> rows{
        {"fresh link, budget left", [](budget_input&) {}, true, "", false},
        {"one of two used", [](budget_input& in) { in.attempts_counted = 1; }, true, "", false},
        {"budget spent",
         [](budget_input& in) { in.attempts_counted = 2; },
         false,
         "download_budget_exhausted",
         false},
        {"budget overspent (over-counted after a crash)",
         [](budget_input& in) { in.attempts_counted = 5; },
         false,
         "download_budget_exhausted",
         false},
        {"budget spent by a complete but corrupt file",
         [](budget_input& in) {
             in.attempts_counted = 2;
             in.last_attempt_mismatched = true;
         },
         false,
         "sha1_mismatch",
         false},
        {"attempts that never reached the server are not spent",
         [](budget_input& in) {
             in.attempts_counted = 2;
             in.attempts_not_sent = 1;
         },
         true,
         "",
         false},
        {"no maxDownloads known",
         [](budget_input& in) {
             in.max_downloads.reset();
             in.attempts_counted = 100;
         },
         true,
         "",
         false},
        {"expired", [](budget_input& in) { in.expires = now - 1s; }, false, "link_expired", false},
        {"expires exactly now", [](budget_input& in) { in.expires = now; }, false, "link_expired", false},
        {"expires within the 30 s margin",
         [](budget_input& in) { in.expires = now + 29s; },
         false,
         "link_expired",
         false},
        {"expires just past the margin: tried, and warned",
         [](budget_input& in) { in.expires = now + 31s; },
         true,
         "",
         true},
        {"within 25% of its life: warned", [](budget_input& in) { in.expires = now + 1h; }, true, "", true},
        {"just over 25% of its life: quiet",
         [](budget_input& in) { in.expires = now + 61min; },
         true,
         "",
         false},
        {"budget is checked before expiry",
         [](budget_input& in) {
             in.attempts_counted = 2;
             in.expires = now - 1h;
         },
         false,
         "download_budget_exhausted",
         false},
        {"no expiry known", [](budget_input& in) { in.expires.reset(); }, true, "", false},
        {"slow rate: still tried (conservative)",
         [](budget_input& in) {
             in.bytes_remaining = 100ull << 30;
             in.bytes_per_second = 1e6;
         },
         true,
         "",
         false},
    };
    for (const auto& r : rows) {
        budget_input in = base();
        r.change(in);
        const budget_decision d = decide_attempt(in);
        EXPECT_EQ(d.go, r.go) << r.name;
        EXPECT_EQ(d.reason, r.reason) << r.name;
        EXPECT_EQ(d.warn_expiring, r.warn) << r.name;
        if (!r.go) {
            EXPECT_FALSE(d.message.empty()) << r.name;
        }
    }
}

TEST(decide_attempt, estimates_the_duration_and_notes_a_likely_expiry) {
    budget_input in = base();
    in.bytes_remaining = 100ull << 30;  // 100 GiB at 1 MB/s: ~30 h
    in.bytes_per_second = 1e6;
    const budget_decision d = decide_attempt(in);
    ASSERT_TRUE(d.estimated_duration);
    EXPECT_EQ(d.estimated_duration->count(), 107375);
    EXPECT_NE(d.message.find("expires at 2026-11-28T07:00:00Z"), std::string::npos) << d.message;
}

TEST(decide_attempt, messages_name_the_numbers) {
    budget_input in = base();
    in.attempts_counted = 2;
    EXPECT_NE(decide_attempt(in).message.find("2 of maxDownloads 2"), std::string::npos);
    in = base();
    in.expires = now - 1s;
    EXPECT_NE(decide_attempt(in).message.find("2026-11-28T02:59:59Z"), std::string::npos);
}

TEST(should_warn_expiring, without_a_lifetime_the_last_hour) {
    EXPECT_TRUE(should_warn_expiring(now, now + 59min, std::nullopt));
    EXPECT_FALSE(should_warn_expiring(now, now + 2h, std::nullopt));
    EXPECT_FALSE(should_warn_expiring(now, now - 1s, 4h));  // expired is a failure, not a warning
    EXPECT_TRUE(should_warn_expiring(now, now + 12h, 48h));
    EXPECT_FALSE(should_warn_expiring(now, now + 13h, 48h));
}

TEST(link_lifetime, from_expiration_hours_or_expires_minus_created) {
    atlas::delivery d;
    d.expiration_hours = 4;
    EXPECT_EQ(link_lifetime(d, std::nullopt), std::chrono::seconds(4h));
    d.expiration_hours.reset();
    d.expires = "2026-11-28T05:00:00Z";
    EXPECT_EQ(link_lifetime(d, now), std::chrono::seconds(2h));
    EXPECT_EQ(link_lifetime(d, std::nullopt), std::nullopt);
    d.expires = "garbage";
    EXPECT_EQ(link_lifetime(d, now), std::nullopt);
}

TEST(reason_for_delivery_status, maps_the_final_statuses) {
    EXPECT_EQ(reason_for_delivery_status("FAILED", false), "delivery_failed");
    EXPECT_EQ(reason_for_delivery_status("INTERRUPTED", false), "delivery_interrupted");
    EXPECT_EQ(reason_for_delivery_status("EXPIRED", false), "link_expired");
    EXPECT_EQ(reason_for_delivery_status("MAX_DOWNLOADS_EXCEEDED", false), "download_budget_exhausted");
    EXPECT_EQ(reason_for_delivery_status("MAX_DOWNLOADS_EXCEEDED", true), "sha1_mismatch");
    for (const char* s : {"READY", "NOT_STARTED", "IN_PROGRESS", "PENDING", "SOMETHING_NEW"}) {
        EXPECT_EQ(reason_for_delivery_status(s, false), std::nullopt) << s;
    }
}

TEST(retry_delay, full_jitter_under_a_doubling_cap) {
    EXPECT_EQ(retry_delay(0, 1000ms, 30s, 0.999999).count(), 999);
    EXPECT_EQ(retry_delay(3, 1000ms, 30s, 0.5), 4000ms);
    EXPECT_EQ(retry_delay(10, 1000ms, 30s, 0.5), 15000ms);
    EXPECT_EQ(retry_delay(1000, 1000ms, 30s, 1.0), 30000ms);
    EXPECT_EQ(retry_delay(3, 1000ms, 30s, 0.0), 0ms);
}

}  // namespace
}  // namespace atlas_restored::download
