#include "download/file_name.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::download {
namespace {

TEST(safe_file_name, accepts_plain_names) {
    for (const std::string& name :
         std::vector<std::string>{"Cluster0-shard-0-5a66689487d9d61443b46149.tar.gz",
                                  "a",
                                  "...",
                                  "..tar.gz",
                                  "name with spaces.tar.gz",
                                  "caf\xc3\xa9.tar.gz",
                                  std::string(255, 'x')}) {
        auto r = safe_file_name(name);
        ASSERT_TRUE(r) << name << ": " << r.error().message;
        EXPECT_EQ(*r, name);
    }
}

TEST(safe_file_name, refuses_everything_that_is_not_a_plain_name) {
    struct case_ {
        std::string name;
        std::string why;
    };
    const std::vector<case_> cases{
        {"", "empty"},
        {".", "directory"},
        {"..", "directory"},
        {"../../etc/passwd", "path separator"},
        {"/etc/passwd", "path separator"},
        {"a/b", "path separator"},
        {"..\\..\\boot.ini", "path separator"},
        {"dir\\file", "path separator"},
        {"evil\nname", "control character"},
        {"tab\there", "control character"},
        {"bell\x07", "control character"},
        {"del\x7f", "control character"},
        {std::string("nul\0byte", 8), "control character"},
        {std::string(256, 'x'), "longer than 255"},
    };
    for (const auto& c : cases) {
        auto r = safe_file_name(c.name);
        ASSERT_FALSE(r) << "accepted: " << printable_name(c.name);
        EXPECT_EQ(r.error().code, errc::invalid_input);
        EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
        // The message never carries a raw control character into a log line.
        for (char ch : r.error().message) {
            EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20) << r.error().message;
        }
    }
}

TEST(file_name_from_url, takes_the_last_segment_percent_decoded_without_the_query) {
    auto r = file_name_from_url(
        "https://api-backup.example.com/backup/restore/v2/pull/abc/Cluster%200.tar.gz?key=s3cret#x");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, "Cluster 0.tar.gz");
}

TEST(file_name_from_url, refuses_encoded_separators_and_traversal_without_quoting_the_url) {
    for (std::string url : {"https://h/pull/..%2F..%2Fetc%2Fpasswd?key=s3cret",
                            "https://h/pull/%2e%2e?key=s3cret",
                            "https://h/pull/a%00b?key=s3cret",
                            "https://h/pull/a%5Cb?key=s3cret",
                            "https://h/pull/?key=s3cret",
                            "https://h/pull/bad%zzname?key=s3cret",
                            "http://h/plain.tar.gz?key=s3cret"}) {
        auto r = file_name_from_url(url);
        ASSERT_FALSE(r) << url;
        EXPECT_EQ(r.error().code, errc::invalid_input);
        EXPECT_EQ(r.error().message.find("s3cret"), std::string::npos) << r.error().message;
    }
}

atlas::restore_job job_with(std::optional<std::string> url_v2, std::optional<std::string> url) {
    atlas::restore_job j;
    j.id = "5a66783b80eef5354c77ee16";
    j.delivery_info.method_name = "HTTP";
    j.delivery_info.status_name = "READY";
    j.delivery_info.url_v2 = std::move(url_v2);
    j.delivery_info.url = std::move(url);
    return j;
}

TEST(file_name_for_job, prefers_hashes_then_url_v2_then_url) {
    auto j = job_with("https://h/pull/j/v2.tar.gz", "https://h/pull/j/KEY/v1.tar.gz");
    EXPECT_EQ(file_name_for_job(j).value(), "v2.tar.gz");
    j.delivery_info.url_v2.reset();
    EXPECT_EQ(file_name_for_job(j).value(), "v1.tar.gz");
    j.hashes.push_back({"hashed.tar.gz", "a98af3c1f85a9eb3061423cda0fad8b4d0a48209", "SHA1"});
    EXPECT_EQ(file_name_for_job(j).value(), "hashed.tar.gz");
}

TEST(file_name_for_job, a_hostile_name_in_hashes_is_refused) {
    auto j = job_with("https://h/pull/j/v2.tar.gz", std::nullopt);
    j.hashes.push_back({"../../etc/passwd", "a98af3c1f85a9eb3061423cda0fad8b4d0a48209", "SHA1"});
    auto r = file_name_for_job(j);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("../../etc/passwd"), std::string::npos) << r.error().message;
}

TEST(file_name_for_job, no_link_is_an_error) {
    auto r = file_name_for_job(job_with(std::nullopt, std::nullopt));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
}

TEST(find_hash, by_name_or_the_only_entry) {
    auto j = job_with("https://h/pull/j/a.tar.gz", std::nullopt);
    EXPECT_EQ(find_hash(j, "a.tar.gz"), nullptr);
    j.hashes.push_back({"other.tar.gz", "1", "SHA1"});
    EXPECT_EQ(find_hash(j, "a.tar.gz")->hash, "1");  // the only entry of an HTTP delivery
    j.hashes.push_back({"a.tar.gz", "2", "SHA1"});
    EXPECT_EQ(find_hash(j, "a.tar.gz")->hash, "2");
    EXPECT_EQ(find_hash(j, "missing.tar.gz"), nullptr);  // several entries: by name only
}

}  // namespace
}  // namespace atlas_restored::download
