#include "fake_atlas/archive.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace atlas_restored::fake_atlas {

namespace {

// Slicing-by-8 tables: a byte-at-a-time CRC would make the one extra pass over a multi-GiB file
// (needed when a download resumes midway) several times slower.
struct crc_tables {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    crc_tables() {
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) {
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            t[0][i] = c;
        }
        for (std::uint32_t i = 0; i < 256; ++i) {
            for (int s = 1; s < 8; ++s) {
                t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
            }
        }
    }
};

const crc_tables& tables() {
    static const crc_tables instance;
    return instance;
}

constexpr std::uint64_t block_data = 65535;           // the largest stored deflate block
constexpr std::uint64_t block_span = block_data + 5;  // with its header (1 byte + LEN + NLEN)
constexpr std::uint64_t tar_block = 512;
constexpr std::uint64_t gzip_base = 10 + 8;  // header without extra field + trailer

std::uint64_t deflate_size(std::uint64_t tar_size) {
    return tar_size + 5 * ((tar_size + block_data - 1) / block_data);
}

std::uint64_t plain_size(std::uint64_t tar_size) {
    return gzip_base + deflate_size(tar_size);
}

constexpr std::uint64_t smallest_tar = 3 * tar_block;  // header + the two zero end blocks

std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void write_octal(char* field, std::size_t width, std::uint64_t value) {
    // width-1 octal digits and a NUL, as ustar expects.
    field[width - 1] = '\0';
    for (std::size_t i = width - 1; i-- > 0;) {
        field[i] = static_cast<char>('0' + (value & 7));
        value >>= 3;
    }
}

std::string make_tar_header(const std::string& name, std::uint64_t size) {
    std::string h(tar_block, '\0');
    std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 99));
    write_octal(&h[100], 8, 0644);
    write_octal(&h[108], 8, 0);
    write_octal(&h[116], 8, 0);
    if (size < (1ull << 33)) {
        write_octal(&h[124], 12, size);
    } else {
        // GNU base-256 size for members of 8 GiB and more.
        h[124] = static_cast<char>(0x80);
        for (int i = 0; i < 8; ++i) {
            h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
        }
    }
    write_octal(&h[136], 12, 1700000000);  // a fixed mtime keeps the file deterministic
    h[156] = '0';
    std::memcpy(&h[257], "ustar", 6);
    h[263] = '0';
    h[264] = '0';
    std::memcpy(&h[265], "fake-atlas", 10);
    std::memcpy(&h[297], "fake-atlas", 10);
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (char c : h) {
        sum += static_cast<unsigned char>(c);
    }
    write_octal(&h[148], 7, sum);
    h[155] = ' ';
    return h;
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, std::span<const char> data) {
    const auto& t = tables().t;
    std::uint32_t c = ~crc;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    while (n >= 8) {
        std::uint32_t lo = c ^ (std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
                                std::uint32_t(p[3]) << 24);
        c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
            t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return ~c;
}

struct sha1_hasher::impl {
    EVP_MD_CTX* ctx = nullptr;
};

sha1_hasher::sha1_hasher() : impl_(std::make_unique<impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha1(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL cannot initialise SHA-1");
    }
}

sha1_hasher::~sha1_hasher() {
    EVP_MD_CTX_free(impl_->ctx);
}

void sha1_hasher::update(std::span<const char> data) {
    EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::string sha1_hasher::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx, md, &len);
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += digits[md[i] >> 4];
        hex += digits[md[i] & 15];
    }
    return hex;
}

std::string sha1_hex(std::span<const char> data) {
    sha1_hasher h;
    h.update(data);
    return h.hex_digest();
}

