// The downloader against the real fake Atlas over TLS on 127.0.0.1 (in-process, manual clock).

#include "download/sha1_stream.hpp"
#include "fake_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <csignal>
#include <sys/resource.h>

namespace atlas_restored::download::testing {
namespace {

namespace fs = std::filesystem;

std::string file_sha1_on_disk(const fs::path& p) {
    auto h = rehash_file(p);
    EXPECT_TRUE(h) << h.error().message;
    return h ? h->hex() : std::string();
}

void expect_no_secrets_logged(const atlas::restore_job& job) {
    const std::string log = captured_log().str();
    ASSERT_TRUE(job.delivery_info.auth_value);
    EXPECT_EQ(log.find(*job.delivery_info.auth_value), std::string::npos) << log;
    EXPECT_EQ(log.find("?"), std::string::npos) << log;
    EXPECT_EQ(log.find("/backup/restore/"), std::string::npos) << log;  // only host and file name
}

fake_atlas::fault_spec fault(fake_atlas::fault_kind kind) {
    fake_atlas::fault_spec f;
    f.kind = kind;
    return f;
}

using download_test = fake_atlas_test;

TEST_F(download_test, a_replica_set_file_is_downloaded_verified_and_placed) {
    auto jobs = ready_jobs("users");
    ASSERT_EQ(jobs.size(), 1u);
    const auto& job = jobs[0];
    EXPECT_TRUE(job.hashes.empty());  // Atlas publishes the hash only after a download

    downloader d(*transport, *store, metrics);
    std::vector<download_progress> progress;
    auto plan = plan_for(job);
    plan.progress_every_bytes = 128 * 1024;
    plan.on_progress = [&](const download_progress& p) { progress.push_back(p); };
    file_result r = fetch(d, plan, job);

    ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
    EXPECT_TRUE(r.reason.empty());
    const auto& model = world->jobs().at(job.id);
    EXPECT_EQ(r.file_name, model.file_name);
    EXPECT_EQ(r.path, plan.directory / model.file_name);
    EXPECT_EQ(r.bytes, 512u * 1024);
    EXPECT_EQ(r.sha1, true_sha1(job.id));
    EXPECT_EQ(r.expected_sha1, r.sha1);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(file_sha1_on_disk(r.path), r.sha1);
    EXPECT_EQ(fs::file_size(r.path), 512u * 1024);
    EXPECT_FALSE(fs::exists(plan.directory / (model.file_name + ".partial")));

    auto rec = store->get_file(run_id, job.id).value();
    ASSERT_TRUE(rec);
    EXPECT_TRUE(rec->verified);
    EXPECT_EQ(rec->state, "verified");
    EXPECT_EQ(rec->sha1_actual, r.sha1);
    EXPECT_EQ(rec->bytes_done, 512 * 1024);
    EXPECT_EQ(rec->attempts, 1);
    EXPECT_EQ(rec->file_name, model.file_name);

    // urlV2 with the header, not the deprecated url with the key in its path.
    auto gets = download_requests();
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(header(gets[0], "X-Atlas-Restore-Key"), "REDACTED");
    EXPECT_EQ(std::string(gets[0].at("target").as_string()).find("REDACTED"), std::string::npos);
    EXPECT_EQ(world->counters().downloads_started, 1u);

    EXPECT_EQ(metrics.bytes_by_policy["drill"], 512u * 1024);
    EXPECT_EQ(metrics.responses[200], 1);
    EXPECT_EQ(metrics.max_active, 1);
    EXPECT_EQ(metrics.active, 0);
    ASSERT_FALSE(progress.empty());
    EXPECT_GT(progress.size(), 2u);
    EXPECT_EQ(progress.back().bytes_done, 512u * 1024);
    EXPECT_TRUE(progress.back().done);
    EXPECT_EQ(progress.back().bytes_total, 512u * 1024);
    expect_no_secrets_logged(job);

    // A second fetch of a verified file does not download again.
    file_result again = fetch(d, plan, job);
    EXPECT_TRUE(again.verified);
    EXPECT_EQ(again.sha1, r.sha1);
    EXPECT_EQ(world->counters().downloads_started, 1u);
}

TEST_F(download_test, every_file_of_a_three_shard_batch_downloads_concurrently_and_verifies) {
    auto jobs = ready_jobs("orders");
    ASSERT_EQ(jobs.size(), 4u);  // three shards and the config server
    std::set<std::string> batch;
    for (const auto& j : jobs) {
        batch.insert(j.batch_id.value_or(""));
    }
    EXPECT_EQ(batch.size(), 1u);

    // One downloader per file, as the run engine makes them: the active gauge still counts them all.
    std::vector<std::unique_ptr<downloader>> downloaders;
    std::vector<file_result> results;
    for (const auto& j : jobs) {
        downloaders.push_back(std::make_unique<downloader>(*transport, *store, metrics));
        asio::co_spawn(io,
                       downloaders.back()->fetch(plan_for(j), j, reread("orders", j.id)),
                       [&](std::exception_ptr e, file_result r) {
                           EXPECT_FALSE(e);
                           results.push_back(std::move(r));
                           if (results.size() == 4) {
                               io.stop();
                           }
                       });
    }
    io.restart();
    io.run_for(test_guard);
    ASSERT_EQ(results.size(), 4u);
    std::set<std::string> names;
    for (const auto& r : results) {
        ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
        names.insert(r.file_name);
        EXPECT_TRUE(fs::exists(r.path));
        EXPECT_EQ(r.sha1, r.expected_sha1);
    }
    EXPECT_EQ(names.size(), 4u);
    EXPECT_GT(metrics.max_active, 1);
    EXPECT_EQ(metrics.active, 0);
    EXPECT_EQ(downloader::active_downloads(), 0);
    for (const auto& j : jobs) {
        EXPECT_TRUE(store->get_file(run_id, j.id).value()->verified);
    }
}

TEST_F(download_test, a_cut_download_resumes_with_range_and_verifies) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    auto cut = fault(fake_atlas::fault_kind::truncate);
    cut.bytes = 200'000;
    ASSERT_TRUE(world->add_faults({cut}, fake_now));

