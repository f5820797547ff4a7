// Secrets never leave through printed responses.

#include "atlas/redact.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace atlas_restored::atlas {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Redact, Structs) {
    restore_job j;
    j.delivery_info.auth_header = "X-Restore-Key";
    j.delivery_info.auth_value = "s3cr3t";
    j.delivery_info.url = "https://api-backup.mongodb.com/backup/restore/v2/pull/job/S3CR3TKEY/f.tar.gz";
    j.delivery_info.url_v2 =
        "https://api-backup.mongodb.com/backup/restore/v2/pull/job/f.tar.gz?sig=S1GNATURE";
    page<restore_job> p;
    p.results = {j, j};
    redact_secrets(p);
    for (const auto& r : p.results) {
        EXPECT_EQ(r.delivery_info.auth_header, "X-Restore-Key");  // a header name is not a secret
        EXPECT_EQ(r.delivery_info.auth_value, "REDACTED");
        EXPECT_EQ(r.delivery_info.url, "REDACTED");
        EXPECT_EQ(r.delivery_info.url_v2,
                  "https://api-backup.mongodb.com/backup/restore/v2/pull/job/f.tar.gz");
    }
    delivery unset;
    redact_secrets(unset);
    EXPECT_FALSE(unset.auth_value);
    EXPECT_FALSE(unset.url);
}

TEST(Redact, AnyJsonAtAnyDepth) {
    boost::json::value v = boost::json::parse(R"({"status":200,"content":{"results":[{"id":"a",
        "delivery":{"authHeader":"X-K","authValue":"s3cr3t","url":"https://h/p/S3CR3TKEY/f",
        "urlV2":"https://h/p/f?sig=S1GNATURE"}}],"links":[{"href":"https://h/self","rel":"self"}]}})");
    redact_secrets(v);
    const std::string out = boost::json::serialize(v);
    EXPECT_THAT(out, Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(out, Not(HasSubstr("S3CR3TKEY")));
    EXPECT_THAT(out, Not(HasSubstr("S1GNATURE")));
    EXPECT_THAT(out, HasSubstr(R"("urlV2":"https://h/p/f")"));
    EXPECT_THAT(out, HasSubstr(R"("href":"https://h/self")"));
    EXPECT_THAT(out, HasSubstr(R"("authHeader":"X-K")"));

    // Deeper than any parser would allow, built by hand: no recursion to exhaust.
    boost::json::value deep = boost::json::object{{"authValue", "s3cr3t"}};
    for (int i = 0; i < 100000; ++i) {
        boost::json::array a;
        a.emplace_back(std::move(deep));
        deep = std::move(a);
    }
    redact_secrets(deep);
    const boost::json::value* inner = &deep;
    while (inner->is_array()) {
        inner = &inner->as_array()[0];
    }
    EXPECT_EQ(inner->as_object().at("authValue"), "REDACTED");
    // Destroying a 100000-deep value recurses inside Boost.JSON; flatten it first.
    while (deep.is_array()) {
        boost::json::value next = std::move(deep.as_array()[0]);
        deep = std::move(next);
    }
}

}  // namespace
}  // namespace atlas_restored::atlas
