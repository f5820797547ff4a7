#include "fixture.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace atlas_restored::fake_atlas::testing {
namespace {

std::string str(const json::value& v) {
    return std::string(v.as_string());
}

std::string param(const std::string& challenge, const std::string& name) {
    auto at = challenge.find(name + "=");
    if (at == std::string::npos) {
        return {};
    }
    at += name.size() + 1;
    if (challenge[at] == '"') {
        return challenge.substr(at + 1, challenge.find('"', at + 1) - at - 1);
    }
    return challenge.substr(at, challenge.find_first_of(", ", at) - at);
}

// RFC 7616 with MD5 and qop=auth, computed here independently of the fake.
std::string digest(const std::string& method,
                   const std::string& uri,
                   const std::string& user,
                   const std::string& password,
                   const std::string& nonce,
                   unsigned nc,
                   const std::string& cnonce = "0a4f113b") {
    char ncs[9];
    std::snprintf(ncs, sizeof ncs, "%08x", nc);
    const std::string ha1 = test_md5(user + ":MMS Public API:" + password);
    const std::string ha2 = test_md5(method + ":" + uri);
    const std::string response = test_md5(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":auth:" + ha2);
    return "Digest username=\"" + user + "\", realm=\"MMS Public API\", nonce=\"" + nonce + "\", uri=\"" +
           uri + "\", algorithm=MD5, qop=auth, nc=" + ncs + ", cnonce=\"" + cnonce + "\", response=\"" +
           response + "\"";
}

class digest_test : public world_test {
  protected:
    std::string challenge_nonce(const std::string& target) {
        auto r = send("GET", target, {{"Accept", accept_v1}});
        EXPECT_EQ(r.status, 401);
        auto h = header_of(r, "WWW-Authenticate");
        EXPECT_TRUE(h);
        EXPECT_EQ(param(*h, "realm"), "MMS Public API");
        EXPECT_EQ(param(*h, "algorithm"), "MD5");
        EXPECT_EQ(param(*h, "qop"), "auth");
        EXPECT_EQ(param(*h, "stale"), "false");
        return param(*h, "nonce");
    }
    http::reply call(const std::string& target,
                     const std::string& nonce,
                     unsigned nc,
                     const std::string& user = "pubkey1",
                     const std::string& password = "privkey1") {
        return send(
            "GET",
            target,
            {{"Accept", accept_v1}, {"Authorization", digest("GET", target, user, password, nonce, nc)}});
    }
    const std::string target = jobs_path(group_a, "users") + "?pageNum=1";
};

TEST_F(digest_test, a_challenge_then_calls_that_reuse_the_nonce_with_increasing_nc) {
    const std::string nonce = challenge_nonce(target);
    EXPECT_EQ(w->counters().challenges, 1u);
    for (unsigned nc = 1; nc <= 5; ++nc) {
        auto r = call(target, nonce, nc);
        EXPECT_EQ(r.status, 200) << r.body;
    }
    EXPECT_EQ(w->counters().challenges, 1u) << "one round trip per call after the first";
    auto r = call(target, nonce, 3);
    EXPECT_EQ(r.status, 401) << "a replayed nc is refused";
    EXPECT_EQ(w->counters().nc_replays, 1u);
    EXPECT_EQ(param(*header_of(r, "WWW-Authenticate"), "stale"), "false");
    // Out of order but unused (another connection's request arriving late) is accepted once.
    EXPECT_EQ(call(target, nonce, 7).status, 200);
    EXPECT_EQ(call(target, nonce, 6).status, 200);
    EXPECT_EQ(call(target, nonce, 6).status, 401);
}

TEST_F(digest_test, wrong_password_wrong_uri_and_unknown_nonce) {
    const std::string nonce = challenge_nonce(target);
    auto r = call(target, nonce, 1, "pubkey1", "wrong");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(param(*header_of(r, "WWW-Authenticate"), "stale"), "false");
    EXPECT_EQ(str(body_json(r).at("errorCode")), "USER_UNAUTHORIZED");
    r = call(target, nonce, 2, "nobody", "privkey1");
    EXPECT_EQ(r.status, 401);
    // The digest of another target does not authorise this one.
    r = send(
        "GET",
        target,
        {{"Accept", accept_v1},
         {"Authorization", digest("GET", jobs_path(group_a, "users"), "pubkey1", "privkey1", nonce, 3)}});
    EXPECT_EQ(r.status, 401);
    // Right credentials with a nonce the server never issued: stale, so the client retries at once.
    r = call(target, "0123456789abcdef0123456789abcdef", 1);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(param(*header_of(r, "WWW-Authenticate"), "stale"), "true");
    // Malformed headers are challenged, not crashed on.
    for (const char* bad :
         {"Digest", "Digest username=", "Digest username=\"x", "Basic abc", "Digest a=1,,b"}) {
        r = send("GET", target, {{"Accept", accept_v1}, {"Authorization", bad}});
        EXPECT_EQ(r.status, 401) << bad;
    }
}

TEST_F(digest_test, nonces_expire_after_the_ttl_with_stale_true) {
    auto o = default_options();
    o.nonce_ttl = std::chrono::seconds(300);
    make(o);
    const std::string nonce = challenge_nonce(target);
    now += 299s;
    EXPECT_EQ(call(target, nonce, 1).status, 200);
    now += 1s;
    auto r = call(target, nonce, 2);
    EXPECT_EQ(r.status, 401);
    const auto h = *header_of(r, "WWW-Authenticate");
    EXPECT_EQ(param(h, "stale"), "true");
    EXPECT_EQ(w->counters().stale_nonces, 1u);
    const std::string fresh = param(h, "nonce");
    EXPECT_NE(fresh, nonce);
    EXPECT_EQ(call(target, fresh, 1).status, 200);
    // A stale nonce with a wrong password is not "stale": the credentials are the problem.
    now += 301s;
    r = call(target, fresh, 2, "pubkey1", "wrong");
    EXPECT_EQ(param(*header_of(r, "WWW-Authenticate"), "stale"), "false");
}

TEST_F(digest_test, post_bodies_are_authorised_by_method_and_uri) {
    const std::string path = jobs_path(group_a, "users");
    const std::string nonce = challenge_nonce(path);
    const std::string body = R"({"snapshotId":")" + w->snapshot_ids(group_a, "users").at(2) +
                             R"(","delivery":{"methodName":"HTTP"}})";
    auto r = send("POST",
                  path,
                  {{"Accept", accept_v1},
                   {"Content-Type", accept_v1},
                   {"Authorization", digest("GET", path, "pubkey1", "privkey1", nonce, 1)}},
                  body);
    EXPECT_EQ(r.status, 401) << "a GET digest does not authorise a POST";
    r = send("POST",
             path,
             {{"Accept", accept_v1},
              {"Content-Type", accept_v1},
              {"Authorization", digest("POST", path, "pubkey1", "privkey1", nonce, 2)}},
             body);
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(world_test, service_account_tokens_are_issued_used_and_expire) {
    auto o = default_options();
    o.token_ttl = std::chrono::seconds(600);
    make(o);
    auto r = send("POST",
                  "/api/oauth/token",
                  {{"Authorization", "Basic " + test_base64("mdb_sa_id_1:sa-secret-1")},
                   {"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"}},
                  "grant_type=client_credentials");
    ASSERT_EQ(r.status, 200) << r.body;
    auto t = body_json(r).as_object();
    EXPECT_EQ(str(t.at("token_type")), "Bearer");
    EXPECT_EQ(t.at("expires_in"), 600);
    const std::string access = str(t.at("access_token"));
    EXPECT_EQ(w->counters().tokens_issued, 1u);

    EXPECT_EQ(send("GET", jobs_path(group_a, "users"), api_headers(access)).status, 200);
    now += 599s;
    EXPECT_EQ(send("GET", jobs_path(group_a, "users"), api_headers(access)).status, 200);
    now += 1s;
    r = send("GET", jobs_path(group_a, "users"), api_headers(access));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(*header_of(r, "WWW-Authenticate"), "Bearer error=\"invalid_token\"");
    EXPECT_EQ(send("GET", jobs_path(group_a, "users"), api_headers("made-up")).status, 401);

    // Bad client credentials, bad grant, bad content type.
    r = send("POST",
             "/api/oauth/token",
             {{"Authorization", "Basic " + test_base64("mdb_sa_id_1:nope")},
              {"Content-Type", "application/x-www-form-urlencoded"}},
             "grant_type=client_credentials");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(str(body_json(r).at("error")), "invalid_client");
    r = send("POST",
             "/api/oauth/token",
             {{"Authorization", "Basic " + test_base64("mdb_sa_id_1:sa-secret-1")},
              {"Content-Type", "application/x-www-form-urlencoded"}},
             "grant_type=password");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(str(body_json(r).at("error")), "unsupported_grant_type");
    // URL-encoded Basic credentials (as RFC 6749 clients send them) are accepted.
    auto o2 = default_options();
    o2.service_accounts.push_back({"default", "id:with colon", "s&cret"});
    make(o2);
    r = send("POST",
             "/api/oauth/token",
             {{"Authorization", "Basic " + test_base64("id%3Awith+colon:s%26cret")},
              {"Content-Type", "application/x-www-form-urlencoded"}},
             "grant_type=client_credentials");
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(world_test, at_most_max_tokens_live_tokens_and_fifty_requests_a_minute) {
    auto o = default_options();
    o.max_tokens_per_account = 3;
    o.token_requests_per_minute = 5;
    make(o);
    for (int i = 0; i < 3; ++i) {
        token();
    }
    auto request = [&] {
        return send("POST",
                    "/api/oauth/token",
                    {{"Authorization", "Basic " + test_base64("mdb_sa_id_1:sa-secret-1")},
                     {"Content-Type", "application/x-www-form-urlencoded"}},
                    "grant_type=client_credentials");
    };
    auto r = request();
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(str(body_json(r).at("error")), "access_denied");
    r = request();
    EXPECT_EQ(r.status, 403);
    r = request();
    EXPECT_EQ(r.status, 429) << "the sixth request within a minute";
    EXPECT_EQ(str(body_json(r).at("errorCode")), "RATE_LIMITED");
    EXPECT_EQ(*header_of(r, "Retry-After"), "60");
    now += 3601s;  // tokens expired and the window moved on
    EXPECT_EQ(request().status, 200);
    EXPECT_EQ(w->counters().token_requests, 7u);
}

TEST_F(world_test, the_rate_limit_is_a_token_bucket_per_group) {
    auto o = default_options();
    o.rate_limit = rate_limit_spec{3, 6};  // one token every 10 s
    make(o);
    const std::string t = token();
    for (int remaining = 2; remaining >= 0; --remaining) {
        auto r = send("GET", jobs_path(group_a, "users"), api_headers(t));
        ASSERT_EQ(r.status, 200);
        EXPECT_EQ(*header_of(r, "RateLimit-Limit"), "3");
        EXPECT_EQ(*header_of(r, "RateLimit-Remaining"), std::to_string(remaining));
    }
    auto r = send("GET", jobs_path(group_a, "orders"), api_headers(t));
    EXPECT_EQ(r.status, 429) << "the same group, another cluster";
    EXPECT_EQ(*header_of(r, "Retry-After"), "10");
    auto e = body_json(r).as_object();
    EXPECT_EQ(e.at("error"), 429);
    EXPECT_EQ(str(e.at("errorCode")), "RATE_LIMITED_TOKEN_BUCKET");
    EXPECT_NE(str(e.at("detail")).find("Please retry after 10 seconds"), std::string::npos);
    EXPECT_EQ(w->counters().rate_limited, 1u);
    // Another group has its own bucket.
    EXPECT_EQ(
        send("GET", jobs_path(group_b, "payments"), api_headers(token("mdb_sa_id_2", "sa-secret-2"))).status,
        200);
    now += 4s;
    r = send("GET", jobs_path(group_a, "users"), api_headers(t));
    EXPECT_EQ(*header_of(r, "Retry-After"), "6");
    now += 6s;
    EXPECT_EQ(send("GET", jobs_path(group_a, "users"), api_headers(t)).status, 200);
    // An envelope does not hide a 429: the limiter answers before the application.
    r = send("GET", jobs_path(group_a, "users") + "?envelope=true", api_headers(t));
    EXPECT_EQ(r.status, 429);
}

}  // namespace
}  // namespace atlas_restored::fake_atlas::testing