    downloader d(*transport, *store, metrics);
    file_result r = fetch(d, plan_for(job), job);
    ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
    EXPECT_EQ(r.sha1, true_sha1(job.id));
    EXPECT_EQ(r.attempts, 2);

    auto gets = download_requests();
    ASSERT_EQ(gets.size(), 2u);
    EXPECT_EQ(header(gets[0], "Range"), "");
    EXPECT_EQ(header(gets[1], "Range"), "bytes=200000-");
    EXPECT_FALSE(header(gets[1], "If-Range").empty());
    EXPECT_EQ(gets[1].at("status").as_int64(), 206);
    EXPECT_EQ(world->counters().range_requests, 1u);
    EXPECT_EQ(metrics.retries, 1);
    // Only the missing part travelled again.
    EXPECT_EQ(world->counters().download_bytes, 512u * 1024);
    expect_no_secrets_logged(job);
}

TEST_F(download_test, a_wrong_hash_is_caught_and_the_file_never_placed) {
    auto jobs = ready_jobs("users", 1);
    const auto& job = jobs.at(0);
    ASSERT_TRUE(world->add_faults({fault(fake_atlas::fault_kind::wrong_hash)}, fake_now));

    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    file_result r = fetch(d, plan, job);
    ASSERT_FALSE(r.verified);
    EXPECT_EQ(r.reason, "sha1_mismatch") << r.message;
    const std::string name = world->jobs().at(job.id).file_name;
    EXPECT_FALSE(fs::exists(plan.directory / name));
    EXPECT_FALSE(fs::exists(plan.directory / (name + ".partial")));
    ASSERT_TRUE(fs::exists(plan.directory / (name + ".corrupt")));
    EXPECT_EQ(r.path, plan.directory / (name + ".corrupt"));
    EXPECT_EQ(r.sha1, true_sha1(job.id));
    EXPECT_EQ(r.expected_sha1, fake_atlas::world::wrong_hash_of(true_sha1(job.id)));
    EXPECT_NE(r.message.find(r.sha1), std::string::npos) << r.message;
    EXPECT_NE(r.message.find(r.expected_sha1), std::string::npos) << r.message;
    EXPECT_EQ(metrics.mismatches["drill"], 1);

    auto rec = store->get_file(run_id, job.id).value();
    EXPECT_FALSE(rec->verified);
    EXPECT_EQ(rec->state, "failed");
    EXPECT_EQ(rec->sha1_expected, r.expected_sha1);
    EXPECT_EQ(rec->sha1_actual, r.sha1);
    EXPECT_EQ(world->counters().downloads_started, 1u);  // no second GET: the budget was 1
}

TEST_F(download_test, a_wrong_hash_is_retried_while_budget_remains) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    ASSERT_TRUE(world->add_faults({fault(fake_atlas::fault_kind::wrong_hash)}, fake_now));

    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    file_result r = fetch(d, plan, job);
    ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(metrics.mismatches["drill"], 1);
    EXPECT_EQ(file_sha1_on_disk(r.path), true_sha1(job.id));
    // The second GET asked for the whole file, not a Range of the discarded one.
    auto gets = download_requests();
    ASSERT_EQ(gets.size(), 2u);
    EXPECT_EQ(header(gets[1], "Range"), "");
}

