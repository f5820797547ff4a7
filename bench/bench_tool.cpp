// bench-tool: the measuring end of the benchmarks in bench/ (driven by bench/run). It links the
// daemon's own modules, so what it measures is the daemon's code, not a re-implementation:
//
//   bench-tool fetch  --api URL --ca F --group G --cluster C (--sa ID:S | --digest P:S) --job J --dir D
//       downloads and verifies job J's file with download::downloader (the daemon's downloader:
//       streamed, SHA-1 while streaming, attempt counted in SQLite, fsync + rename on a match) and
//       prints one JSON line: bytes, seconds, cpu seconds, peak RSS, verified, sha1.
//   bench-tool create --api URL --ca F --group G --cluster C (--sa ID:S | --digest P:S) [--max-downloads N]
//       creates one HTTP restore job, waits until it is READY, prints its id and links (JSON).
//   bench-tool api    --api URL --ca F --group G --cluster C (--sa ID:S | --digest P:S)
//                     [--creates N] [--polls N]
//       N creates and N polls (get_restore_job) through atlas::client, the daemon's client (keep-alive
//       pool, Digest nonce reuse, cached bearer token), then the fake's counters for exactly those
//       calls (the control API is not counted by the fake) and the client's own statistics.
//   bench-tool mkjobs --api … --targets FILE --count N
//       N restore jobs round-robin over the "group cluster policy" lines of FILE, without waiting.
//   bench-tool seed   --state-dir D [--finished N --policies N] [--jobs FILE]
//       fills a state database through state::store (the daemon's state module): N finished runs
//       (succeeded, with a job and a verified file each) over the policies bench-p0000 …, and one
//       unfinished run (state waiting) per job of FILE (mkjobs output).
//   bench-tool unfinished --state-dir D     the number of unfinished runs
//   bench-tool runs --state-dir D           "run state ready_at_ms job reason" per run

#include "atlas/client.hpp"
#include "download/downloader.hpp"
#include "http/client.hpp"
#include "metrics/metrics.hpp"
#include "state/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace atlas_restored;
using steady = std::chrono::steady_clock;

struct args {
    std::string mode;
    std::map<std::string, std::string> values;

    std::string get(const std::string& name, std::string fallback = {}) const {
        auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }
    long number(const std::string& name, long fallback) const {
        auto it = values.find(name);
        return it == values.end() ? fallback : std::stol(it->second);
    }
    std::string need(const std::string& name) const {
        auto it = values.find(name);
        if (it == values.end()) {
            std::cerr << "bench-tool " << mode << ": --" << name << " is required\n";
            std::exit(2);
        }
        return it->second;
    }
};

args parse(int argc, char** argv) {
    args a;
    if (argc < 2) {
        std::cerr << "usage: bench-tool fetch|api|seed --name value …\n";
        std::exit(2);
    }
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0 || i + 1 >= argc) {
            std::cerr << "bench-tool: bad argument " << k << "\n";
            std::exit(2);
        }
        a.values[k.substr(2)] = argv[++i];
    }
    return a;
}

double cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> task) {
    std::optional<T> out;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        failure = e;
        out = std::move(value);
    });
    io.run();
    io.restart();
    if (failure) {
        std::rethrow_exception(failure);
    }
    return std::move(*out);
}

struct session {
    http::origin api;
    std::string ca;
    std::optional<atlas::client> client;
};

session connect(asio::io_context& io, const args& a) {
    session s;
    auto url = http::parse_https_url(a.need("api"));
    if (!url) {
        std::cerr << "bench-tool: --api is not an https URL\n";
        std::exit(2);
    }
    s.api = url->where;
    s.ca = a.need("ca");
    http::client_options o;
    o.ca_file = s.ca;
    auto transport = http::https_client::create(io.get_executor(), o);
    if (!transport) {
        std::cerr << "bench-tool: " << transport.error().message << "\n";
        std::exit(1);
    }
    atlas::client_settings settings;
    settings.api = s.api;
    const std::string sa = a.get("sa");
    const std::string digest = a.get("digest");
    const std::string& pair = sa.empty() ? digest : sa;
    const auto colon = pair.find(':');
    if (pair.empty() || colon == std::string::npos) {
        std::cerr << "bench-tool: --sa ID:SECRET or --digest PUBLIC:PRIVATE is required\n";
        std::exit(2);
    }
    settings.auth.type =
        sa.empty() ? atlas::credentials::kind::api_key : atlas::credentials::kind::service_account;
    settings.auth.id = pair.substr(0, colon);
    settings.auth.secret = pair.substr(colon + 1);
    settings.retry.initial = std::chrono::milliseconds(200);
    s.client.emplace(std::move(*transport), std::move(settings));
    return s;
}

