// The status classifiers: which job and delivery states end the wait.

#include "atlas/types.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::atlas {
namespace {

TEST(Types, TerminalJobStatus) {
    EXPECT_TRUE(is_terminal_job_status("FINISHED"));
    EXPECT_TRUE(is_terminal_job_status("BROKEN"));
    EXPECT_TRUE(is_terminal_job_status("KILLED"));
    EXPECT_FALSE(is_terminal_job_status("IN_PROGRESS"));
    EXPECT_FALSE(is_terminal_job_status(""));
    EXPECT_FALSE(is_terminal_job_status("finished"));
    EXPECT_FALSE(is_terminal_job_status("SOMETHING_NEW"));  // open world: keep waiting
}

TEST(Types, DeliveryStatus) {
    for (const char* s : {"READY", "FAILED", "INTERRUPTED", "EXPIRED", "MAX_DOWNLOADS_EXCEEDED"}) {
        EXPECT_TRUE(is_terminal_delivery_status(s)) << s;
    }
    for (const char* s : {"NOT_STARTED", "IN_PROGRESS", "PENDING", "", "SOMETHING_NEW"}) {
        EXPECT_FALSE(is_terminal_delivery_status(s)) << s;
        EXPECT_FALSE(is_failed_delivery_status(s)) << s;
    }
    for (const char* s : {"FAILED", "INTERRUPTED", "EXPIRED", "MAX_DOWNLOADS_EXCEEDED"}) {
        EXPECT_TRUE(is_failed_delivery_status(s)) << s;
    }
    EXPECT_FALSE(is_failed_delivery_status("READY"));
}

}  // namespace
}  // namespace atlas_restored::atlas
