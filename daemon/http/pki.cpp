#include "http/pki.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <system_error>
#include <unistd.h>

namespace atlas_restored::http {
namespace {

// One owner per OpenSSL handle, freed by its own function.
template <auto free_fn>
struct openssl_deleter {
    template <class T>
    void operator()(T* p) const {
        free_fn(p);
    }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;
using x509_name_ptr = std::unique_ptr<X509_NAME, openssl_deleter<X509_NAME_free>>;
using x509_ext_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BN_free>>;

constexpr long validity_days = 3653;  // ten years, leap days included
constexpr long backdate_seconds = 3600;

// The OpenSSL error queue as one line, emptied so the next failure starts clean.
std::string openssl_errors() {
    std::string out;
    while (unsigned long code = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        if (!out.empty()) {
            out += "; ";
        }
        out += buf;
    }
    return out.empty() ? std::string("unknown OpenSSL error") : out;
}

error crypto_error(std::string what) {
    return make_error(errc::io_failed, std::move(what) + ": " + openssl_errors());
}

result<pkey_ptr> new_p256_key() {
    pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key) {
        return crypto_error("generating a P-256 key failed");
    }
    return key;
}

result<void> set_random_serial(X509* cert) {
    // 127 random bits: positive, unique enough that a re-generated CA never collides.
    bignum_ptr bn(BN_new());
    if (!bn || BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
        return crypto_error("making a certificate serial number failed");
    }
    return {};
}

result<void> set_common_name(X509_NAME* name, const std::string& cn) {
    if (X509_NAME_add_entry_by_txt(name,
                                   "CN",
                                   MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()),
                                   static_cast<int>(cn.size()),
                                   -1,
                                   0) != 1) {
        return crypto_error("setting the certificate common name failed");
    }
    return {};
}

result<void> add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    x509_ext_ptr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
        return crypto_error(std::string("adding certificate extension ") + OBJ_nid2sn(nid) + " failed");
    }
    return {};
}

result<x509_ptr> new_certificate(EVP_PKEY* subject_key, const std::string& common_name) {
    x509_ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        return crypto_error("creating a certificate failed");
    }
    if (auto r = set_random_serial(cert.get()); !r) {
        return r.error();
    }
    if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -backdate_seconds) == nullptr ||
        X509_time_adj_ex(X509_getm_notAfter(cert.get()), validity_days, 0, nullptr) == nullptr) {
        return crypto_error("setting the certificate validity failed");
    }
    if (auto r = set_common_name(X509_get_subject_name(cert.get()), common_name); !r) {
        return r.error();
    }
    if (X509_set_pubkey(cert.get(), subject_key) != 1) {
        return crypto_error("setting the certificate public key failed");
    }
    return cert;
}

result<std::string> to_pem(X509* cert) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        return crypto_error("encoding a certificate as PEM failed");
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

result<std::string> to_pem(EVP_PKEY* key) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return crypto_error("encoding a private key as PEM failed");
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// Writes through a file created with `mode`, so a private key is never readable by others, not
// even for a moment.
result<void> write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        return make_error(errc::io_failed, "cannot create " + path.string() + ": " + std::strerror(errno));
    }
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            return make_error(errc::io_failed, "cannot write " + path.string() + ": " + std::strerror(saved));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) {
        return make_error(errc::io_failed, "cannot write " + path.string() + ": " + std::strerror(errno));
    }
    return {};
}

result<bio_ptr> open_for_reading(const std::filesystem::path& path) {
    bio_ptr bio(BIO_new_file(path.c_str(), "rb"));
    if (!bio) {
        return crypto_error("cannot read " + path.string());
    }
    return bio;
}

