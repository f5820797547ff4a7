#include "fake_atlas/options.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::fake_atlas {
namespace {

using namespace std::chrono_literals;

TEST(options, clusters_and_credentials) {
    auto rs = parse_cluster("32b6e34b3d91647abb20e7b8/Cluster0:replicaset", "default");
    ASSERT_TRUE(rs);
    EXPECT_EQ(rs->group_id, "32b6e34b3d91647abb20e7b8");
    EXPECT_EQ(rs->name, "Cluster0");
    EXPECT_EQ(rs->shards, 0);
    auto sh = parse_cluster("32b6e34b3d91647abb20e7b8/orders-prod:sharded:3", "payments");
    ASSERT_TRUE(sh);
    EXPECT_EQ(sh->shards, 3);
    EXPECT_EQ(sh->org, "payments");
    for (const char* bad : {"32b6e34b3d91647abb20e7b8",
                            "32B6E34B3D91647ABB20E7B8/c:replicaset",
                            "32b6e34b3d91647abb20e7b8/-c:replicaset",
                            "32b6e34b3d91647abb20e7b8/c:sharded",
                            "32b6e34b3d91647abb20e7b8/c:sharded:0",
                            "32b6e34b3d91647abb20e7b8/c:cluster"}) {
        EXPECT_FALSE(parse_cluster(bad, "default")) << bad;
    }
    auto key = parse_credential("pub:priv:with:colons", "default", "--api-key");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->id, "pub");
    EXPECT_EQ(key->secret, "priv:with:colons");
    EXPECT_FALSE(parse_credential("nocolon", "default", "--api-key"));
    EXPECT_FALSE(parse_credential(":secret", "default", "--api-key"));
}

TEST(options, sizes_and_durations) {
    EXPECT_EQ(*parse_size("1048576"), 1048576u);
    EXPECT_EQ(*parse_size("64KiB"), 65536u);
    EXPECT_EQ(*parse_size("1M"), 1048576u);
    EXPECT_EQ(*parse_size("2GiB"), 2ull << 30);
    EXPECT_FALSE(parse_size("1TB"));
    EXPECT_FALSE(parse_size("x"));
    EXPECT_EQ(*parse_duration("3"), 3000ms);
    EXPECT_EQ(*parse_duration("0.5"), 500ms);
    EXPECT_EQ(*parse_duration("250ms"), 250ms);
    EXPECT_EQ(*parse_duration("2m"), 120000ms);
    EXPECT_FALSE(parse_duration("soon"));
    EXPECT_FALSE(parse_duration("-1"));
}

TEST(options, the_command_line_groups_credentials_and_clusters_by_org) {
    auto p = parse_command_line({"--listen",
                                 "127.0.0.1:0",
                                 "--tls-dir",
                                 "/tmp/tls",
                                 "--generate-ca",
                                 "--cluster",
                                 "32b6e34b3d91647abb20e7b8/a:replicaset",
                                 "--api-key",
                                 "pub:priv",
                                 "--org",
                                 "payments",
                                 "--cluster=5f1b00000000000000000b2b/b:sharded:2",
                                 "--service-account",
                                 "sa:secret",
                                 "--job-seconds",
                                 "6",
                                 "--speed",
                                 "2",
                                 "--file-bytes",
                                 "2MiB",
                                 "--link-ttl",
                                 "60",
                                 "--nonce-ttl",
                                 "30",
                                 "--token-ttl",
                                 "120",
                                 "--rate-capacity",
                                 "10",
                                 "--rate-refill-per-minute",
                                 "5",
                                 "--port-file",
                                 "/tmp/port",
                                 "--fault",
                                 R"({"kind":"status","status":503})"});
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->tls_dir, "/tmp/tls");
    EXPECT_TRUE(p->generate_ca);
    ASSERT_EQ(p->world.clusters.size(), 2u);
    EXPECT_EQ(p->world.clusters[0].org, "default");
    EXPECT_EQ(p->world.clusters[1].org, "payments");
    EXPECT_EQ(p->world.clusters[1].shards, 2);
    EXPECT_EQ(p->world.api_keys.at(0).org, "default");
    EXPECT_EQ(p->world.service_accounts.at(0).org, "payments");
    EXPECT_EQ(p->world.job_duration, 3000ms) << "--speed divides --job-seconds";
    EXPECT_EQ(p->world.file_bytes, 2u << 20);
    EXPECT_EQ(p->world.link_ttl, 60s);
    EXPECT_EQ(p->world.nonce_ttl, 30s);
    EXPECT_EQ(p->world.token_ttl, 120s);
    ASSERT_TRUE(p->world.rate_limit);
    EXPECT_EQ(p->world.rate_limit->capacity, 10);
    EXPECT_EQ(p->world.rate_limit->refill_per_minute, 5);
    EXPECT_EQ(p->port_file, "/tmp/port");
    EXPECT_EQ(p->world.faults.size(), 1u);
    EXPECT_TRUE(validate(p->world));

    EXPECT_FALSE(parse_command_line({"--bogus", "1"}));
    EXPECT_FALSE(parse_command_line({"--cluster"}));
    EXPECT_FALSE(parse_command_line({"stray"}));
    EXPECT_TRUE(parse_command_line({"--help"})->help);
}

