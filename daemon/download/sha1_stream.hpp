#pragma once
// Incremental SHA-1 of a download (the only hash Atlas publishes for restore files). The state
// lives in memory across a cut and a Range resume; after a restart rehash_file() rebuilds it from
// the partial file on disk, once.

#include "util/error.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace atlas_restored::download {

class sha1_stream {
  public:
    sha1_stream();
    sha1_stream(const sha1_stream& other);  // an independent copy of the state
    sha1_stream& operator=(const sha1_stream& other);
    sha1_stream(sha1_stream&&) noexcept = default;
    sha1_stream& operator=(sha1_stream&&) noexcept = default;
    ~sha1_stream();

    void update(std::span<const char> bytes);
    void update(std::string_view bytes) { update(std::span<const char>(bytes.data(), bytes.size())); }
    void reset();  // back to the hash of nothing

    std::uint64_t bytes() const { return bytes_; }
    // 40 lower-case hex digits of everything so far; the stream can go on afterwards.
    std::string hex() const;

  private:
    struct free_ctx {
        void operator()(evp_md_ctx_st* ctx) const;
    };
    std::unique_ptr<evp_md_ctx_st, free_ctx> ctx_;
    std::uint64_t bytes_ = 0;
};

// The SHA-1 state of the first `limit` bytes of a file (all of it without a limit), read through a
// fixed buffer. errc::io_failed naming the file; errc::invalid_input if it is shorter than `limit`.
// Blocking: call it off the event loop for large files (see downloader).
result<sha1_stream> rehash_file(const std::filesystem::path& path,
                                std::optional<std::uint64_t> limit = std::nullopt);

// True for 40 hex digits (either case): the form of a SHA-1 in hashes[].hash.
bool is_sha1_hex(std::string_view text);

}  // namespace atlas_restored::download
