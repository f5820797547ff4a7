#include "download/sha1_stream.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <unistd.h>
#include <vector>

namespace atlas_restored::download {

namespace {

constexpr std::size_t rehash_buffer_bytes = 1024 * 1024;

}  // namespace

void sha1_stream::free_ctx::operator()(evp_md_ctx_st* ctx) const {
    EVP_MD_CTX_free(ctx);
}

sha1_stream::sha1_stream() : ctx_(EVP_MD_CTX_new()) {
    // Allocation or a missing SHA-1 implementation is not an input problem: a bug or a broken
    // OpenSSL, so an exception.
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha1(), nullptr) != 1) {
        throw std::bad_alloc();
    }
}

sha1_stream::sha1_stream(const sha1_stream& other) : ctx_(EVP_MD_CTX_new()), bytes_(other.bytes_) {
    if (!ctx_ || !other.ctx_ || EVP_MD_CTX_copy_ex(ctx_.get(), other.ctx_.get()) != 1) {
        throw std::bad_alloc();
    }
}

sha1_stream& sha1_stream::operator=(const sha1_stream& other) {
    if (this != &other) {
        sha1_stream copy(other);
        *this = std::move(copy);
    }
    return *this;
}

sha1_stream::~sha1_stream() = default;

void sha1_stream::update(std::span<const char> bytes) {
    if (!bytes.empty()) {
        EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
        bytes_ += bytes.size();
    }
}

void sha1_stream::reset() {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha1(), nullptr);
    bytes_ = 0;
}

std::string sha1_stream::hex() const {
    // Finalising consumes a context: finalise a copy so this one can continue.
    std::unique_ptr<evp_md_ctx_st, free_ctx> copy(EVP_MD_CTX_new());
    if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1) {
        throw std::bad_alloc();
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(copy.get(), digest, &size);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (unsigned int i = 0; i < size; ++i) {
        out += digits[digest[i] >> 4];
        out += digits[digest[i] & 15];
    }
    return out;
}

result<sha1_stream> rehash_file(const std::filesystem::path& path, std::optional<std::uint64_t> limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return make_error(errc::io_failed, "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    sha1_stream hash;
    std::vector<char> buffer(rehash_buffer_bytes);
    std::optional<error> failure;
    for (;;) {
        std::size_t want = buffer.size();
        if (limit) {
            const std::uint64_t left = *limit - hash.bytes();
            if (left == 0) {
                break;
            }
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, left));
        }
        const ssize_t n = ::read(fd, buffer.data(), want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            failure =
                make_error(errc::io_failed, "cannot read " + path.string() + ": " + std::strerror(errno));
            break;
        }
        if (n == 0) {
            if (limit && hash.bytes() < *limit) {
                failure = make_error(errc::invalid_input,
                                     path.string() + " has " + std::to_string(hash.bytes()) +
                                         " bytes, fewer than " + std::to_string(*limit));
            }
            break;
        }
        hash.update(std::span<const char>(buffer.data(), static_cast<std::size_t>(n)));
    }
    ::close(fd);
    if (failure) {
        return *failure;
    }
    return hash;
}

bool is_sha1_hex(std::string_view text) {
    if (text.size() != 40) {
        return false;
    }
    for (char c : text) {
        const bool digit = c >= '0' && c <= '9';
        const bool lower = c >= 'a' && c <= 'f';
        const bool upper = c >= 'A' && c <= 'F';
        if (!digit && !lower && !upper) {
            return false;
        }
    }
    return true;
}

}  // namespace atlas_restored::download