TEST_F(download_test, on_mismatch_delete_leaves_no_bad_bytes) {
    auto jobs = ready_jobs("users", 1);
    const auto& job = jobs.at(0);
    ASSERT_TRUE(world->add_faults({fault(fake_atlas::fault_kind::wrong_hash)}, fake_now));
    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    plan.delete_on_mismatch = true;
    file_result r = fetch(d, plan, job);
    EXPECT_EQ(r.reason, "sha1_mismatch");
    EXPECT_TRUE(fs::is_empty(plan.directory));
}

TEST_F(download_test, max_downloads_one_with_a_cut_exhausts_the_budget) {
    auto jobs = ready_jobs("users", 1);
    const auto& job = jobs.at(0);
    auto cut = fault(fake_atlas::fault_kind::truncate);
    cut.bytes = 100'000;
    ASSERT_TRUE(world->add_faults({cut}, fake_now));

    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    file_result r = fetch(d, plan, job);
    ASSERT_FALSE(r.verified);
    EXPECT_EQ(r.reason, "download_budget_exhausted") << r.message;
    EXPECT_NE(r.message.find("1 of maxDownloads 1"), std::string::npos) << r.message;  // counted here
    EXPECT_EQ(world->counters().downloads_started, 1u);  // never a GET beyond the budget
    EXPECT_FALSE(fs::exists(plan.directory / world->jobs().at(job.id).file_name));
    EXPECT_EQ(store->get_file(run_id, job.id).value()->state, "failed");
    EXPECT_EQ(store->get_file(run_id, job.id).value()->bytes_done, 100'000);
}

TEST_F(download_test, an_expired_link_fails_without_a_get) {
    auto jobs = ready_jobs("users", 2);
    auto job = jobs.at(0);
    auto expire = fault(fake_atlas::fault_kind::expire_link);
    expire.job_id = job.id;
    ASSERT_TRUE(world->add_faults({expire}, fake_now));
    fake_now += 1s;
    job = run(io, reread("users", job.id)()).value();
    ASSERT_EQ(job.delivery_info.status_name, "EXPIRED");

    downloader d(*transport, *store, metrics);
    file_result r = fetch(d, plan_for(job), job);
    EXPECT_EQ(r.reason, "link_expired") << r.message;
    EXPECT_EQ(world->counters().downloads_started, 0u);
    EXPECT_EQ(r.attempts, 0);
}

TEST_F(download_test, a_link_about_to_expire_is_not_spent_and_a_short_one_warns) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    ASSERT_TRUE(job.delivery_info.expires);
    const auto expires = *parse_iso8601(*job.delivery_info.expires);

    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    plan.clock = [expires] { return expires - 10s; };  // inside the 30 s margin
    file_result r = fetch(d, plan, job);
    EXPECT_EQ(r.reason, "link_expired") << r.message;
    EXPECT_EQ(world->counters().downloads_started, 0u);
    EXPECT_EQ(metrics.expiring["drill"], 0);

    plan.clock = [expires] { return expires - 30min; };  // an eighth of a 4 h link left
    r = fetch(d, plan, job);
    EXPECT_TRUE(r.verified) << r.reason << ": " << r.message;
    EXPECT_EQ(metrics.expiring["drill"], 1);
    EXPECT_NE(captured_log().str().find("expires at"), std::string::npos);
}

