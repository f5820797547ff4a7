// HTTP Digest: the RFC vectors, challenge and credentials parsing, and the nc counter.

#include "atlas/digest.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace atlas_restored::atlas {
namespace {

using ::testing::HasSubstr;

TEST(Digest, Rfc2617Vector) {
    // RFC 2617 §3.5.
    EXPECT_EQ(digest_response_md5("Mufasa",
                                  "testrealm@host.com",
                                  "Circle Of Life",
                                  "GET",
                                  "/dir/index.html",
                                  "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                  "00000001",
                                  "0a4f113b",
                                  "auth"),
              "6629fae49393a05397450978507c4ef1");
}

TEST(Digest, Rfc7616Md5Vector) {
    // RFC 7616 §3.9.1, the MD5 variant.
    EXPECT_EQ(digest_response_md5("Mufasa",
                                  "http-auth@example.org",
                                  "Circle of Life",
                                  "GET",
                                  "/dir/index.html",
                                  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                                  "00000001",
                                  "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                                  "auth"),
              "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Digest, ParsesRfc7616Challenge) {
    auto c = parse_digest_challenge(
        "Digest\r\n"
        "    realm=\"http-auth@example.org\",\r\n"
        "    qop=\"auth, auth-int\",\r\n"
        "    algorithm=MD5,\r\n"
        "    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
        "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
    // A header value never contains CR LF once the HTTP layer unfolded it; RFC examples do.
    EXPECT_FALSE(c);
    c = parse_digest_challenge(
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, "
        "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->realm, "http-auth@example.org");
    EXPECT_EQ(c->nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    EXPECT_EQ(c->opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    EXPECT_EQ(c->algorithm, "MD5");
    EXPECT_THAT(c->qop, ::testing::ElementsAre("auth", "auth-int"));
    EXPECT_FALSE(c->stale);
}

TEST(Digest, ParsesAtlasChallenge) {
    auto c = parse_digest_challenge(
        "Digest realm=\"MMS Public API\", domain=\"\", nonce=\"Qm9ndXMsIG5vbmNl\", algorithm=MD5, "
        "qop=\"auth\", stale=false");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->realm, "MMS Public API");
    EXPECT_EQ(c->domain, "");
    EXPECT_THAT(c->qop, ::testing::ElementsAre("auth"));
    EXPECT_FALSE(c->stale);
}

TEST(Digest, ParsesStaleAndOddSyntax) {
    auto c = parse_digest_challenge("dIgEsT realm=\"a, b\",nonce=n1 , STALE=TRUE, qop=auth");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->realm, "a, b");  // a comma inside quotes
    EXPECT_EQ(c->nonce, "n1");    // an unquoted token
    EXPECT_TRUE(c->stale);
    EXPECT_THAT(c->qop, ::testing::ElementsAre("auth"));

    auto escaped =
        parse_digest_challenge(R"(Digest realm="say \"hi\" \\ ok", nonce="x", future=thing, qop="auth")");
    ASSERT_TRUE(escaped) << escaped.error().message;
    EXPECT_EQ(escaped->realm, R"(say "hi" \ ok)");

    EXPECT_TRUE(parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", stale=true")->stale);
    EXPECT_FALSE(parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", stale=\"no\"")->stale);
}

TEST(Digest, FindsDigestAmongOtherChallenges) {
    auto c = parse_digest_challenge(
        "Basic realm=\"x\", Digest realm=\"MMS Public API\", nonce=\"abc\", qop=\"auth\"");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->realm, "MMS Public API");
    EXPECT_EQ(c->nonce, "abc");
    auto after = parse_digest_challenge("Digest realm=\"r\", nonce=\"n\", Bearer realm=\"other\"");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->realm, "r");
}

TEST(Digest, RefusesBadChallenges) {
    for (const char* bad : {"",
                            "Basic realm=\"x\"",
                            "Digest",
                            "Digest realm=\"r\"",  // no nonce
                            "Digest nonce=\"n\"",  // no realm
                            "Digest realm=\"unterminated, nonce=\"n\"",
                            "Digest realm=\"r\", nonce=\"n\\",
                            "Digest realm=\"r\" nonce=\"n\"",  // missing comma
                            "Digest realm==\"r\", nonce=\"n\"",
                            "Digest =\"r\"",
                            "\"Digest\" realm=\"r\""}) {
        SCOPED_TRACE(bad);
        auto c = parse_digest_challenge(bad);
        ASSERT_FALSE(c);
        EXPECT_EQ(c.error().code, errc::bad_response);
    }
}

TEST(Digest, NeverCrashesOnAnyPrefixOrByte) {
    const std::string good =
        "Digest realm=\"MMS Public API\", domain=\"\", nonce=\"n\\\"x\", algorithm=MD5, qop=\"auth\", "
        "stale=true";
    for (std::size_t i = 0; i <= good.size(); ++i) {
        (void)parse_digest_challenge(std::string_view(good).substr(0, i));
        (void)parse_digest_authorization(std::string_view(good).substr(0, i));
        std::string mutated = good;
        if (i < mutated.size()) {
            for (const char c : {'"', '\\', ',', '=', ' ', '\0', '\xff'}) {
                mutated[i] = c;
                (void)parse_digest_challenge(mutated);
                (void)parse_digest_authorization(mutated);
            }
        }
    }
    (void)parse_digest_challenge(std::string(100000, ','));
    (void)parse_digest_challenge("Digest " + std::string(100000, '"'));
}

TEST(Digest, FormatsAChallengeThatParsesBack) {
    digest_challenge c;
    c.realm = "MMS Public API";
    c.nonce = "abc\"def";
    c.opaque = "op";
    c.qop = {"auth"};
    c.stale = true;
    const std::string header = format_digest_challenge(c);
    EXPECT_THAT(header, HasSubstr("Digest realm=\"MMS Public API\""));
    EXPECT_THAT(header, HasSubstr("algorithm=MD5"));
    EXPECT_THAT(header, HasSubstr("qop=\"auth\""));
    EXPECT_THAT(header, HasSubstr("stale=true"));
    auto back = parse_digest_challenge(header);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->nonce, "abc\"def");
    EXPECT_EQ(back->opaque, "op");
    EXPECT_TRUE(back->stale);
}

