#include "fake_atlas/archive.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string_view>
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

namespace {

using gf2_matrix = std::array<std::uint32_t, 32>;

std::uint32_t gf2_times(const gf2_matrix& m, std::uint32_t v) {
    std::uint32_t sum = 0;
    for (int i = 0; v != 0; ++i, v >>= 1) {
        if (v & 1) {
            sum ^= m[i];
        }
    }
    return sum;
}

gf2_matrix gf2_square(const gf2_matrix& m) {
    gf2_matrix out{};
    for (int n = 0; n < 32; ++n) {
        out[n] = gf2_times(m, m[n]);
    }
    return out;
}

}  // namespace

std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b) {
    // Appending length_b zero bytes to A is a linear map on its CRC register; apply it by squaring
    // the one-zero-bit operator (the classic zlib method), then add B's CRC.
    if (length_b == 0) {
        return crc_a;
    }
    gf2_matrix odd{};
    odd[0] = 0xEDB88320u;
    for (int n = 1; n < 32; ++n) {
        odd[n] = 1u << (n - 1);
    }
    gf2_matrix even = gf2_square(odd);  // two zero bits
    odd = gf2_square(even);             // four zero bits
    do {
        even = gf2_square(odd);  // first pass: one zero byte
        if (length_b & 1) {
            crc_a = gf2_times(even, crc_a);
        }
        length_b >>= 1;
        if (length_b == 0) {
            break;
        }
        odd = gf2_square(even);
        if (length_b & 1) {
            crc_a = gf2_times(odd, crc_a);
        }
        length_b >>= 1;
    } while (length_b != 0);
    return crc_a ^ crc_b;
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

    tile_.resize(tile_size);
    for (std::size_t i = 0; i < tile_size; ++i) {
        tile_[i] =
            static_cast<char>((mix64(seed_ + (i / 8 + 1) * 0x9E3779B97F4A7C15ull) >> (8 * (i % 8))) & 0xff);
    }
    // CRC of header + tile^k + partial tile + 1024 zero bytes, by combining.
    const std::uint32_t tile_crc = crc32_update(0, tile_);
    std::uint32_t payload_crc = 0;
    std::uint32_t power_crc = tile_crc;  // CRC of tile^(2^bit)
    std::uint64_t power_len = tile_size;
    for (std::uint64_t k = payload_ / tile_size; k != 0; k >>= 1) {
        if (k & 1) {
            payload_crc = crc32_combine(payload_crc, power_crc, power_len);
        }
        power_crc = crc32_combine(power_crc, power_crc, power_len);
        power_len *= 2;
    }
    const std::size_t rest = static_cast<std::size_t>(payload_ % tile_size);
    payload_crc = crc32_combine(payload_crc, crc32_update(0, std::string_view(tile_).substr(0, rest)), rest);
    const std::string zeros(2 * tar_block, '\0');
    tar_crc_ = crc32_combine(crc32_combine(crc32_update(0, tar_header_), payload_crc, payload_),
                             crc32_update(0, zeros),
                             zeros.size());
}

std::uint64_t archive::minimum_size() {
    return plain_size(smallest_tar) + 6;
}

void archive::fill_payload(std::uint64_t off, char* out, std::size_t n) const {
    std::size_t i = 0;
    while (i < n) {
        const std::size_t at = static_cast<std::size_t>((off + i) % tile_size);
        const std::size_t k = std::min(n - i, tile_size - at);
        std::memcpy(out + i, tile_.data() + at, k);
        i += k;
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

std::size_t archive::read(std::uint64_t offset, std::span<char> out) const {
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
            const std::uint32_t v = t < 4 ? tar_crc_ : isize;
            out[i++] = static_cast<char>((v >> (8 * (t % 4))) & 0xff);
        }
    }
    return n;
}

std::string file_sha1(const archive& a) {
    archive_reader reader(std::shared_ptr<const archive>(&a, [](const archive*) {}), 0, a.size());
    std::vector<char> buffer(1 << 20);
    while (!reader.at_end()) {
        reader.read(buffer);
    }
    return *reader.whole_file_sha1();
}

archive_reader::archive_reader(std::shared_ptr<const archive> file, std::uint64_t start, std::uint64_t end)
    : file_(std::move(file)), pos_(start), end_(std::min(end, file_->size())) {
    if (start == 0) {
        sha1_ = std::make_unique<sha1_hasher>();
    }
}

std::size_t archive_reader::read(std::span<char> out) {
    const std::uint64_t want = std::min<std::uint64_t>(out.size(), end_ - std::min(end_, pos_));
    const std::size_t n = file_->read(pos_, out.first(static_cast<std::size_t>(want)));
    if (sha1_) {
        sha1_->update(out.first(n));
    }
    pos_ += n;
    if (sha1_ && pos_ == file_->size() && !sha1_result_) {
        sha1_result_ = sha1_->hex_digest();
    }
    return n;
}

}  // namespace atlas_restored::fake_atlas