TEST_F(download_test, failed_and_interrupted_deliveries_end_with_their_reasons) {
    auto jobs = ready_jobs("users", 2);
    auto job = jobs.at(0);
    downloader d(*transport, *store, metrics);
    job.delivery_info.status_name = "FAILED";
    EXPECT_EQ(fetch(d, plan_for(job), job).reason, "delivery_failed");
    job.delivery_info.status_name = "INTERRUPTED";
    EXPECT_EQ(fetch(d, plan_for(job), job).reason, "delivery_interrupted");
    job.delivery_info.status_name = "MAX_DOWNLOADS_EXCEEDED";
    EXPECT_EQ(fetch(d, plan_for(job), job).reason, "download_budget_exhausted");
    EXPECT_EQ(world->counters().downloads_started, 0u);
}

TEST_F(download_test, a_hostile_file_name_is_refused_before_anything_is_written) {
    auto jobs = ready_jobs("users", 2);
    auto job = jobs.at(0);
    job.delivery_info.url_v2 = "https://127.0.0.1:" + std::to_string(port) + "/backup/restore/v2/pull/" +
                               job.id + "/..%2F..%2Fetc%2Fpasswd";
    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    file_result r = fetch(d, plan, job);
    EXPECT_EQ(r.reason, "delivery_failed");
    EXPECT_NE(r.message.find("../../etc/passwd"), std::string::npos) << r.message;
    EXPECT_EQ(world->counters().downloads_started, 0u);
    EXPECT_FALSE(fs::exists(plan.directory));

    job.hashes.push_back({"../../etc/passwd", std::string(40, 'a'), "SHA1"});
    r = fetch(d, plan, job);
    EXPECT_EQ(r.reason, "delivery_failed");
    EXPECT_FALSE(fs::exists(dir / "downloads" / "etc"));
}

TEST_F(download_test, the_download_host_may_differ_from_the_api_host) {
    // Links point at "localhost" while the API is 127.0.0.1: same CA rules, verified by name.
    world->set_base_url("https://localhost:" + std::to_string(port));
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    ASSERT_NE(job.delivery_info.url_v2->find("https://localhost:"), std::string::npos);
    downloader d(*transport, *store, metrics);
    file_result r = fetch(d, plan_for(job), job);
    EXPECT_TRUE(r.verified) << r.reason << ": " << r.message;
}

TEST_F(download_test, a_download_host_with_the_wrong_certificate_is_refused_not_retried) {
    const auto tls = dir / "tls";
    ASSERT_TRUE(
        http::issue_certificate(tls, tls / "other.pem", tls / "other-key.pem", {"download.example.net"}));
    auto other = start_server(tls / "other.pem", tls / "other-key.pem");
    ASSERT_TRUE(other);
    world->set_base_url("https://127.0.0.1:" + std::to_string(other->port()));
    auto jobs = ready_jobs("users", 5);
    const auto& job = jobs.at(0);
    downloader d(*transport, *store, metrics);
    file_result r = fetch(d, plan_for(job), job);
    EXPECT_EQ(r.reason, "delivery_failed");
    EXPECT_NE(r.message.find("127.0.0.1"), std::string::npos) << r.message;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(world->counters().downloads_started, 0u);
    other->stop();
}

TEST_F(download_test, a_cancelled_download_resumes_from_its_offset_in_a_new_downloader) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    auto plan = plan_for(job);
    plan.progress_every_bytes = 64 * 1024;

    std::uint64_t stopped_at = 0;
    {
        downloader first(*transport, *store, metrics);
        asio::cancellation_signal stop;
        auto p = plan;
        p.on_progress = [&](const download_progress& pr) {
            if (pr.bytes_done >= 192 * 1024 && !pr.done) {
                stop.emit(asio::cancellation_type::terminal);  // as the daemon's shutdown does
            }
        };
        std::optional<file_result> r;
        asio::co_spawn(io,
                       first.fetch(p, job, reread("users", job.id)),
                       asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, file_result fr) {
                           EXPECT_FALSE(e);
                           r = std::move(fr);
                           io.stop();
                       }));
        io.restart();
        io.run_for(test_guard);
        ASSERT_TRUE(r);
        EXPECT_TRUE(r->interrupted) << r->reason << ": " << r->message;
        EXPECT_TRUE(r->reason.empty());
        auto rec = store->get_file(run_id, job.id).value();
        stopped_at = static_cast<std::uint64_t>(rec->bytes_done);
        EXPECT_GE(stopped_at, 192u * 1024);
        EXPECT_LT(stopped_at, 512u * 1024);
        EXPECT_EQ(rec->state, "downloading");
    }
    // "Restart": a new store handle and a new downloader, fresh links from Atlas.
    store.reset();
    store.emplace(state::store::open(dir / "state").value());
    downloader second(*transport, *store, metrics);
    auto fresh = run(io, reread("users", job.id)()).value();
    file_result r = fetch(second, plan, fresh);
    ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
    EXPECT_EQ(r.sha1, true_sha1(job.id));
    auto gets = download_requests();
    ASSERT_EQ(gets.size(), 2u);
    EXPECT_EQ(header(gets[1], "Range"), "bytes=" + std::to_string(stopped_at) + "-");
    EXPECT_NE(captured_log().str().find("re-hashing"), std::string::npos);
}

