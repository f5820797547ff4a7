#include "fake_atlas/archive.hpp"

#include "fixture.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace atlas_restored::fake_atlas {
namespace {

using testing::test_sha1;

std::string read_all(const archive& a, std::size_t chunk) {
    archive_reader r(std::shared_ptr<const archive>(&a, [](const archive*) {}), 0, a.size());
    std::string out;
    std::vector<char> buf(chunk);
    while (!r.at_end()) {
        auto n = r.read(buf);
        out.append(buf.data(), n);
    }
    EXPECT_EQ(r.whole_file_sha1(), test_sha1(out));
    return out;
}

std::string run(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) {
        out.append(buf.data(), n);
    }
    int status = pclose(p);
    return status == 0 ? out : "exit " + std::to_string(status) + ": " + out;
}

TEST(archive, has_exactly_the_requested_size_for_many_sizes) {
    for (std::uint64_t want : {archive::minimum_size(),
                               archive::minimum_size() + 1,
                               std::uint64_t(4096),
                               std::uint64_t(65535 * 3 + 17),
                               std::uint64_t(1 << 20),
                               std::uint64_t((1 << 20) + 3),
                               std::uint64_t(5'000'001)}) {
        archive a(7, want, "x/restore.bin");
        EXPECT_EQ(a.size(), want) << want;
    }
    EXPECT_EQ(archive(7, 10, "x").size(), archive::minimum_size());
}

TEST(archive, is_a_valid_tar_gz_that_tar_and_gzip_accept) {
    atlas_restored::testing::temp_dir dir;
    for (std::uint64_t size : {archive::minimum_size(), std::uint64_t(200'003), std::uint64_t(1 << 20)}) {
        archive a(42, size, "orders-shard-0/restore.bin");
        std::string bytes = read_all(a, 3000);
        ASSERT_EQ(bytes.size(), size);
        auto file = dir / ("f" + std::to_string(size) + ".tar.gz");
        std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        EXPECT_EQ(run("gzip -t '" + file.string() + "' 2>&1"), "");
        EXPECT_EQ(run("tar -tzf '" + file.string() + "' 2>&1"), "orders-shard-0/restore.bin\n");
        std::string member = run("tar -xzOf '" + file.string() + "' 2>&1");
        EXPECT_EQ(member.size(), a.payload_bytes());
    }
}

TEST(archive, content_depends_on_the_seed_and_is_deterministic) {
    archive a(1, 100'000, "m"), b(1, 100'000, "m"), c(2, 100'000, "m");
    EXPECT_EQ(read_all(a, 4096), read_all(b, 4096));
    EXPECT_NE(read_all(a, 4096), read_all(c, 4096));
}

TEST(archive, reading_in_any_chunking_and_from_any_offset_gives_the_same_bytes) {
    archive a(9, 300'000, "m");
    const std::string whole = read_all(a, 65536);
    EXPECT_EQ(read_all(a, 1), whole) << "byte by byte";
    EXPECT_EQ(read_all(a, 65541), whole);
    auto shared = std::make_shared<archive>(9, 300'000, "m");
    for (std::uint64_t start : {std::uint64_t(1), std::uint64_t(70'000), a.trailer_offset(), a.size() - 1}) {
        archive_reader r(shared, start, shared->size());
        std::string tail;
        std::vector<char> buf(9999);
        while (!r.at_end()) {
            tail.append(buf.data(), r.read(buf));
        }
        EXPECT_EQ(tail, whole.substr(start)) << start;
        EXPECT_FALSE(r.whole_file_sha1()) << "only a reader from 0 knows the file's hash";
    }
    EXPECT_EQ(file_sha1(a), test_sha1(whole));
    // A range that stops short of the end.
    archive_reader part(shared, 100, 200);
    std::vector<char> buf(1000);
    EXPECT_EQ(part.read(buf), 100u);
    EXPECT_EQ(std::string(buf.data(), 100), whole.substr(100, 100));
    EXPECT_TRUE(part.at_end());
}

TEST(archive, the_member_is_not_periodic_at_power_of_two_offsets) {
    // A client that writes a chunk at the wrong power-of-two offset must end up with other bytes.
    archive a(5, 1 << 20, "m");
    std::string bytes(1 << 20, '\0');
    a.read(0, bytes);
    for (std::size_t shift : {std::size_t(4096), std::size_t(65536), std::size_t(131072)}) {
        EXPECT_NE(bytes.substr(100'000, 4096), bytes.substr(100'000 + shift, 4096)) << shift;
    }
}

TEST(archive, crc32_matches_the_reference_value) {
    const std::string text = "123456789";
    EXPECT_EQ(crc32_update(0, text), 0xCBF43926u);
    // Incremental equals one pass, across the 8-byte slicing boundary.
    std::string long_text(1000, 'a');
    EXPECT_EQ(
        crc32_update(crc32_update(0, std::span(long_text).first(333)), std::span(long_text).subspan(333)),
        crc32_update(0, long_text));
}

}  // namespace
}  // namespace atlas_restored::fake_atlas