archive::archive(std::uint64_t seed, std::uint64_t requested_bytes, std::string member_name)
    : seed_(seed), member_(std::move(member_name)) {
    if (member_.size() > 99) {
        member_.resize(99);
    }
    const std::uint64_t want = std::max(requested_bytes, minimum_size());
    // The largest tar that fits, then a gzip extra field pads the file to the exact size. The field
    // costs at least 6 bytes (XLEN and one subfield header), so a gap of 1-5 bytes takes one tar
    // block less.
    std::uint64_t tar = std::max(smallest_tar, (want - gzip_base) / tar_block * tar_block);
    while (tar > smallest_tar && plain_size(tar) > want) {
        tar -= tar_block;
    }
    std::uint64_t pad = want - plain_size(tar);
    if (pad > 0 && pad < 6) {
        tar -= tar_block;
        pad = want - plain_size(tar);
    }
    tar_size_ = tar;
    payload_ = tar - smallest_tar;
    header_size_ = 10 + pad;
    blocks_ = (tar + block_data - 1) / block_data;
    size_ = header_size_ + deflate_size(tar) + 8;
    tar_header_ = make_tar_header(member_, payload_);
}

std::uint64_t archive::minimum_size() {
    return plain_size(smallest_tar) + 6;
}

void archive::fill_payload(std::uint64_t off, char* out, std::size_t n) const {
    auto word = [this](std::uint64_t i) { return mix64(seed_ + (i + 1) * 0x9E3779B97F4A7C15ull); };
    std::size_t i = 0;
    while (i < n && (off + i) % 8 != 0) {
        std::uint64_t p = off + i;
        out[i++] = static_cast<char>((word(p / 8) >> (8 * (p % 8))) & 0xff);
    }
    while (n - i >= 8) {
        std::uint64_t w = word((off + i) / 8);
        for (int b = 0; b < 8; ++b) {
            out[i + b] = static_cast<char>((w >> (8 * b)) & 0xff);
        }
        i += 8;
    }
    while (i < n) {
        std::uint64_t p = off + i;
        out[i++] = static_cast<char>((word(p / 8) >> (8 * (p % 8))) & 0xff);
    }
}

void archive::fill_tar(std::uint64_t t, char* out, std::size_t n) const {
    std::size_t i = 0;
    if (t < tar_block) {
        std::size_t k = std::min<std::uint64_t>(n, tar_block - t);
        std::memcpy(out, tar_header_.data() + t, k);
        i += k;
    }
    if (i < n && t + i < tar_block + payload_) {
        std::uint64_t p = t + i - tar_block;
        std::size_t k = std::min<std::uint64_t>(n - i, payload_ - p);
        fill_payload(p, out + i, k);
        i += k;
    }
    if (i < n) {
        std::memset(out + i, 0, n - i);
    }
}

std::size_t archive::read(std::uint64_t offset, std::span<char> out, std::uint32_t tar_crc) const {
    if (offset >= size_) {
        return 0;
    }
    const std::size_t n = std::min<std::uint64_t>(out.size(), size_ - offset);
    const std::uint64_t deflate_end = header_size_ + deflate_size(tar_size_);
    std::size_t i = 0;
    while (i < n) {
        const std::uint64_t p = offset + i;
        if (p < header_size_) {
            char b = 0;
            switch (p) {
                case 0:
                    b = static_cast<char>(0x1f);
                    break;
                case 1:
                    b = static_cast<char>(0x8b);
                    break;
                case 2:
                    b = 8;
                    break;  // deflate
                case 3:
                    b = header_size_ > 10 ? 0x04 : 0;
                    break;  // FEXTRA
                case 9:
                    b = static_cast<char>(0xff);
                    break;  // OS unknown
                case 10:
                    b = static_cast<char>((header_size_ - 12) & 0xff);
                    break;
                case 11:
                    b = static_cast<char>((header_size_ - 12) >> 8);
                    break;
                case 12:
                    b = 'F';
                    break;
                case 13:
                    b = 'A';
                    break;
                case 14:
                    b = static_cast<char>((header_size_ - 16) & 0xff);
                    break;
                case 15:
                    b = static_cast<char>((header_size_ - 16) >> 8);
                    break;
                default:
                    b = 0;
            }
            out[i++] = b;
        } else if (p < deflate_end) {
            const std::uint64_t q = p - header_size_;
            const std::uint64_t k = q / block_span;
            const std::uint64_t w = q % block_span;
            const std::uint64_t len = std::min(block_data, tar_size_ - k * block_data);
            if (w < 5) {
                const bool last = k + 1 == blocks_;
                const std::uint16_t l = static_cast<std::uint16_t>(len);
                const std::uint16_t nl = static_cast<std::uint16_t>(~l);
                const std::array<char, 5> h{static_cast<char>(last ? 1 : 0),
                                            static_cast<char>(l & 0xff),
                                            static_cast<char>(l >> 8),
                                            static_cast<char>(nl & 0xff),
                                            static_cast<char>(nl >> 8)};
                out[i++] = h[w];
            } else {
                const std::size_t run = std::min<std::uint64_t>(n - i, len + 5 - w);
                fill_tar(k * block_data + (w - 5), out.data() + i, run);
                i += run;
            }
        } else {
            const std::uint64_t t = p - deflate_end;
            const std::uint32_t isize = static_cast<std::uint32_t>(tar_size_);
            const std::uint32_t v = t < 4 ? tar_crc : isize;
            out[i++] = static_cast<char>((v >> (8 * (t % 4))) & 0xff);
        }
    }
    return n;
}