// The fake's control API on its own connection (not counted by the fake).
json::value control(asio::io_context& io,
                    const session& s,
                    const std::string& method,
                    const std::string& path) {
    http::client_options o;
    o.ca_file = s.ca;
    auto transport = http::https_client::create(io.get_executor(), o);
    if (!transport) {
        throw std::runtime_error(transport.error().message);
    }
    http::request req;
    req.method = method;
    req.target = path;
    auto answer = run_on(io, transport->send(s.api, std::move(req)));
    if (!answer) {
        throw std::runtime_error("control " + path + ": " + answer.error().message);
    }
    return answer->body.empty() ? json::value() : json::parse(answer->body);
}

int do_fetch(const args& a) {
    asio::io_context io;
    session s = connect(io, a);
    const std::string group = a.need("group");
    const std::string cluster = a.need("cluster");
    const std::string job_id = a.need("job");
    const std::filesystem::path dir = a.need("dir");

    auto store = state::store::open(dir / ".bench-state");
    if (!store) {
        std::cerr << "bench-tool: " << store.error().message << "\n";
        return 1;
    }
    state::run_record run;
    run.id = state::make_run_id(to_unix_millis(std::chrono::system_clock::now()));
    run.policy = "bench";
    run.trigger = "manual";
    run.state = state::run_state::downloading;
    run.group_id = group;
    run.cluster = cluster;
    run.method = "HTTP";
    run.restore_point_json = "{}";
    if (auto r = store->insert_run(run); !r) {
        std::cerr << "bench-tool: " << r.error().message << "\n";
        return 1;
    }
    state::job_record jr;
    jr.run_id = run.id;
    jr.job_id = job_id;
    jr.status_name = "FINISHED";
    if (auto r = store->upsert_job(jr); !r) {
        std::cerr << "bench-tool: " << r.error().message << "\n";
        return 1;
    }

    atlas::client& client = *s.client;
    auto job = run_on(io, client.get_restore_job(group, cluster, job_id));
    if (!job) {
        std::cerr << "bench-tool: reading job " << job_id << ": " << job.error().message << "\n";
        return 1;
    }
    metrics::null_recorder no_metrics;
    download::downloader fetcher(client.transport(), *store, no_metrics);
    download::file_plan plan;
    plan.policy = run.policy;
    plan.run_id = run.id;
    plan.job_id = job_id;
    plan.directory = dir;
    plan.hash_poll_initial = std::chrono::milliseconds(100);
    download::reread_job_fn reread = [&client, group, cluster, job_id]() {
        return client.get_restore_job(group, cluster, job_id);
    };

    const double cpu0 = cpu_seconds();
    const auto t0 = steady::now();
    auto outcome = run_on(io, fetcher.fetch(plan, *job, reread));
    const double seconds = std::chrono::duration<double>(steady::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;

    json::object o;
    o["verified"] = outcome.verified;
    o["bytes"] = outcome.bytes;
    o["seconds"] = seconds;
    o["cpu_seconds"] = cpu;
    o["peak_rss_kib"] = peak_rss_kib();
    o["sha1"] = outcome.sha1;
    o["attempts"] = outcome.attempts;
    o["reason"] = outcome.reason;
    o["path"] = outcome.path.string();
    std::cout << json::serialize(o) << std::endl;
    return outcome.verified ? 0 : 1;
}

// Creates one HTTP restore job of the latest snapshot and waits (bounded) until its delivery is
// READY; prints its id and links (secrets: for the curl baselines of the same run only).
int do_create(const args& a) {
    asio::io_context io;
    session s = connect(io, a);
    const std::string group = a.need("group");
    const std::string cluster = a.need("cluster");
    atlas::client& client = *s.client;
    auto snap = run_on(io, client.latest_snapshot(group, cluster));
    if (!snap) {
        std::cerr << "bench-tool: latest snapshot: " << snap.error().message << "\n";
        return 1;
    }
    atlas::create_restore_job_request req;
    req.snapshot_id = snap->id;
    req.delivery.method_name = "HTTP";
    req.delivery.max_downloads = static_cast<std::int32_t>(a.number("max-downloads", 10));
    auto created =
        run_on(io, client.create_restore_job(group, cluster, req, std::chrono::system_clock::now()));
    if (!created || created->jobs.empty()) {
        std::cerr << "bench-tool: create: " << (created ? "no job" : created.error().message) << "\n";
        return 1;
    }
    const std::string job_id = created->jobs.front().id;
    const auto deadline = steady::now() + std::chrono::seconds(a.number("wait-seconds", 120));
    for (;;) {
        auto job = run_on(io, client.get_restore_job(group, cluster, job_id));
        if (job && job->delivery_info.status_name == atlas::delivery_status::ready) {
            json::object o;
            o["job_id"] = job->id;
            o["url"] = job->delivery_info.url.value_or("");
            o["url_v2"] = job->delivery_info.url_v2.value_or("");
            o["auth_header"] = job->delivery_info.auth_header.value_or("");
            o["auth_value"] = job->delivery_info.auth_value.value_or("");
            std::cout << json::serialize(o) << std::endl;
            return 0;
        }
        if (steady::now() > deadline) {
            std::cerr << "bench-tool: job " << job_id << " did not become READY in time\n";
            return 1;
        }
        asio::steady_timer timer(io, std::chrono::milliseconds(100));
        timer.wait();
    }
}

int do_api(const args& a) {
    asio::io_context io;
    session s = connect(io, a);
    const std::string group = a.need("group");
    const std::string cluster = a.need("cluster");
    const long creates = a.number("creates", 100);
    const long polls = a.number("polls", 1000);
    std::optional<atlas::snapshot> snap;
    {
        // The snapshot is looked up with a client of its own, thrown away: the measured client below
        // starts cold (its first TLS handshake, token or Digest challenge is counted).
        session lookup = connect(io, a);
        auto found = run_on(io, lookup.client->latest_snapshot(group, cluster));
        if (!found) {
            std::cerr << "bench-tool: latest snapshot: " << found.error().message << "\n";
            return 1;
        }
        snap = std::move(*found);
        lookup.client->transport().close_idle_connections();
        io.run_for(std::chrono::milliseconds(50));
        io.restart();
    }
    control(io, s, "POST", "/_fake/reset-counters");
    atlas::client& client = *s.client;
    const auto before = client.stats();
    const double cpu0 = cpu_seconds();
    const auto t0 = steady::now();

    std::vector<std::string> job_ids;
    double create_seconds = 0;
    for (long i = 0; i < creates; ++i) {
        atlas::create_restore_job_request req;
        req.snapshot_id = snap->id;
        req.delivery.method_name = "HTTP";
        req.delivery.max_downloads = 1;
        auto created =
            run_on(io, client.create_restore_job(group, cluster, req, std::chrono::system_clock::now()));
        if (!created || created->jobs.empty()) {
            std::cerr << "bench-tool: create " << i << ": " << (created ? "no job" : created.error().message)
                      << "\n";
            return 1;
        }
        job_ids.push_back(created->jobs.front().id);
    }
    create_seconds = std::chrono::duration<double>(steady::now() - t0).count();
    const auto after_creates = client.stats();
    auto counters_creates = control(io, s, "GET", "/_fake/counters");
    const auto t1 = steady::now();
    for (long i = 0; i < polls; ++i) {
        auto job = run_on(
            io,
            client.get_restore_job(group, cluster, job_ids[static_cast<std::size_t>(i) % job_ids.size()]));
        if (!job) {
            std::cerr << "bench-tool: poll " << i << ": " << job.error().message << "\n";
            return 1;
        }
    }
    const double poll_seconds = std::chrono::duration<double>(steady::now() - t1).count();
    const double cpu = cpu_seconds() - cpu0;
    const auto after = client.stats();
    auto counters = control(io, s, "GET", "/_fake/counters");

    json::object o;
    o["auth"] = a.get("sa").empty() ? "digest" : "service_account";
    o["creates"] = creates;
    o["polls"] = polls;
    o["create_seconds"] = create_seconds;
    o["poll_seconds"] = poll_seconds;
    o["cpu_seconds"] = cpu;
    o["client_http_exchanges_creates"] = after_creates.http_exchanges - before.http_exchanges;
    o["client_http_exchanges_polls"] = after.http_exchanges - after_creates.http_exchanges;
    o["client_token_requests"] = after.token_requests - before.token_requests;
    o["client_retries"] = after.retries - before.retries;
    o["fake_after_creates"] = std::move(counters_creates);
    o["fake_after_all"] = std::move(counters);
    std::cout << json::serialize(o) << std::endl;
    return 0;
}

// Reads "job_id batch_id-or-dash group_id cluster policy" lines (what mkjobs prints).
struct job_line {
    std::string job_id, batch_id, group, cluster, policy;
};

std::vector<job_line> read_job_lines(const std::string& path) {
    std::vector<job_line> out;
    std::ifstream in(path);
    job_line j;
    while (in >> j.job_id >> j.batch_id >> j.group >> j.cluster >> j.policy) {
        out.push_back(j);
    }
    return out;
}

// Creates --count HTTP restore jobs round-robin over the "group cluster policy" lines of
// --targets (latest snapshot of each, looked up once), without waiting; prints one job_line each.
int do_mkjobs(const args& a) {
    asio::io_context io;
    session s = connect(io, a);
    const long count = a.number("count", 100);
    std::vector<std::array<std::string, 3>> targets;
    {
        std::ifstream in(a.need("targets"));
        std::array<std::string, 3> t;
        while (in >> t[0] >> t[1] >> t[2]) {
            targets.push_back(t);
        }
    }
    if (targets.empty()) {
        std::cerr << "bench-tool mkjobs: no targets\n";
        return 2;
    }
    atlas::client& client = *s.client;
    std::vector<std::string> snapshots;
    for (const auto& t : targets) {
        auto snap = run_on(io, client.latest_snapshot(t[0], t[1]));
        if (!snap) {
            std::cerr << "bench-tool: latest snapshot of " << t[0] << "/" << t[1] << ": "
                      << snap.error().message << "\n";
            return 1;
        }
        snapshots.push_back(snap->id);
    }
    for (long i = 0; i < count; ++i) {
        const auto k = static_cast<std::size_t>(i) % targets.size();
        const auto& t = targets[k];
        atlas::create_restore_job_request req;
        req.snapshot_id = snapshots[k];
        req.delivery.method_name = "HTTP";
        auto created =
            run_on(io, client.create_restore_job(t[0], t[1], req, std::chrono::system_clock::now()));
        if (!created || created->jobs.empty()) {
            std::cerr << "bench-tool: create " << i << ": " << (created ? "no job" : created.error().message)
                      << "\n";
            return 1;
        }
        const auto& j = created->jobs.front();
        std::cout << j.id << ' ' << j.batch_id.value_or("-") << ' ' << t[0] << ' ' << t[1] << ' ' << t[2]
                  << '\n';
    }
    std::cout.flush();
    return 0;
}

// Fills a state database through state::store (the daemon's state module, its schema and
// invariants): --finished N succeeded runs (a FINISHED job and a verified file each) spread over
// --policies policies bench-p0000 …, and, with --jobs FILE (mkjobs output), one unfinished run in
// state `waiting` per job, as a daemon leaves them when it stops while Atlas works.
int do_seed(const args& a) {
    const std::filesystem::path dir = a.need("state-dir");
    const long finished = a.number("finished", 0);
    const long policies = std::max(1L, a.number("policies", 1));
    const std::string group = a.get("group", "6a1b2c3d4e5f60718293a4b5");
    const std::string cluster = a.get("cluster", "bench-rs");
    const std::vector<job_line> jobs =
        a.values.count("jobs") ? read_job_lines(a.get("jobs")) : std::vector<job_line>{};
    std::filesystem::create_directories(dir);
    auto store = state::store::open(dir);
    if (!store) {
        std::cerr << "bench-tool: " << store.error().message << "\n";
        return 1;
    }
    const auto t0 = steady::now();
    const std::int64_t now_ms = to_unix_millis(std::chrono::system_clock::now());
    const std::int64_t base = now_ms - 1000LL * (finished + 3600);
    auto policy_name = [](long i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "bench-p%04ld", i);
        return std::string(buf);
    };
    const long total = finished + static_cast<long>(jobs.size());
    auto add = [&](long i) -> result<void> {
        const bool done = i < finished;
        state::run_record run;
        const std::int64_t at = done ? base + i * 1000 : now_ms - 60'000;
        run.id = state::make_run_id(at, static_cast<std::uint32_t>(i) & 0xffffffu);
        run.trigger = "schedule";
        run.method = "HTTP";
        run.restore_point_json = "{\"latest_snapshot\":true}";
        run.config_digest = "bench";
        run.planned_at = at;
        run.created_at = at;
        run.submitted_at = at + 100;
        run.submissions = 1;
        state::job_record job;
        job.run_id = run.id;
        job.submission_no = 1;
        if (done) {
            char job_id[32];
            std::snprintf(job_id, sizeof job_id, "6a%022lx", static_cast<unsigned long>(i));
            run.policy = policy_name(i % policies);
            run.group_id = group;
            run.cluster = cluster;
            run.state = state::run_state::succeeded;
            run.ready_at = at + 300'000;
            run.downloaded_at = at + 400'000;
            run.finished_at = at + 400'000;
            job.job_id = job_id;
            job.status_name = "FINISHED";
        } else {
            const job_line& j = jobs[static_cast<std::size_t>(i - finished)];
            run.policy = j.policy;
            run.group_id = j.group;
            run.cluster = j.cluster;
            run.state = state::run_state::waiting;
            if (j.batch_id != "-") {
                run.batch_id = j.batch_id;
                job.batch_id = j.batch_id;
            }
            job.job_id = j.job_id;
            job.status_name = "IN_PROGRESS";
        }
        if (auto r = store->insert_run(run); !r) {
            return r;
        }
        if (auto r = store->upsert_job(job); !r) {
            return r;
        }
        if (done) {
            state::file_record f;
            f.run_id = run.id;
            f.job_id = job.job_id;
            f.file_name = job.job_id + "-restore.tar.gz";
            f.state = state::file_state::verified;
            f.verified = true;
            f.bytes_done = 1 << 20;
            f.bytes_expected = 1 << 20;
            f.sha1_actual = std::string(40, 'a');
            f.sha1_expected = std::string(40, 'a');
            if (auto r = store->upsert_file(f); !r) {
                return r;
            }
        }
        return {};
    };
    long i = 0;
    while (i < total) {
        const long end = std::min(total, i + 5000);
        auto r = store->in_transaction([&]() -> result<void> {
            for (; i < end; ++i) {
                if (auto x = add(i); !x) {
                    return x;
                }
            }
            return {};
        });
        if (!r) {
            std::cerr << "bench-tool: seeding: " << r.error().message << "\n";
            return 1;
        }
    }
    json::object o;
    o["finished"] = finished;
    o["unfinished"] = jobs.size();
    o["seconds"] = std::chrono::duration<double>(steady::now() - t0).count();
    std::cout << json::serialize(o) << std::endl;
    return 0;
}

