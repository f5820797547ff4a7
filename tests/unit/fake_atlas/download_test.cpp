#include "fixture.hpp"

#include <gtest/gtest.h>

#include <set>

namespace atlas_restored::fake_atlas::testing {
namespace {

std::string str(const json::value& v) {
    return std::string(v.as_string());
}

std::string target_of(const std::string& url) {
    return url.substr(url.find("/backup/"));
}

TEST_F(world_test, a_download_serves_the_whole_file_with_validators) {
    auto job = ready_job();
    auto r = download(job);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_length, 64u * 1024);
    EXPECT_EQ(*header_of(r, "Accept-Ranges"), "bytes");
    EXPECT_TRUE(header_of(r, "ETag"));
    EXPECT_EQ(*header_of(r, "Content-Type"), "application/gzip");
    const std::string bytes = drain(r);
    ASSERT_EQ(bytes.size(), 64u * 1024);
    EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b);
    EXPECT_EQ(w->counters().downloads_started, 1u);
    EXPECT_EQ(w->counters().downloads_completed, 1u);
    EXPECT_EQ(w->counters().download_bytes, 64u * 1024);
}

TEST_F(world_test, hashes_appear_only_after_a_complete_download) {
    auto job = ready_job();
    const std::string id = str(job.at("id"));
    EXPECT_FALSE(job.contains("hashes"));

    // A download that stops halfway records nothing.
    auto r = download(job);
    ASSERT_EQ(r.status, 200);
    const std::string half = drain(r, 4096, 30000);
    EXPECT_EQ(half.size(), 30000u);
    EXPECT_FALSE(get_job(group_a, "users", id).contains("hashes"));

    // Resuming from where it stopped completes the file: now the hash is there.
    auto etag = *header_of(r, "ETag");
    r = download(job, {{"Range", "bytes=30000-"}, {"If-Range", etag}});
    ASSERT_EQ(r.status, 206);
    const std::string rest = drain(r);
    const std::string whole = half + rest;
    auto after = get_job(group_a, "users", id);
    ASSERT_TRUE(after.contains("hashes"));
    const auto& h = after.at("hashes").at(0).as_object();
    EXPECT_EQ(str(h.at("typeName")), "SHA1");
    EXPECT_EQ(str(h.at("hash")), test_sha1(whole));
    const std::string url = str(after.at("delivery").at("urlV2"));
    EXPECT_EQ(str(h.at("fileName")), url.substr(url.rfind('/') + 1));
    EXPECT_EQ(w->counters().downloads_completed, 1u);
}

TEST_F(world_test, range_and_if_range) {
    auto job = ready_job(10);
    auto full = download(job);
    const std::string whole = drain(full);
    const std::string etag = *header_of(full, "ETag");

    auto r = download(job, {{"Range", "bytes=1000-"}});
    ASSERT_EQ(r.status, 206);
    EXPECT_EQ(*header_of(r, "Content-Range"), "bytes 1000-65535/65536");
    EXPECT_EQ(r.content_length, 65536u - 1000);
    EXPECT_EQ(drain(r), whole.substr(1000));

    r = download(job, {{"Range", "bytes=10-19"}});
    ASSERT_EQ(r.status, 206);
    EXPECT_EQ(*header_of(r, "Content-Range"), "bytes 10-19/65536");
    EXPECT_EQ(drain(r), whole.substr(10, 10));

    r = download(job, {{"Range", "bytes=1000-"}, {"If-Range", etag}});
    EXPECT_EQ(r.status, 206) << "matching validator";
    r = download(job, {{"Range", "bytes=1000-"}, {"If-Range", "\"something-else\""}});
    EXPECT_EQ(r.status, 200) << "another representation: send it all";
    EXPECT_EQ(drain(r), whole);

    r = download(job, {{"Range", "bytes=70000-"}});
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(*header_of(r, "Content-Range"), "bytes */65536");
    EXPECT_EQ(w->counters().range_requests, 3u);
}