bool is_ip_address(const std::string& name) {
    unsigned char buf[sizeof(struct in6_addr)];
    return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// DNS names go into an OpenSSL configuration string: only host-name characters (and a leading
// wildcard label) may pass, so a name cannot smuggle in another entry.
bool is_dns_name(const std::string& name) {
    if (name.empty() || name.size() > 253) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || (c == '*' && i == 0);
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace

result<void> generate_ca(const std::filesystem::path& dir, std::string common_name) {
    if (common_name.empty()) {
        return make_error(errc::invalid_input, "a CA needs a common name");
    }
    std::error_code fs_error;
    std::filesystem::create_directories(dir, fs_error);
    if (fs_error) {
        return make_error(errc::io_failed, "cannot create " + dir.string() + ": " + fs_error.message());
    }

    auto key = new_p256_key();
    if (!key) {
        return key.error();
    }
    auto cert = new_certificate(key->get(), common_name);
    if (!cert) {
        return cert.error();
    }
    X509* c = cert->get();
    if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) {
        return crypto_error("setting the CA issuer failed");
    }
    for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, "critical,CA:TRUE"},
                              {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                              {NID_subject_key_identifier, "hash"}}) {
        if (auto r = add_extension(c, c, nid, value); !r) {
            return r.error();
        }
    }
    if (X509_sign(c, key->get(), EVP_sha256()) <= 0) {
        return crypto_error("signing the CA certificate failed");
    }

    auto cert_pem = to_pem(c);
    if (!cert_pem) {
        return cert_pem.error();
    }
    auto key_pem = to_pem(key->get());
    if (!key_pem) {
        return key_pem.error();
    }
    if (auto r = write_file(dir / "ca-key.pem", *key_pem, 0600); !r) {
        return r;
    }
    return write_file(dir / "ca.pem", *cert_pem, 0644);
}

result<void> issue_certificate(const std::filesystem::path& ca_dir,
                               const std::filesystem::path& cert_out,
                               const std::filesystem::path& key_out,
                               std::vector<std::string> names) {
    if (names.empty()) {
        return make_error(errc::invalid_input, "a server certificate needs at least one name");
    }
    std::string san;
    for (const auto& name : names) {
        if (!san.empty()) {
            san += ',';
        }
        if (is_ip_address(name)) {
            san += "IP:" + name;
        } else if (is_dns_name(name)) {
            san += "DNS:" + name;
        } else {
            return make_error(errc::invalid_input, "'" + name + "' is neither a DNS name nor an IP address");
        }
    }

    auto ca_cert_bio = open_for_reading(ca_dir / "ca.pem");
    if (!ca_cert_bio) {
        return ca_cert_bio.error();
    }
    x509_ptr ca_cert(PEM_read_bio_X509(ca_cert_bio->get(), nullptr, nullptr, nullptr));
    if (!ca_cert) {
        return crypto_error("cannot parse " + (ca_dir / "ca.pem").string());
    }
    auto ca_key_bio = open_for_reading(ca_dir / "ca-key.pem");
    if (!ca_key_bio) {
        return ca_key_bio.error();
    }
    pkey_ptr ca_key(PEM_read_bio_PrivateKey(ca_key_bio->get(), nullptr, nullptr, nullptr));
    if (!ca_key) {
        return crypto_error("cannot parse " + (ca_dir / "ca-key.pem").string());
    }
    if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
        return crypto_error("the CA key does not match the CA certificate in " + ca_dir.string());
    }

    auto key = new_p256_key();
    if (!key) {
        return key.error();
    }
    auto cert = new_certificate(key->get(), names.front());
    if (!cert) {
        return cert.error();
    }
    X509* c = cert->get();
    if (X509_set_issuer_name(c, X509_get_subject_name(ca_cert.get())) != 1) {
        return crypto_error("setting the certificate issuer failed");
    }
    for (auto [nid, value] : {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:FALSE"},
                              {NID_key_usage, "critical,digitalSignature"},
                              {NID_ext_key_usage, "serverAuth"},
                              {NID_subject_key_identifier, "hash"},
                              {NID_authority_key_identifier, "keyid"},
                              {NID_subject_alt_name, san}}) {
        if (auto r = add_extension(c, ca_cert.get(), nid, value); !r) {
            return r.error();
        }
    }
    if (X509_sign(c, ca_key.get(), EVP_sha256()) <= 0) {
        return crypto_error("signing the server certificate failed");
    }

    auto cert_pem = to_pem(c);
    if (!cert_pem) {
        return cert_pem.error();
    }
    auto key_pem = to_pem(key->get());
    if (!key_pem) {
        return key_pem.error();
    }
    if (auto r = write_file(key_out, *key_pem, 0600); !r) {
        return r;
    }
    return write_file(cert_out, *cert_pem, 0644);
}

}  // namespace atlas_restored::http
