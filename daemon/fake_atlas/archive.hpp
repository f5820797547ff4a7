#pragma once
// The downloadable restore files of the fake Atlas: real .tar.gz archives (one member of
// pseudo-random bytes) of any requested size, generated from (seed, offset) so a file of several
// GiB is never held in memory. The gzip stream uses "stored" deflate blocks, so every byte of the
// file can be computed directly from its offset; only the gzip trailer needs the CRC-32 of all the
// tar data, which a reader computes while streaming (or in one extra pass when it starts midway).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace atlas_restored::fake_atlas {

// CRC-32 as gzip uses it (reflected, polynomial 0xEDB88320); start with 0.
std::uint32_t crc32_update(std::uint32_t crc, std::span<const char> data);

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
    std::uint64_t size() const { return size_; }
    std::uint64_t trailer_offset() const { return size_ - 8; }
    std::uint64_t payload_bytes() const { return payload_; }
    const std::string& member_name() const { return member_; }

    // Fills `out` with the bytes at `offset` and returns how many (fewer only at the end of the
    // file). `tar_crc` is used only for bytes at or after trailer_offset().
    std::size_t read(std::uint64_t offset, std::span<char> out, std::uint32_t tar_crc) const;

    // For the bytes [offset, offset + n) of the file: calls f(index, length) for each run that holds
    // tar data (relative to `offset`), in file order. Used to keep a running CRC while streaming.
    void for_each_tar_run(std::uint64_t offset,
                          std::size_t n,
                          const std::function<void(std::size_t, std::size_t)>& f) const;

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
};

struct archive_digests {
    std::uint32_t tar_crc = 0;
    std::string sha1;  // of the whole file
};

// One full pass over the file.
archive_digests compute_digests(const archive& a);

// Streams [start, end) of an archive in order. Started at 0 it hashes what it produces and knows
// the CRC by the time it reaches the trailer; started later it asks `crc_fallback` (a full pass,
// cached by the caller) when it reaches the trailer.
class archive_reader {
  public:
    archive_reader(std::shared_ptr<const archive> file,
                   std::uint64_t start,
                   std::uint64_t end,
                   std::function<std::uint32_t()> crc_fallback);
    std::size_t read(std::span<char> out);
    std::uint64_t position() const { return pos_; }
    bool at_end() const { return pos_ >= end_; }
    // The SHA-1 of the whole file once a reader that started at 0 reached the end of the file.
    std::optional<std::string> whole_file_sha1() const { return sha1_result_; }
    std::optional<std::uint32_t> tar_crc() const;

  private:
    std::size_t read_some(std::span<char> out);

    std::shared_ptr<const archive> file_;
    std::uint64_t pos_;
    std::uint64_t end_;
    std::function<std::uint32_t()> crc_fallback_;
    bool hashing_;  // started at 0: SHA-1 and CRC kept while streaming
    std::uint32_t crc_ = 0;
    std::optional<std::uint32_t> known_crc_;
    std::unique_ptr<sha1_hasher> sha1_;
    std::optional<std::string> sha1_result_;
};

}  // namespace atlas_restored::fake_atlas
