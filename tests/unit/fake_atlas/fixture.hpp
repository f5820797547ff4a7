#pragma once
// A fake Atlas world with a manual clock, and a client-side toolkit written independently of the
// fake's own code (Digest arithmetic with OpenSSL directly, JSON parsed with Boost.JSON).

#include "fake_atlas/world.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::fake_atlas::testing {

using namespace std::chrono_literals;
namespace json = boost::json;

inline constexpr const char* group_a = "32b6e34b3d91647abb20e7b8";  // org "default"
inline constexpr const char* group_b = "5f1b00000000000000000b2b";  // org "payments"
inline constexpr const char* accept_v1 = "application/vnd.atlas.2023-01-01+json";

inline std::string jobs_path(const std::string& group, const std::string& cluster) {
    return "/api/atlas/v2/groups/" + group + "/clusters/" + cluster + "/restoreJobs";
}

inline std::string hex_of(const unsigned char* p, unsigned n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < n; ++i) {
        s += d[p[i] >> 4];
        s += d[p[i] & 15];
    }
    return s;
}

inline std::string test_md5(const std::string& s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(s.data(), s.size(), md, &n, EVP_md5(), nullptr);
    return hex_of(md, n);
}

inline std::string test_sha1(const std::string& s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(s.data(), s.size(), md, &n, EVP_sha1(), nullptr);
    return hex_of(md, n);
}

inline std::string test_base64(const std::string& s) {
    std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()),
                            static_cast<int>(s.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

inline std::optional<std::string> header_of(const http::reply& r, const std::string& name) {
    for (const auto& h : r.headers) {
        if (strcasecmp(h.name.c_str(), name.c_str()) == 0) {
            return h.value;
        }
    }
    return std::nullopt;
}

// Reads a streamed body to the end (or `limit` bytes) the way the server would.
inline std::string drain(const http::reply& r, std::size_t chunk = 7000, std::uint64_t limit = UINT64_MAX) {
    if (!r.body_source) {
        return r.body;
    }
    std::string out;
    std::vector<char> buf(chunk);
    while (out.size() < r.content_length && out.size() < limit) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, limit - out.size()));
        std::size_t n = r.body_source(out.size(), std::span(buf.data(), want));
        if (n == 0) {
            break;
        }
        out.append(buf.data(), n);
    }
    return out;
}

inline json::value body_json(const http::reply& r) {
    return json::parse(r.body);
}

inline world_options default_options() {
    world_options o;
    o.clusters.push_back({"default", group_a, "orders", 2});
    o.clusters.push_back({"default", group_a, "users", 0});
    o.clusters.push_back({"default", group_a, "drill", 0});
    o.clusters.push_back({"payments", group_b, "payments", 0});
    o.api_keys.push_back({"default", "pubkey1", "privkey1"});
    o.api_keys.push_back({"payments", "paykey", "paysecret"});
    o.service_accounts.push_back({"default", "mdb_sa_id_1", "sa-secret-1"});
    o.service_accounts.push_back({"payments", "mdb_sa_id_2", "sa-secret-2"});
    o.job_duration = 3s;
    o.file_bytes = 64 * 1024;
    o.base_url = "https://127.0.0.1:9999";
    return o;
}

class world_test : public ::testing::Test {
  protected:
    void make(world_options o = default_options()) { w = std::make_unique<world>(std::move(o), now); }
    void SetUp() override { make(); }

    http::reply send(const std::string& method,
                     const std::string& target,
                     http::header_list headers = {},
                     std::string body = {},
                     std::uint64_t connection = 1) {
        http::request r;
        r.method = method;
        r.target = target;
        r.headers = std::move(headers);
        r.body = std::move(body);
        return w->handle(r, {connection, ++request_index[connection]}, now);
    }

    std::string token(const std::string& id = "mdb_sa_id_1", const std::string& secret = "sa-secret-1") {
        auto r = send("POST",
                      "/api/oauth/token",
                      {{"Authorization", "Basic " + test_base64(id + ":" + secret)},
                       {"Content-Type", "application/x-www-form-urlencoded"}},
                      "grant_type=client_credentials");
        EXPECT_EQ(r.status, 200) << r.body;
        return std::string(body_json(r).at("access_token").as_string());
    }

    http::header_list api_headers(const std::string& bearer) {
        return {{"Authorization", "Bearer " + bearer}, {"Accept", accept_v1}, {"Content-Type", accept_v1}};
    }

    // GET/POST with a service-account token of the default organisation.
    http::reply api(const std::string& method, const std::string& target, std::string body = {}) {
        if (bearer_.empty()) {
            bearer_ = token();
        }
        return send(method, target, api_headers(bearer_), std::move(body));
    }

    json::object create(const std::string& group,
                        const std::string& cluster,
                        const std::string& snapshot_id,
                        int max_downloads = 2,
                        int expiration_hours = 4) {
        json::object body{{"snapshotId", snapshot_id},
                          {"delivery",
                           {{"methodName", "HTTP"},
                            {"maxDownloads", max_downloads},
                            {"expirationHours", expiration_hours}}}};
        auto r = api("POST", jobs_path(group, cluster), json::serialize(body));
        EXPECT_EQ(r.status, 200) << r.body;
        return body_json(r).as_object();
    }

    std::string latest_snapshot(const std::string& group, const std::string& cluster) {
        auto r = api("GET", "/api/atlas/v2/groups/" + group + "/clusters/" + cluster + "/snapshots");
        EXPECT_EQ(r.status, 200) << r.body;
        return std::string(body_json(r).at("results").at(0).at("id").as_string());
    }

    json::object get_job(const std::string& group, const std::string& cluster, const std::string& id) {
        auto r = api("GET", jobs_path(group, cluster) + "/" + id);
        EXPECT_EQ(r.status, 200) << r.body;
        return body_json(r).as_object();
    }

    // A finished replica-set HTTP job on "users".
    json::object ready_job(int max_downloads = 2) {
        auto created = create(group_a, "users", latest_snapshot(group_a, "users"), max_downloads);
        std::string id(created.at("results").at(0).at("id").as_string());
        now += 5s;
        auto job = get_job(group_a, "users", id);
        EXPECT_EQ(job.at("delivery").at("statusName"), "READY");
        return job;
    }

    // urlV2 as a target path, with the auth header.
    http::reply download(const json::object& job, http::header_list extra = {}) {
        const auto& d = job.at("delivery").as_object();
        std::string url(d.at("urlV2").as_string());
        std::string target = url.substr(url.find("/backup/"));
        extra.push_back(
            {std::string(d.at("authHeader").as_string()), std::string(d.at("authValue").as_string())});
        return send("GET", target, std::move(extra));
    }

    time_point now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 3h;
    std::unique_ptr<world> w;
    std::map<std::uint64_t, std::uint64_t> request_index;
    std::string bearer_;
};

}  // namespace atlas_restored::fake_atlas::testing