// The number of unfinished runs (read-only; works while the daemon runs).
int do_unfinished(const args& a) {
    auto store = state::store::open_read_only(a.need("state-dir"));
    if (!store) {
        std::cerr << "bench-tool: " << store.error().message << "\n";
        return 1;
    }
    auto runs = store->list_runs(true);
    if (!runs) {
        std::cerr << "bench-tool: " << runs.error().message << "\n";
        return 1;
    }
    std::cout << runs->size() << std::endl;
    return 0;
}

// Every run: "run_id state ready_at_ms(or -) first_job_id error" per line.
int do_runs(const args& a) {
    auto store = state::store::open_read_only(a.need("state-dir"));
    if (!store) {
        std::cerr << "bench-tool: " << store.error().message << "\n";
        return 1;
    }
    auto runs = store->list_runs(false);
    if (!runs) {
        std::cerr << "bench-tool: " << runs.error().message << "\n";
        return 1;
    }
    for (const auto& r : *runs) {
        auto jobs = store->list_jobs(r.id);
        std::string job = jobs && !jobs->empty() ? jobs->front().job_id : "-";
        std::cout << r.id << ' ' << r.state << ' ' << (r.ready_at ? std::to_string(*r.ready_at) : "-") << ' '
                  << job << ' ' << (r.error.empty() ? "-" : r.error.substr(0, r.error.find(':'))) << '\n';
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    const args a = parse(argc, argv);
    try {
        if (a.mode == "fetch") {
            return do_fetch(a);
        }
        if (a.mode == "create") {
            return do_create(a);
        }
        if (a.mode == "api") {
            return do_api(a);
        }
        if (a.mode == "seed") {
            return do_seed(a);
        }
        if (a.mode == "mkjobs") {
            return do_mkjobs(a);
        }
        if (a.mode == "unfinished") {
            return do_unfinished(a);
        }
        if (a.mode == "runs") {
            return do_runs(a);
        }
    } catch (const std::exception& e) {
        std::cerr << "bench-tool: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "bench-tool: unknown mode " << a.mode << "\n";
    return 2;
}