TEST_F(download_test, after_a_crash_the_partial_is_cut_to_the_stored_progress_and_resumed) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    auto plan = plan_for(job);
    const auto& model = world->jobs().at(job.id);
    // What a killed process leaves: 300000 good bytes, some more the database never heard of
    // (garbage here, to prove they are dropped), and progress 300000 with the ETag.
    std::string head(300'000, '\0');
    ASSERT_EQ(model.content->read(0, std::span<char>(head.data(), head.size())), head.size());
    fs::create_directories(plan.directory);
    atlas_restored::testing::write_file(plan.directory / (model.file_name + ".partial"),
                                        head + std::string(5000, 'G'));
    state::file_record rec;
    rec.run_id = run_id;
    rec.job_id = job.id;
    rec.file_name = model.file_name;
    rec.state = "downloading";
    ASSERT_TRUE(store->upsert_file(rec));
    ASSERT_TRUE(store->count_download_attempt(run_id, job.id));  // the first process's GET
    ASSERT_TRUE(store->update_progress(
        run_id, job.id, 300'000, "\"" + job.id + "-" + std::to_string(512 * 1024) + "\""));

    downloader d(*transport, *store, metrics);
    file_result r = fetch(d, plan, job);
    ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
    EXPECT_EQ(r.sha1, true_sha1(job.id));
    EXPECT_EQ(r.attempts, 2);
    auto gets = download_requests();
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(header(gets[0], "Range"), "bytes=300000-");
    EXPECT_EQ(world->counters().download_bytes, 512u * 1024 - 300'000);
}

TEST_F(download_test, a_200_answer_to_a_range_starts_over) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    auto plan = plan_for(job);
    const auto& model = world->jobs().at(job.id);
    fs::create_directories(plan.directory);
    atlas_restored::testing::write_file(plan.directory / (model.file_name + ".partial"),
                                        std::string(1000, 'x'));
    state::file_record rec;
    rec.run_id = run_id;
    rec.job_id = job.id;
    rec.file_name = model.file_name;
    rec.bytes_done = 1000;
    rec.etag = "\"some-other-version\"";  // If-Range mismatch: the server sends everything
    ASSERT_TRUE(store->upsert_file(rec));

    downloader d(*transport, *store, metrics);
    file_result r = fetch(d, plan, job);
    ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
    auto gets = download_requests();
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(header(gets[0], "Range"), "bytes=1000-");
    EXPECT_EQ(gets[0].at("status").as_int64(), 200);
    EXPECT_EQ(fs::file_size(r.path), 512u * 1024);
}

TEST_F(download_test, a_complete_partial_from_before_a_restart_is_verified_without_a_get) {
    auto jobs = ready_jobs("users", 1);
    const auto& job = jobs.at(0);
    // The first process downloaded everything, then died before verifying.
    {
        downloader d(*transport, *store, metrics);
        auto plan = plan_for(job);
        plan.hash_wait = 0ms;
        auto ok = fetch(d, plan, job);
        ASSERT_TRUE(ok.verified) << ok.message;
        // Undo the placement to recreate the state of a crash before the rename.
        fs::rename(ok.path, plan.directory / (ok.file_name + ".partial"));
        auto rec = *store->get_file(run_id, job.id).value();
        rec.verified = false;
        rec.state = "downloading";
        ASSERT_TRUE(store->upsert_file(rec));
    }
    downloader d(*transport, *store, metrics);
    file_result r = fetch(d, plan_for(job), job);
    ASSERT_TRUE(r.verified) << r.reason << ": " << r.message;
    EXPECT_EQ(world->counters().downloads_started, 1u);  // the budget of 1 was not touched again
}

TEST_F(download_test, hashes_that_never_appear_fail_after_the_bounded_wait) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    plan.hash_wait = 150ms;
    int rereads = 0;
    auto no_hashes = [&, inner = reread("users", job.id)]() -> asio::awaitable<result<atlas::restore_job>> {
        ++rereads;
        auto j = co_await inner();
        if (j) {
            j->hashes.clear();
        }
        co_return j;
    };
    const auto started = std::chrono::steady_clock::now();
    file_result r = run(io, d.fetch(plan, job, no_hashes));
    EXPECT_EQ(r.reason, "delivery_failed");
    EXPECT_NE(r.message.find("did not publish the SHA1"), std::string::npos) << r.message;
    EXPECT_GE(rereads, 3);  // polled with backoff, not once
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_TRUE(fs::exists(plan.directory / (r.file_name + ".partial")));
}

TEST_F(download_test, a_file_larger_than_the_maximum_is_refused) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    plan.max_file_bytes = 100'000;
    file_result r = fetch(d, plan, job);
    EXPECT_EQ(r.reason, "delivery_failed");
    EXPECT_NE(r.message.find("max_file_bytes"), std::string::npos) << r.message;
    EXPECT_EQ(fs::file_size(plan.directory / (r.file_name + ".partial")), 0u);
}

