#include "runs/queue.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::runs {
namespace {

TEST(run_queue, on_call_runs_go_before_drills_and_fifo_within_a_class) {
    run_queue q;
    q.push("d1", run_class::drill);
    q.push("d2", run_class::drill);
    q.push("t1", run_class::on_call);
    q.push("d3", run_class::drill);
    q.push("t2", run_class::on_call);
    EXPECT_EQ(q.size(), 5u);
    EXPECT_EQ(q.size(run_class::on_call), 2u);
    std::vector<std::string> order;
    while (auto id = q.next(0, 1)) {
        order.push_back(*id);
    }
    EXPECT_EQ(order, (std::vector<std::string>{"t1", "t2", "d1", "d2", "d3"}));
    EXPECT_TRUE(q.empty());
}

TEST(run_queue, never_more_than_max_active) {
    run_queue q;
    q.push("a", run_class::drill);
    q.push("b", run_class::on_call);
    EXPECT_EQ(q.next(2, 2), std::nullopt);
    EXPECT_EQ(q.next(3, 2), std::nullopt);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.next(1, 2), std::optional<std::string>("b"));
    EXPECT_EQ(q.next(1, 2), std::optional<std::string>("a"));
    EXPECT_EQ(q.next(0, 2), std::nullopt);
}

TEST(run_queue, a_late_on_call_run_overtakes_waiting_drills) {
    run_queue q;
    q.push("drill-1", run_class::drill);
    q.push("drill-2", run_class::drill);
    EXPECT_EQ(q.next(1, 1), std::nullopt);  // the one slot is busy
    q.push("incident", run_class::on_call);
    EXPECT_EQ(q.next(0, 1), std::optional<std::string>("incident"));
}

TEST(run_queue, zero_slots_count_as_one_and_ids_are_queued_once) {
    run_queue q;
    q.push("a", run_class::drill);
    q.push("a", run_class::on_call);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.next(0, 0), std::optional<std::string>("a"));
}

TEST(run_queue, remove) {
    run_queue q;
    q.push("a", run_class::drill);
    q.push("b", run_class::on_call);
    EXPECT_TRUE(q.contains("a"));
    EXPECT_TRUE(q.remove("a"));
    EXPECT_FALSE(q.remove("a"));
    EXPECT_FALSE(q.contains("a"));
    EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace atlas_restored::runs
