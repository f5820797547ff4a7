#include "download/sha1_stream.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::download {
namespace {

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242u;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

TEST(sha1_stream, known_answers) {
    sha1_stream h;
    EXPECT_EQ(h.hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    h.update(std::string_view("abc"));
    EXPECT_EQ(h.hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(h.bytes(), 3u);
    // hex() does not end the stream.
    h.update(std::string_view("dbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
    sha1_stream whole;
    whole.update(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
    EXPECT_EQ(h.hex(), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    EXPECT_EQ(h.hex(), whole.hex());
}

TEST(sha1_stream, cut_anywhere_and_resumed_equals_one_shot) {
    const std::string data = pattern(200'003);
    sha1_stream one_shot;
    one_shot.update(std::string_view(data));
    for (std::size_t cut : {std::size_t{0},
                            std::size_t{1},
                            std::size_t{63},
                            std::size_t{64},
                            std::size_t{65536},
                            std::size_t{199'999},
                            data.size()}) {
        sha1_stream before;
        before.update(std::string_view(data).substr(0, cut));
        sha1_stream after = before;  // the state carried across the cut
        after.update(std::string_view(data).substr(cut));
        EXPECT_EQ(after.hex(), one_shot.hex()) << cut;
        EXPECT_EQ(after.bytes(), data.size());
        // The copy is independent of the original.
        EXPECT_EQ(before.bytes(), cut);
    }
}

TEST(sha1_stream, reset_and_moves) {
    sha1_stream h;
    h.update(std::string_view("garbage"));
    h.reset();
    EXPECT_EQ(h.bytes(), 0u);
    EXPECT_EQ(h.hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    h.update(std::string_view("abc"));
    sha1_stream moved = std::move(h);
    EXPECT_EQ(moved.hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_stream assigned;
    assigned = moved;
    assigned.update(std::string_view("x"));
    EXPECT_EQ(moved.hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(rehash_file, rebuilds_the_state_of_a_prefix_and_continues) {
    testing::temp_dir dir;
    const std::string data = pattern(3 * 1024 * 1024 + 17);  // more than one read buffer
    testing::write_file(dir / "f.partial", data);
    sha1_stream one_shot;
    one_shot.update(std::string_view(data));

    auto whole = rehash_file(dir / "f.partial");
    ASSERT_TRUE(whole) << whole.error().message;
    EXPECT_EQ(whole->hex(), one_shot.hex());
    EXPECT_EQ(whole->bytes(), data.size());

    const std::uint64_t prefix = 1024 * 1024 + 5;
    auto part = rehash_file(dir / "f.partial", prefix);
    ASSERT_TRUE(part) << part.error().message;
    EXPECT_EQ(part->bytes(), prefix);
    part->update(std::string_view(data).substr(prefix));
    EXPECT_EQ(part->hex(), one_shot.hex());
}

TEST(rehash_file, errors) {
    testing::temp_dir dir;
    auto missing = rehash_file(dir / "nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::io_failed);
    EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
    testing::write_file(dir / "short", "abc");
    auto short_file = rehash_file(dir / "short", 10);
    ASSERT_FALSE(short_file);
    EXPECT_EQ(short_file.error().code, errc::invalid_input);
}

TEST(is_sha1_hex, forty_hex_digits) {
    EXPECT_TRUE(is_sha1_hex("a98af3c1f85a9eb3061423cda0fad8b4d0a48209"));
    EXPECT_TRUE(is_sha1_hex("A98AF3C1F85A9EB3061423CDA0FAD8B4D0A48209"));
    EXPECT_FALSE(is_sha1_hex("a98af3c1f85a9eb3061423cda0fad8b4d0a4820"));
    EXPECT_FALSE(is_sha1_hex("g98af3c1f85a9eb3061423cda0fad8b4d0a48209"));
    EXPECT_FALSE(is_sha1_hex(""));
}

}  // namespace
}  // namespace atlas_restored::download