digest_challenge atlas_challenge(std::string nonce) {
    auto c = parse_digest_challenge("Digest realm=\"MMS Public API\", domain=\"\", nonce=\"" + nonce +
                                    "\", algorithm=MD5, qop=\"auth\", stale=false");
    EXPECT_TRUE(c);
    return *c;
}

TEST(Digest, SessionBuildsAuthorizationTheServerAccepts) {
    digest_session session;
    EXPECT_FALSE(session.ready());
    EXPECT_EQ(session.authorization("GET", "/x", "u", "p", "c"), "");
    ASSERT_TRUE(session.accept_challenge(atlas_challenge("nonce-1")));
    ASSERT_TRUE(session.ready());

    const std::string uri = "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/restoreJobs?pageNum=1";
    const std::string header =
        session.authorization("GET", uri, "abcdefgh", "private-key", "0a4f113b0a4f113b");
    EXPECT_EQ(
        header.rfind("Digest username=\"abcdefgh\", realm=\"MMS Public API\", nonce=\"nonce-1\", uri=\"" +
                         uri + "\", response=\"",
                     0),
        0u)
        << header;
    EXPECT_THAT(header, HasSubstr("algorithm=MD5, qop=auth, nc=00000001, cnonce=\"0a4f113b0a4f113b\""));
    EXPECT_THAT(header, ::testing::Not(HasSubstr("private-key")));
    EXPECT_THAT(header, ::testing::Not(HasSubstr("opaque")));

    // The fake Atlas's view: parse, recompute, compare.
    auto creds = parse_digest_authorization(header);
    ASSERT_TRUE(creds) << creds.error().message;
    EXPECT_EQ(creds->username, "abcdefgh");
    EXPECT_EQ(creds->realm, "MMS Public API");
    EXPECT_EQ(creds->nonce, "nonce-1");
    EXPECT_EQ(creds->uri, uri);
    EXPECT_EQ(creds->algorithm, "MD5");
    EXPECT_EQ(creds->qop, "auth");
    EXPECT_EQ(creds->nc, "00000001");
    EXPECT_EQ(creds->cnonce, "0a4f113b0a4f113b");
    EXPECT_EQ(creds->response,
              digest_response_md5("abcdefgh",
                                  "MMS Public API",
                                  "private-key",
                                  "GET",
                                  uri,
                                  "nonce-1",
                                  "00000001",
                                  "0a4f113b0a4f113b",
                                  "auth"));
}