void archive::for_each_tar_run(std::uint64_t offset,
                               std::size_t n,
                               const std::function<void(std::size_t, std::size_t)>& f) const {
    const std::uint64_t deflate_end = header_size_ + deflate_size(tar_size_);
    std::uint64_t p = std::max(offset, header_size_);
    const std::uint64_t end = std::min<std::uint64_t>(offset + n, deflate_end);
    while (p < end) {
        const std::uint64_t q = p - header_size_;
        const std::uint64_t k = q / block_span;
        const std::uint64_t w = q % block_span;
        const std::uint64_t len = std::min(block_data, tar_size_ - k * block_data);
        if (w < 5) {
            p += 5 - w;
            continue;
        }
        const std::uint64_t run = std::min(end - p, len + 5 - w);
        f(static_cast<std::size_t>(p - offset), static_cast<std::size_t>(run));
        p += run;
    }
}

archive_digests compute_digests(const archive& a) {
    archive_reader reader(std::shared_ptr<const archive>(&a, [](const archive*) {}), 0, a.size(), [] {
        return 0u;  // never asked: a reader from 0 has the CRC by the trailer
    });
    std::vector<char> buffer(1 << 20);
    while (!reader.at_end()) {
        reader.read(buffer);
    }
    return {*reader.tar_crc(), *reader.whole_file_sha1()};
}

archive_reader::archive_reader(std::shared_ptr<const archive> file,
                               std::uint64_t start,
                               std::uint64_t end,
                               std::function<std::uint32_t()> crc_fallback)
    : file_(std::move(file)),
      pos_(start),
      end_(std::min(end, file_->size())),
      crc_fallback_(std::move(crc_fallback)),
      hashing_(start == 0) {
    if (hashing_) {
        sha1_ = std::make_unique<sha1_hasher>();
    }
}

std::optional<std::uint32_t> archive_reader::tar_crc() const {
    if (hashing_ && pos_ >= file_->trailer_offset()) {
        return crc_;
    }
    return known_crc_;
}

std::size_t archive_reader::read(std::span<char> out) {
    std::size_t total = 0;
    while (total < out.size() && pos_ < end_) {
        total += read_some(out.subspan(total));
    }
    return total;
}

std::size_t archive_reader::read_some(std::span<char> out) {
    std::uint64_t want = std::min<std::uint64_t>(out.size(), end_ - pos_);
    const std::uint64_t trailer = file_->trailer_offset();
    std::size_t n = 0;
    if (pos_ < trailer) {
        // Stop at the trailer so the CRC of everything before it is complete when it is written.
        want = std::min(want, trailer - pos_);
        n = file_->read(pos_, out.first(want), 0);
        if (hashing_) {
            file_->for_each_tar_run(pos_, n, [&](std::size_t at, std::size_t len) {
                crc_ = crc32_update(crc_, out.subspan(at, len));
            });
        }
    } else {
        if (!hashing_ && !known_crc_) {
            known_crc_ = crc_fallback_();
        }
        n = file_->read(pos_, out.first(want), hashing_ ? crc_ : *known_crc_);
    }
    if (hashing_) {
        sha1_->update(out.first(n));
    }
    pos_ += n;
    if (hashing_ && pos_ == file_->size() && !sha1_result_) {
        sha1_result_ = sha1_->hex_digest();
    }
    return n;
}

}  // namespace atlas_restored::fake_atlas
