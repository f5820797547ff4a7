#include "download/disk.hpp"
#include "download/retention.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace atlas_restored::download {
namespace {

namespace fs = std::filesystem;
using atlas_restored::testing::temp_dir;
using atlas_restored::testing::write_file;

TEST(check_free_space, fits_or_says_how_much_is_missing) {
    temp_dir dir;
    auto free = free_bytes(dir.path());
    ASSERT_TRUE(free) << free.error().message;
    EXPECT_GT(*free, 0u);
    EXPECT_TRUE(check_free_space(dir.path(), 1));
    EXPECT_TRUE(check_free_space(dir.path(), 0));

    auto r = check_free_space(dir.path(), std::uint64_t{1} << 62);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::io_failed);
    const std::string& m = r.error().message;
    EXPECT_NE(m.find("download_dir " + dir.path().string() + " has "), std::string::npos) << m;
    EXPECT_NE(m.find(" bytes free, the restore needs " + std::to_string(std::uint64_t{1} << 62)),
              std::string::npos)
        << m;
}

TEST(check_free_space, a_directory_not_made_yet_is_measured_at_its_ancestor) {
    temp_dir dir;
    auto deep = free_bytes(dir / "policy/run/not/yet");
    auto here = free_bytes(dir.path());
    ASSERT_TRUE(deep) << deep.error().message;
    ASSERT_TRUE(here);
    // Same file system; other processes may write meanwhile, so allow some slack.
    const auto diff = *deep > *here ? *deep - *here : *here - *deep;
    EXPECT_LT(diff, std::uint64_t{64} << 20);
}

std::vector<std::string> names(const std::vector<fs::path>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) {
        out.push_back(p.filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

class retention_test : public ::testing::Test {
  protected:
    void make_run(const std::string& id, const std::string& file = "f.tar.gz") {
        write_file(dir / "drill" / id / file, "data");
    }
    bool exists(const std::string& id) { return fs::exists(dir / "drill" / id); }
    temp_dir dir;
};

TEST_F(retention_test, keeps_the_newest_verified_runs_and_every_unfinished_one) {
    for (auto id : {"r-20261101-030000-000001",
                    "r-20261108-030000-000002",
                    "r-20261115-030000-000003",
                    "r-20261122-030000-000004",
                    "r-20261129-030000-000005"}) {
        make_run(id);
    }
    make_run("r-20261101-040000-00000f", "f.tar.gz.partial");  // an old run that never finished
    auto deleted = apply_retention(dir / "drill",
                                   2,
                                   {"r-20261122-030000-000004",
                                    "r-20261115-030000-000003",
                                    "r-20261108-030000-000002",
                                    "r-20261101-030000-000001"},
                                   {"r-20261129-030000-000005", "r-20261101-040000-00000f"});
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_EQ(names(*deleted),
              (std::vector<std::string>{"r-20261101-030000-000001", "r-20261108-030000-000002"}));
    EXPECT_TRUE(exists("r-20261115-030000-000003"));
    EXPECT_TRUE(exists("r-20261122-030000-000004"));
    EXPECT_TRUE(exists("r-20261129-030000-000005"));  // unfinished, newest
    EXPECT_TRUE(exists("r-20261101-040000-00000f"));  // unfinished, old: its .partial is a resume point
    EXPECT_FALSE(exists("r-20261101-030000-000001"));
}

TEST_F(retention_test, failed_runs_go_only_when_older_than_everything_kept) {
    make_run("r-20261101-030000-000001", "f.tar.gz.corrupt");  // failed, old
    make_run("r-20261108-030000-000002");                      // verified
    make_run("r-20261115-030000-000003", "f.tar.gz.corrupt");  // failed, between the kept ones
    make_run("r-20261122-030000-000004");                      // verified
    make_run("r-20261129-030000-000005", "f.tar.gz.corrupt");  // failed, newest
    auto deleted =
        apply_retention(dir / "drill", 2, {"r-20261122-030000-000004", "r-20261108-030000-000002"}, {});
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_EQ(names(*deleted), (std::vector<std::string>{"r-20261101-030000-000001"}));
    EXPECT_TRUE(exists("r-20261115-030000-000003"));
    EXPECT_TRUE(exists("r-20261129-030000-000005"));
}

TEST_F(retention_test, with_fewer_verified_runs_than_keep_last_nothing_goes) {
    make_run("r-20261101-030000-000001", "f.tar.gz.corrupt");
    make_run("r-20261108-030000-000002");
    auto deleted = apply_retention(dir / "drill", 2, {"r-20261108-030000-000002"}, {});
    ASSERT_TRUE(deleted);
    EXPECT_TRUE(deleted->empty());
    EXPECT_TRUE(exists("r-20261101-030000-000001"));
}

TEST_F(retention_test, leaves_files_and_symlinks_alone_and_tolerates_a_missing_dir) {
    make_run("r-20261101-030000-000001");
    make_run("r-20261108-030000-000002");
    write_file(dir / "elsewhere" / "precious", "keep me");
    fs::create_directory_symlink(dir / "elsewhere", dir / "drill" / "r-20261001-000000-000000");
    write_file(dir / "drill" / "README", "a file, not a run");
    auto deleted =
        apply_retention(dir / "drill", 1, {"r-20261108-030000-000002", "r-20261101-030000-000001"}, {});
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_EQ(names(*deleted), (std::vector<std::string>{"r-20261101-030000-000001"}));
    EXPECT_TRUE(fs::exists(dir / "elsewhere" / "precious"));
    EXPECT_TRUE(fs::is_symlink(dir / "drill" / "r-20261001-000000-000000"));
    EXPECT_TRUE(fs::exists(dir / "drill" / "README"));

    auto none = apply_retention(dir / "no-such-policy", 1, {"x"}, {});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST_F(retention_test, an_unfinished_run_is_never_deleted_even_if_listed_as_old) {
    make_run("r-20261101-030000-000001");
    make_run("r-20261108-030000-000002");
    auto deleted = apply_retention(dir / "drill",
                                   1,
                                   {"r-20261108-030000-000002", "r-20261101-030000-000001"},
                                   {"r-20261101-030000-000001"});
    ASSERT_TRUE(deleted);
    EXPECT_TRUE(deleted->empty());
    EXPECT_TRUE(exists("r-20261101-030000-000001"));
}

}  // namespace
}  // namespace atlas_restored::download