TEST_F(world_test, the_download_key_is_required) {
    auto job = ready_job();
    const auto& d = job.at("delivery").as_object();
    auto r = send("GET", target_of(str(d.at("urlV2"))));
    EXPECT_EQ(r.status, 401);
    r = send("GET", target_of(str(d.at("urlV2"))), {{"X-Atlas-Restore-Key", "wrong"}});
    EXPECT_EQ(r.status, 401);
    // The deprecated url embeds the key.
    r = send("GET", target_of(str(d.at("url"))));
    EXPECT_EQ(r.status, 200);
    std::string forged = target_of(str(d.at("url")));
    forged.replace(forged.find(str(d.at("authValue"))), 3, "AAA");
    EXPECT_EQ(send("GET", forged).status, 401);
    EXPECT_EQ(w->counters().downloads_started, 1u) << "refused attempts do not count";
}

TEST_F(world_test, every_served_get_counts_against_max_downloads) {
    auto job = ready_job(2);
    const std::string id = str(job.at("id"));
    auto r = download(job);
    ASSERT_EQ(r.status, 200);  // not even read: it counts
    r = download(job, {{"Range", "bytes=5-"}});
    ASSERT_EQ(r.status, 206);
    auto after = get_job(group_a, "users", id);
    EXPECT_EQ(str(after.at("delivery").at("statusName")), "MAX_DOWNLOADS_EXCEEDED");
    r = download(job);
    EXPECT_EQ(r.status, 410);
    EXPECT_EQ(str(body_json(r).at("errorCode")), "MAX_DOWNLOADS_EXCEEDED");
    EXPECT_EQ(w->counters().downloads_started, 2u);
}

TEST_F(world_test, downloads_stop_at_expiry) {
    auto o = default_options();
    o.link_ttl = std::chrono::seconds(30);
    make(o);
    auto job = ready_job();
    now += 25s;
    EXPECT_EQ(download(job).status, 200);
    now += 10s;
    auto r = download(job);
    EXPECT_EQ(r.status, 410);
    EXPECT_EQ(str(body_json(r).at("errorCode")), "DOWNLOAD_LINK_EXPIRED");
    EXPECT_EQ(str(get_job(group_a, "users", str(job.at("id"))).at("delivery").at("statusName")), "EXPIRED");
}

TEST_F(world_test, no_download_before_the_job_finished) {
    auto created = create(group_a, "users", latest_snapshot(group_a, "users"));
    const std::string id = str(created.at("results").at(0).at("id"));
    const std::string file = "users-" + id + ".tar.gz";
    auto r = send("GET", "/backup/restore/v2/pull/" + id + "/" + file, {{"X-Atlas-Restore-Key", "x"}});
    EXPECT_EQ(r.status, 401) << "without the key, which is not shown yet";
    auto key = w->jobs().at(id).auth_value;
    r = send("GET", "/backup/restore/v2/pull/" + id + "/" + file, {{"X-Atlas-Restore-Key", key}});
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(w->counters().downloads_started, 0u);
}

TEST_F(world_test, sharded_jobs_each_have_their_own_file_and_hash) {
    auto page = create(group_a, "orders", latest_snapshot(group_a, "orders"));
    now += 5s;
    std::set<std::string> hashes;
    for (const auto& j : page.at("results").as_array()) {
        auto job = get_job(group_a, "orders", str(j.at("id")));
        const std::string bytes = drain(download(job));
        EXPECT_EQ(bytes.size(), 64u * 1024);
        auto after = get_job(group_a, "orders", str(j.at("id")));
        EXPECT_EQ(str(after.at("hashes").at(0).at("hash")), test_sha1(bytes));
        hashes.insert(test_sha1(bytes));
    }
    EXPECT_EQ(hashes.size(), 3u) << "different content per job";
}

}  // namespace
}  // namespace atlas_restored::fake_atlas::testing