TEST(Digest, NcIncrementsAndResetsWithANewNonce) {
    digest_session session;
    ASSERT_TRUE(session.accept_challenge(atlas_challenge("n1")));
    auto nc_of = [](const std::string& header) { return parse_digest_authorization(header)->nc; };
    EXPECT_EQ(nc_of(session.authorization("GET", "/a", "u", "p", "c1")), "00000001");
    EXPECT_EQ(nc_of(session.authorization("POST", "/b", "u", "p", "c2")), "00000002");
    EXPECT_EQ(nc_of(session.authorization("GET", "/c", "u", "p", "c3")), "00000003");
    EXPECT_EQ(session.nc(), 3u);

    // The same nonce again (e.g. a repeated 401) keeps counting.
    ASSERT_TRUE(session.accept_challenge(atlas_challenge("n1")));
    EXPECT_EQ(nc_of(session.authorization("GET", "/d", "u", "p", "c4")), "00000004");

    // A stale=true challenge with a new nonce starts over.
    auto stale = atlas_challenge("n2");
    stale.stale = true;
    ASSERT_TRUE(session.accept_challenge(stale));
    const std::string h = session.authorization("GET", "/e", "u", "p", "c5");
    EXPECT_EQ(nc_of(h), "00000001");
    EXPECT_EQ(parse_digest_authorization(h)->nonce, "n2");

    for (int i = 0; i < 16; ++i) {
        (void)session.authorization("GET", "/f", "u", "p", "c");
    }
    EXPECT_EQ(nc_of(session.authorization("GET", "/g", "u", "p", "c")), "00000012");  // hex

    session.reset();
    EXPECT_FALSE(session.ready());
}

TEST(Digest, OpaqueIsEchoed) {
    digest_session session;
    auto c = atlas_challenge("n");
    c.opaque = "5ccc069c403ebaf9f0171e9517f40e41";
    ASSERT_TRUE(session.accept_challenge(c));
    const std::string header = session.authorization("GET", "/", "u", "p", "c");
    EXPECT_THAT(header, HasSubstr(", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    EXPECT_EQ(parse_digest_authorization(header)->opaque, "5ccc069c403ebaf9f0171e9517f40e41");
}

TEST(Digest, OnlyMd5AndQopAuth) {
    digest_session session;
    auto sha = atlas_challenge("n");
    sha.algorithm = "SHA-256";
    auto r = session.accept_challenge(sha);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::auth_failed);
    EXPECT_THAT(r.error().message, HasSubstr("SHA-256"));
    EXPECT_FALSE(session.ready());

    auto sess = atlas_challenge("n");
    sess.algorithm = "MD5-sess";
    EXPECT_FALSE(session.accept_challenge(sess));

    auto int_only = atlas_challenge("n");
    int_only.qop = {"auth-int"};
    EXPECT_FALSE(session.accept_challenge(int_only));

    auto no_qop = atlas_challenge("n");
    no_qop.qop.clear();
    EXPECT_FALSE(session.accept_challenge(no_qop));

    auto lower = atlas_challenge("n");
    lower.algorithm = "md5";
    EXPECT_TRUE(session.accept_challenge(lower));
    auto absent = atlas_challenge("n");
    absent.algorithm.clear();
    EXPECT_TRUE(session.accept_challenge(absent));

    // A refused challenge leaves the working one in place.
    EXPECT_FALSE(session.accept_challenge(sha));
    EXPECT_TRUE(session.ready());
    EXPECT_EQ(session.challenge()->algorithm, "");
}

TEST(Digest, ParseAuthorizationRequiresTheEssentials) {
    EXPECT_FALSE(parse_digest_authorization("Basic dXNlcjpwYXNz"));
    EXPECT_FALSE(parse_digest_authorization("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\""));
    EXPECT_FALSE(parse_digest_authorization(""));
    auto ok = parse_digest_authorization(
        "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"abc\"");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->qop, "");
}

TEST(Digest, CnonceIsSixteenHexAndVaries) {
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        const std::string c = make_cnonce();
        ASSERT_EQ(c.size(), 16u);
        EXPECT_EQ(c.find_first_not_of("0123456789abcdef"), std::string::npos) << c;
        seen.insert(c);
    }
    EXPECT_GT(seen.size(), 15u);
}

}  // namespace
}  // namespace atlas_restored::atlas