TEST_F(download_test, not_enough_free_space_fails_before_the_get) {
    auto jobs = ready_jobs("users", 2);
    const auto& job = jobs.at(0);
    downloader d(*transport, *store, metrics);
    auto plan = plan_for(job);
    plan.expected_bytes = std::uint64_t{1} << 62;
    file_result r = fetch(d, plan, job);
    EXPECT_EQ(r.reason, "disk_full");
    EXPECT_NE(r.message.find("bytes free, the restore needs"), std::string::npos) << r.message;
    EXPECT_EQ(world->counters().downloads_started, 0u);
    EXPECT_EQ(r.attempts, 0);
}

// RLIMIT_FSIZE makes write() fail with EFBIG once a file would pass the limit: a disk that fills
// up in the middle of a download. The limit is restored (and SIGXFSZ ignored) around the fetch.
class file_size_limit {
  public:
    explicit file_size_limit(rlim_t bytes) {
        getrlimit(RLIMIT_FSIZE, &saved_);
        previous_ = std::signal(SIGXFSZ, SIG_IGN);
        rlimit l = saved_;
        l.rlim_cur = bytes;
        setrlimit(RLIMIT_FSIZE, &l);
    }
    ~file_size_limit() {
        setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, previous_);
    }

  private:
    rlimit saved_{};
    void (*previous_)(int) = nullptr;
};

class big_file_test : public fake_atlas_test {
    fake_atlas::world_options world_options() override {
        auto o = fake_atlas_test::world_options();
        o.file_bytes = 3 * 1024 * 1024;
        return o;
    }
};

TEST_F(big_file_test, a_full_disk_fails_the_download_without_touching_verified_files) {
    auto jobs = ready_jobs("orders", 2);
    ASSERT_EQ(jobs.size(), 4u);
    downloader d(*transport, *store, metrics);
    file_result first = fetch(d, plan_for(jobs[0]), jobs[0], "orders");
    ASSERT_TRUE(first.verified) << first.message;

    // The downloader made a file-size limit an error (EFBIG), not a fatal signal.
    struct sigaction xfsz {};
    ASSERT_EQ(sigaction(SIGXFSZ, nullptr, &xfsz), 0);
    EXPECT_EQ(xfsz.sa_handler, SIG_IGN);

    file_result second;
    {
        file_size_limit limit(1024 * 1024);
        second = fetch(d, plan_for(jobs[1]), jobs[1], "orders");
    }
    EXPECT_EQ(second.reason, "disk_full") << second.message;
    EXPECT_NE(second.message.find("File too large"), std::string::npos) << second.message;
    EXPECT_FALSE(fs::exists(plan_for(jobs[1]).directory / second.file_name));
    // The partial holds exactly what was hashed and recorded: resumable once there is room.
    const auto partial = plan_for(jobs[1]).directory / (second.file_name + ".partial");
    EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(partial)),
              store->get_file(run_id, jobs[1].id).value()->bytes_done);
    // The verified neighbour is intact.
    EXPECT_EQ(file_sha1_on_disk(first.path), first.sha1);
    EXPECT_TRUE(store->get_file(run_id, jobs[0].id).value()->verified);
}

}  // namespace
}  // namespace atlas_restored::download::testing
