#include "http/pki.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <sys/stat.h>

namespace atlas_restored::http {
namespace {

struct free_x509 {
    void operator()(X509* p) const { X509_free(p); }
};
using x509_ptr = std::unique_ptr<X509, free_x509>;

x509_ptr load(const std::filesystem::path& file) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
    if (!f) {
        return nullptr;
    }
    return x509_ptr(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
}

TEST(pki, ca_and_leaf_have_the_promised_properties) {
    testing::temp_dir dir("pki-test");
    ASSERT_TRUE(generate_ca(dir / "ca", "Test CA"));
    ASSERT_TRUE(issue_certificate(
        dir / "ca", dir / "leaf.pem", dir / "leaf-key.pem", {"localhost", "127.0.0.1", "::1"}));

    auto ca = load(dir / "ca/ca.pem");
    auto leaf = load(dir / "leaf.pem");
    ASSERT_TRUE(ca && leaf);
    EXPECT_EQ(X509_check_ca(ca.get()), 1);
    EXPECT_EQ(X509_check_ca(leaf.get()), 0);
    EXPECT_EQ(X509_check_issued(ca.get(), leaf.get()), X509_V_OK);
    EXPECT_TRUE(X509_get_extended_key_usage(leaf.get()) & XKU_SSL_SERVER);

    EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(leaf.get(), "wrong.example", 0, 0, nullptr), 0);
    EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(leaf.get(), "::1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.2", 0), 0);

    // Valid now, and for years to come.
    EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(leaf.get())), 0);
    EXPECT_GT(X509_cmp_time(X509_get0_notAfter(leaf.get()), nullptr), 0);
    const time_t in_nine_years = time(nullptr) + 9L * 365 * 24 * 3600;
    EXPECT_GT(X509_cmp_time(X509_get0_notAfter(ca.get()), const_cast<time_t*>(&in_nine_years)), 0);

    // Private keys are not readable by others.
    struct stat st {};
    ASSERT_EQ(stat((dir / "leaf-key.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0u);
    ASSERT_EQ(stat((dir / "ca/ca-key.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST(pki, refuses_bad_names_and_missing_ca) {
    testing::temp_dir dir("pki-test");
    ASSERT_TRUE(generate_ca(dir / "ca", "Test CA"));
    auto no_names = issue_certificate(dir / "ca", dir / "a.pem", dir / "a-key.pem", {});
    ASSERT_FALSE(no_names);
    EXPECT_EQ(no_names.error().code, errc::invalid_input);
    auto injected =
        issue_certificate(dir / "ca", dir / "a.pem", dir / "a-key.pem", {"ok.example,DNS:evil.example"});
    ASSERT_FALSE(injected);
    EXPECT_EQ(injected.error().code, errc::invalid_input);
    auto no_ca = issue_certificate(dir / "nowhere", dir / "a.pem", dir / "a-key.pem", {"localhost"});
    ASSERT_FALSE(no_ca);
    EXPECT_EQ(no_ca.error().code, errc::io_failed);
}

}  // namespace
}  // namespace atlas_restored::http
