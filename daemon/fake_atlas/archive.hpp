#pragma once
// The downloadable restore files of the fake Atlas: real .tar.gz archives (one member of
// pseudo-random bytes) of any requested size, generated from (seed, offset) so a file of several
// GiB is never held in memory. The gzip stream uses "stored" deflate blocks, so every byte of the
// file is a function of its offset. The member repeats a pseudo-random tile whose length is a prime
// (65521), so the gzip trailer's CRC-32 is computed with CRC arithmetic instead of a pass over the
// data, and a client that misplaces bytes (chunk sizes are powers of two) still gets a wrong SHA-1.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace atlas_restored::fake_atlas {

// CRC-32 as gzip uses it (reflected, polynomial 0xEDB88320); start with 0.
std::uint32_t crc32_update(std::uint32_t crc, std::span<const char> data);
// The CRC-32 of A followed by B from crc(A), crc(B) and B's length (GF(2) arithmetic).
std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b);

// Incremental SHA-1 (OpenSSL EVP underneath); hex_digest() gives 40 lower-case hex digits.
class sha1_hasher {
  public:
    sha1_hasher();
    ~sha1_hasher();
    sha1_hasher(const sha1_hasher&) = delete;
    sha1_hasher& operator=(const sha1_hasher&) = delete;
    void update(std::span<const char> data);
    std::string hex_digest();  // finishes the hasher

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

std::string sha1_hex(std::span<const char> data);

class archive {
  public:
    // `requested_bytes` is the exact file size when it is at least minimum_size(); smaller requests
    // get minimum_size(). `member_name` is the tar member's path (at most 99 characters are kept).
    archive(std::uint64_t seed, std::uint64_t requested_bytes, std::string member_name);

    static std::uint64_t minimum_size();
    static constexpr std::size_t tile_size = 65521;
    std::uint64_t size() const { return size_; }
    std::uint64_t trailer_offset() const { return size_ - 8; }
    std::uint64_t payload_bytes() const { return payload_; }
    const std::string& member_name() const { return member_; }

    std::uint32_t tar_crc() const { return tar_crc_; }

    // Fills `out` with the bytes at `offset` and returns how many (fewer only at the end of the
    // file).
    std::size_t read(std::uint64_t offset, std::span<char> out) const;

  private:
    void fill_tar(std::uint64_t tar_offset, char* out, std::size_t n) const;
    void fill_payload(std::uint64_t payload_offset, char* out, std::size_t n) const;

    std::uint64_t seed_;
    std::string member_;
    std::uint64_t payload_ = 0;       // member size, a multiple of 512
    std::uint64_t tar_size_ = 0;      // header + payload + two zero blocks
    std::uint64_t header_size_ = 10;  // gzip header, with the padding extra field
    std::uint64_t blocks_ = 0;        // stored deflate blocks
    std::uint64_t size_ = 0;
    std::string tar_header_;  // 512 bytes
    std::string tile_;        // the member's repeating content
    std::uint32_t tar_crc_ = 0;
};

// The SHA-1 of the whole file, in one pass (for a download that resumed midway).
std::string file_sha1(const archive& a);

// Streams [start, end) of an archive in order. Started at 0 it hashes what it produces, so the
// file's SHA-1 is known without a second pass once it reaches the end of the file.
class archive_reader {
  public:
    archive_reader(std::shared_ptr<const archive> file, std::uint64_t start, std::uint64_t end);
    std::size_t read(std::span<char> out);
    std::uint64_t position() const { return pos_; }
    bool at_end() const { return pos_ >= end_; }
    std::optional<std::string> whole_file_sha1() const { return sha1_result_; }

  private:
    std::shared_ptr<const archive> file_;
    std::uint64_t pos_;
    std::uint64_t end_;
    std::unique_ptr<sha1_hasher> sha1_;  // only when started at 0
    std::optional<std::string> sha1_result_;
};

}  // namespace atlas_restored::fake_atlas
