#include "app/control_protocol.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::app {
namespace {

TEST(ControlRequest, RunNowRoundTrip) {
    control_request r;
    r.command = "run-now";
    r.policy = "orders-drill";
    const auto line = format_control_request(r);
    EXPECT_EQ(line, "{\"command\":\"run-now\",\"policy\":\"orders-drill\"}\n");
    auto back = parse_control_request(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->command, "run-now");
    EXPECT_EQ(back->policy, "orders-drill");
    EXPECT_FALSE(back->sudo_user);
}

TEST(ControlRequest, Ping) {
    auto r = parse_control_request(R"({"command":"ping"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->command, "ping");
}

TEST(ControlRequest, RefusesWhatIsNotARequest) {
    for (const char* bad : {"",
                            "not json",
                            "[1,2]",
                            R"({"policy":"x"})",
                            R"({"command":7})",
                            R"({"command":"run-now"})",
                            R"({"command":"run-now","policy":""})",
                            R"({"command":"run-now","policy":3})",
                            R"({"command":"delete-everything"})"}) {
        auto r = parse_control_request(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, errc::invalid_input);
            EXPECT_FALSE(r.error().message.empty());
        }
    }
    auto unknown = parse_control_request(R"({"command":"delete-everything"})");
    EXPECT_NE(unknown.error().message.find("unknown command 'delete-everything'"), std::string::npos);
}

TEST(ControlRequest, RefusesAnOverlongLine) {
    std::string line = R"({"command":"run-now","policy":")" + std::string(max_control_line, 'a') + "\"}";
    auto r = parse_control_request(line);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("longer than"), std::string::npos);
}

TEST(ControlRequest, SudoUserIsKeptOnlyWhenItLooksLikeAUserName) {
    auto ok = parse_control_request(R"({"command":"run-now","policy":"p","sudo_user":"alice"})");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->sudo_user.value_or(""), "alice");
    auto odd = parse_control_request(R"({"command":"run-now","policy":"p","sudo_user":"alice\nroot"})");
    ASSERT_TRUE(odd);
    EXPECT_FALSE(odd->sudo_user);
}

TEST(ControlResponse, RoundTrips) {
    control_response ok;
    ok.ok = true;
    ok.run_id = "r-20261128-120000-abcdef";
    const auto line = format_control_response(ok);
    EXPECT_EQ(line, "{\"ok\":true,\"run_id\":\"r-20261128-120000-abcdef\"}\n");
    auto back = parse_control_response(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->ok);
    EXPECT_EQ(back->run_id, ok.run_id);

    control_response refused;
    refused.error = "unknown policy 'x'";
    const auto refused_line = format_control_response(refused);
    EXPECT_EQ(refused_line, "{\"ok\":false,\"error\":\"unknown policy 'x'\"}\n");
    auto refused_back = parse_control_response(refused_line.substr(0, refused_line.size() - 1));
    ASSERT_TRUE(refused_back);
    EXPECT_FALSE(refused_back->ok);
    EXPECT_EQ(refused_back->error, "unknown policy 'x'");
}

TEST(ControlResponse, ExtraFieldsSurvive) {
    auto r = parse_control_response(R"({"ok":true,"pid":42,"active_runs":1})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->extra.at("pid").as_int64(), 42);
    EXPECT_EQ(r->extra.at("active_runs").as_int64(), 1);
}

TEST(ControlResponse, AFailureWithoutReasonStillSaysSomething) {
    auto r = parse_control_response(R"({"ok":false})");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->error.empty());
    EXPECT_FALSE(parse_control_response(R"({"run_id":"x"})"));
    EXPECT_FALSE(parse_control_response("garbage"));
}

TEST(DescribeCaller, NameUidAndSudo) {
    EXPECT_EQ(describe_caller(1000, std::string("alice"), std::nullopt), "alice");
    EXPECT_EQ(describe_caller(1234, std::nullopt, std::nullopt), "uid 1234");
    EXPECT_EQ(describe_caller(0, std::string("root"), std::string("alice")), "root (sudo: alice)");
    // Only root may say who it acts for: anyone else's claim is ignored.
    EXPECT_EQ(describe_caller(1000, std::string("mallory"), std::string("alice")), "mallory");
    EXPECT_EQ(describe_caller(1000, std::string("bad name"), std::nullopt), "uid 1000");
}

}  // namespace
}  // namespace atlas_restored::app