TEST(options, validation_of_the_combination) {
    world_options w;
    EXPECT_FALSE(validate(w)) << "no credentials and no --no-auth";
    w.no_auth = true;
    EXPECT_TRUE(validate(w));
    w.api_keys.push_back({"default", "k", "s"});
    EXPECT_FALSE(validate(w)) << "--no-auth with credentials";
    w.no_auth = false;
    w.service_accounts.push_back({"default", "k", "s2"});
    EXPECT_FALSE(validate(w)) << "the same id twice";
    w.service_accounts.clear();
    w.clusters.push_back({"a", "32b6e34b3d91647abb20e7b8", "x", 0});
    w.clusters.push_back({"b", "32b6e34b3d91647abb20e7b8", "y", 0});
    EXPECT_FALSE(validate(w)) << "a group in two organisations";
    w.clusters[1].org = "a";
    EXPECT_TRUE(validate(w));
    w.clusters[1].name = "x";
    EXPECT_FALSE(validate(w)) << "the same cluster twice";
}

TEST(options, a_yaml_config_file) {
    atlas_restored::testing::temp_dir dir;
    const auto file = dir / "fake.yaml";
    atlas_restored::testing::write_file(file, R"(job_seconds: 0.5
file_bytes: 4MiB
link_ttl: 90
rate_limit: {capacity: 5, refill_per_minute: 2}
clusters:
  - "32b6e34b3d91647abb20e7b8/Cluster0:sharded:2"
  - {group_id: 32b6e34b3d91647abb20e7b8, name: drill, type: replicaset}
api_keys:
  - "pub:priv"
orgs:
  - name: payments
    clusters: ["5f1b00000000000000000b2b/payments:replicaset"]
    service_accounts:
      - {client_id: mdb_sa_id_0456, secret: s3cret}
faults:
  - {kind: status, status: 503, count: 2, match: "GET */restoreJobs"}
)");
    program_options p;
    auto loaded = load_config_file(file.string(), p);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(p.world.job_duration, 500ms);
    EXPECT_EQ(p.world.file_bytes, 4u << 20);
    EXPECT_EQ(p.world.link_ttl, 90s);
    EXPECT_EQ(p.world.rate_limit->capacity, 5);
    ASSERT_EQ(p.world.clusters.size(), 3u);
    EXPECT_EQ(p.world.clusters[0].org, "payments");
    EXPECT_EQ(p.world.clusters[1].shards, 2);
    EXPECT_EQ(p.world.clusters[2].name, "drill");
    EXPECT_EQ(p.world.service_accounts.at(0).org, "payments");
    EXPECT_EQ(p.world.api_keys.at(0).org, "default");
    ASSERT_EQ(p.world.faults.size(), 1u);
    EXPECT_EQ(p.world.faults[0].count, 2);
    EXPECT_EQ(p.world.faults[0].status, 503);
    EXPECT_TRUE(validate(p.world));

    // Later command-line options override the file.
    auto cmd = parse_command_line({"--config", file.string(), "--job-seconds", "2"});
    ASSERT_TRUE(cmd);
    EXPECT_EQ(cmd->world.job_duration, 2000ms);

    atlas_restored::testing::write_file(dir / "bad.yaml", "job_seconds: 1\nwhat: 2\n");
    auto bad = load_config_file((dir / "bad.yaml").string(), p);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("bad.yaml:2"), std::string::npos) << bad.error().message;
    EXPECT_FALSE(load_config_file((dir / "missing.yaml").string(), p));
}

}  // namespace
}  // namespace atlas_restored::fake_atlas
