#include "cli/submit.hpp"

#include "atlas/client.hpp"
#include "atlas/json.hpp"
#include "atlas/protocol.hpp"
#include "atlas/redact.hpp"
#include "atlas/validation.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "config/loader.hpp"
#include "config/secrets.hpp"
#include "download/disk.hpp"
#include "download/downloader.hpp"
#include "metrics/metrics.hpp"
#include "state/store.hpp"
#include "util/units.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>
#include <ostream>
#include <unistd.h>

namespace atlas_restored::cli {
namespace asio = boost::asio;
namespace {

atlas::create_restore_job_request to_request(const submit_options& o) {
    atlas::create_restore_job_request r;
    r.snapshot_id = o.snapshot_id;
    r.checkpoint_id = o.checkpoint_id;
    r.oplog_ts = o.oplog_ts;
    r.oplog_inc = o.oplog_inc;
    r.point_in_time_utc_millis = o.point_in_time_utc_millis;
    r.delivery.method_name = o.method;
    r.delivery.expiration_hours = o.expiration_hours;
    r.delivery.max_downloads = o.max_downloads;
    r.delivery.target_group_id = o.target_group_id;
    r.delivery.target_cluster_name = o.target_cluster_name;
    r.delivery.target_cluster_id = o.target_cluster_id;
    return r;
}

// Flag names for the API's field names, so errors speak the user's language.
std::string flag_for(const std::string& field) {
    static const std::map<std::string, std::string> flags = {
        {"groupId", "--group-id"},
        {"clusterName", "--cluster"},
        {"snapshotId", "--snapshot-id"},
        {"checkpointId", "--checkpoint-id"},
        {"oplogTs", "--oplog-ts"},
        {"oplogInc", "--oplog-inc"},
        {"pointInTimeUTCMillis", "--point-in-time-utc-millis"},
        {"delivery.methodName", "--method"},
        {"delivery.expirationHours", "--expiration-hours"},
        {"delivery.maxDownloads", "--max-downloads"},
        {"delivery.targetGroupId", "--target-group-id"},
        {"delivery.targetClusterName", "--target-cluster-name"},
        {"delivery.targetClusterId", "--target-cluster-id"},
    };
    const auto found = flags.find(field);
    return found == flags.end() ? field : found->second + " (" + field + ")";
}

// The rules that do not depend on Atlas's answers; every problem is reported.
std::vector<std::string> validate_flags(const submit_options& o, sys_time now) {
    std::vector<std::string> problems;
    for (const auto& e : atlas::validate_target(o.group_id, o.cluster)) {
        problems.push_back(flag_for(e.field) + ": " + e.message);
    }
    auto request = to_request(o);
    if (o.latest_snapshot) {
        if (request.snapshot_id || request.checkpoint_id || request.oplog_ts || request.oplog_inc ||
            request.point_in_time_utc_millis) {
            problems.push_back("--latest-snapshot: cannot be combined with another restore point");
        }
        // Checked with a stand-in; the real id is resolved at run time.
        request.snapshot_id = "000000000000000000000000";
    }
    for (const auto& e : atlas::validate_create_request(request, now)) {
        problems.push_back(flag_for(e.field) + ": " + e.message);
    }
    if (o.method == atlas::delivery_method::automated_restore) {
        // AUTOMATED_RESTORE erases the target: the user repeats its name, as in policies.
        if (!o.confirm_overwrite) {
            problems.push_back(
                "--confirm-overwrite: required with AUTOMATED_RESTORE (it erases the target cluster); "
                "repeat the target cluster's name");
        } else if (!o.target_cluster_name) {
            problems.push_back(
                "--confirm-overwrite: needs --target-cluster-name to compare with (the target's name must be "
                "repeated exactly)");
        } else if (*o.confirm_overwrite != *o.target_cluster_name) {
            problems.push_back("--confirm-overwrite: '" + *o.confirm_overwrite +
                               "' does not equal the target cluster name '" + *o.target_cluster_name + "'");
        }
    } else if (o.confirm_overwrite) {
        problems.push_back("--confirm-overwrite: only meaningful with --method AUTOMATED_RESTORE");
    }
    return problems;
}

boost::json::value jobs_document(const std::vector<atlas::restore_job>& jobs, bool show_secrets) {
    boost::json::array results;
    for (const auto& job : jobs) {
        results.push_back(atlas::to_json(job));
    }
    boost::json::value document = boost::json::object{{"results", std::move(results)},
                                                      {"totalCount", static_cast<std::int64_t>(jobs.size())}};
    if (!show_secrets) {
        atlas::redact_secrets(document);
    }
    return document;
}

bool is_automated(const submit_options& o) {
    return o.method == atlas::delivery_method::automated_restore;
}

// A job is settled when it is terminal and its delivery is READY or final (automated restores have
// nothing to download: the job's own state is the answer).
bool job_settled(const atlas::restore_job& job, bool automated) {
    if (!atlas::is_terminal_job_status(job.status_name)) {
        return false;
    }
    if (automated || job.status_name != atlas::job_status::finished) {
        return true;
    }
    return atlas::is_terminal_delivery_status(job.delivery_info.status_name);
}

bool job_succeeded(const atlas::restore_job& job, bool automated) {
    if (job.status_name != atlas::job_status::finished) {
        return false;
    }
    return automated || job.delivery_info.status_name == atlas::delivery_status::ready;
}

std::string job_line(const atlas::restore_job& job) {
    return "job " + job.id + ": " + job.status_name + ", delivery " +
           (job.delivery_info.status_name.empty() ? "-" : job.delivery_info.status_name);
}

struct flow {
    const submit_options& options;
    std::ostream& out;
    std::ostream& err;
    atlas::client& client;
    bool redraw_progress = false;  // stderr is a terminal: one progress line, redrawn in place
    int exit_code = exit_failure;

    // Download progress while a file streams: on a terminal one line redrawn about once a second;
    // piped, a plain line every few seconds (so logs of long restores show they move).
    void show_progress(const download::download_progress& p,
                       std::chrono::steady_clock::time_point& last_line) {
        const std::string line =
            "job " + p.job_id + ": downloading " +
            progress_summary(p.bytes_done, p.bytes_total.value_or(0), p.bytes_per_second);
        if (redraw_progress) {
            err << "\r\033[K" << (p.done ? "" : line) << std::flush;
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (!p.done && now - last_line >= std::chrono::seconds(2)) {
            err << line << "\n";
            last_line = now;
        }
    }

    asio::awaitable<void> run() {
        auto request = to_request(options);
        if (options.latest_snapshot) {
            auto latest = co_await client.latest_snapshot(options.group_id, options.cluster);
            if (!latest) {
                err << "error: resolving the latest snapshot of " << options.cluster << ": "
                    << to_string(latest.error()) << "\n";
                co_return;
            }
            request.snapshot_id = latest->id;
            err << "latest completed snapshot of " << options.cluster << ": " << latest->id << "\n";
        }
        if (options.dry_run) {
            print_dry_run(request);
            exit_code = exit_ok;
            co_return;
        }
        const auto intent_time = std::chrono::system_clock::now();
        auto created =
            co_await client.create_restore_job(options.group_id, options.cluster, request, intent_time);
        if (!created) {
            err << "error: " << to_string(created.error()) << "\n";
            co_return;
        }
        if (created->adopted) {
            err << "the create's answer was lost; adopted the job(s) Atlas had created instead of sending it "
                   "again\n";
        }
        out << to_json_text(jobs_document(created->jobs, options.show_secrets), options.pretty) << std::endl;
        if (!options.wait) {
            exit_code = exit_ok;
            co_return;
        }
        auto final_jobs = co_await wait_for(created->jobs);
        if (!final_jobs) {
            err << "error: " << to_string(final_jobs.error()) << "\n";
            co_return;
        }
        out << to_json_text(jobs_document(*final_jobs, options.show_secrets), options.pretty) << std::endl;
        bool all_ok = true;
        for (const auto& job : *final_jobs) {
            all_ok = all_ok && job_succeeded(job, is_automated(options));
        }
        err << (all_ok ? "restore finished: every job FINISHED" : "restore failed") << "\n";
        exit_code = all_ok ? exit_ok : exit_failure;
        if (all_ok && options.download_to && !is_automated(options)) {
            exit_code = co_await download_all(*final_jobs) ? exit_ok : exit_failure;
        }
    }

    // Downloads and verifies every job's file into --download-to, as the daemon does: streamed,
    // SHA1 while streaming, resumed with Range after a cut, placed only when the hash matched.
    // The bookkeeping the downloader needs (attempts counted before each GET, progress) lives in a
    // private database under DIR/.atlas-restored-submit, removed when every file verified.
    asio::awaitable<bool> download_all(const std::vector<atlas::restore_job>& jobs) {
        const std::filesystem::path dir = *options.download_to;
        const auto bookkeeping = dir / ".atlas-restored-submit";
        auto store = state::store::open(bookkeeping);
        if (!store) {
            err << "error: " << to_string(store.error()) << "\n";
            co_return false;
        }
        state::run_record run;
        run.id = state::make_run_id(to_unix_millis(std::chrono::system_clock::now()));
        run.policy = "submit";
        run.trigger = "manual";
        run.state = "downloading";
        run.group_id = options.group_id;
        run.cluster = options.cluster;
        run.method = options.method;
        run.restore_point_json = "{}";
        if (auto inserted = store->insert_run(run); !inserted) {
            err << "error: " << to_string(inserted.error()) << "\n";
            co_return false;
        }
        metrics::null_recorder no_metrics;
        download::downloader fetcher(client.transport(), *store, no_metrics);
        bool all_verified = true;
        for (const auto& job : jobs) {
            state::job_record record;
            record.run_id = run.id;
            record.job_id = job.id;
            record.status_name = job.status_name;
            if (auto stored = store->upsert_job(record); !stored) {
                err << "error: " << to_string(stored.error()) << "\n";
                co_return false;
            }
            download::file_plan plan;
            plan.policy = run.policy;
            plan.run_id = run.id;
            plan.job_id = job.id;
            plan.directory = dir;
            plan.on_progress = [this, last_line = std::chrono::steady_clock::now()](
                                   const download::download_progress& p) mutable {
                show_progress(p, last_line);
            };
            const auto job_id = job.id;
            auto reread = [this, job_id]() {
                return client.get_restore_job(options.group_id, options.cluster, job_id);
            };
            const auto outcome = co_await fetcher.fetch(plan, job, reread);
            if (outcome.verified) {
                err << "verified " << outcome.path.string() << " (" << outcome.bytes << " bytes, sha1 "
                    << outcome.sha1 << ")\n";
            } else {
                err << "download of job " << job.id << " failed: " << outcome.reason << ": "
                    << outcome.message << "\n";
                all_verified = false;
            }
        }
        if (all_verified) {
            std::error_code ignored;
            std::filesystem::remove_all(bookkeeping, ignored);
        }
        co_return all_verified;
    }

    void print_dry_run(const atlas::create_restore_job_request& request) {
        const auto& settings = client.settings();
        auto built =
            atlas::build_create_restore_job(settings.api_options, options.group_id, options.cluster, request);
        out << "dry run: nothing was sent\n"
            << built.method << " https://" << http::to_string(settings.api) << built.target << "\n";
        for (const auto& h : built.headers) {
            out << h.name << ": " << h.value << "\n";
        }
        out << "Authorization: "
            << (settings.auth.type == atlas::credentials::kind::service_account
                    ? "Bearer REDACTED"
                    : "Digest username=\"" + settings.auth.id + "\", response=REDACTED")
            << "\n\n";
        out << to_json_text(boost::json::parse(built.body), true) << "\n";
    }

    asio::awaitable<result<std::vector<atlas::restore_job>>> wait_for(std::vector<atlas::restore_job> jobs) {
        const auto batch_id = jobs.empty() ? std::nullopt : jobs.front().batch_id;
        std::map<std::string, std::string> last_line;
        asio::steady_timer timer(co_await asio::this_coro::executor);
        const auto interval =
            std::chrono::milliseconds(static_cast<std::int64_t>(options.poll_interval_seconds * 1000));
        for (;;) {
            bool settled = true;
            for (const auto& job : jobs) {
                const auto line = job_line(job);
                if (last_line[job.id] != line) {
                    err << line << "\n";
                    last_line[job.id] = line;
                }
                settled = settled && job_settled(job, is_automated(options));
            }
            if (settled) {
                co_return jobs;
            }
            timer.expires_after(interval);
            co_await timer.async_wait(asio::use_awaitable);
            // A sharded batch is polled with one list call; a lone job with one get.
            if (batch_id) {
                auto listed = co_await client.list_restore_jobs(options.group_id, options.cluster, batch_id);
                if (!listed) {
                    co_return listed.error();
                }
                if (!listed->empty()) {
                    jobs = std::move(*listed);
                }
            } else {
                auto one =
                    co_await client.get_restore_job(options.group_id, options.cluster, jobs.front().id);
                if (!one) {
                    co_return one.error();
                }
                jobs = {std::move(*one)};
            }
        }
    }
};

}  // namespace

CLI::App* add_submit_command(CLI::App& app, submit_options& o) {
    auto* cmd = app.add_subcommand("submit", "Create one legacy restore job (like createClusterRestoreJob)");
    cmd->add_option("--config", o.config_file, "Configuration file (its atlas: section is used)");
    cmd->add_option("--group-id", o.group_id, "Project (group) id, 24 hex digits")->required();
    cmd->add_option("--cluster", o.cluster, "Cluster name")->required();
    // Restore points: the mutual exclusions are the seed's rules, checked with the others below.
    cmd->add_option("--snapshot-id", o.snapshot_id, "Snapshot to restore");
    cmd->add_option("--checkpoint-id", o.checkpoint_id, "Sharded checkpoint (AUTOMATED_RESTORE)");
    cmd->add_option("--oplog-ts", o.oplog_ts, "Oplog timestamp, ISO-8601 UTC");
    cmd->add_option("--oplog-inc", o.oplog_inc, "Oplog increment (>= 1), with --oplog-ts");
    cmd->add_option("--point-in-time-utc-millis", o.point_in_time_utc_millis, "Point in time (ms)");
    cmd->add_flag("--latest-snapshot", o.latest_snapshot, "Restore the newest completed snapshot");
    cmd->add_option("--method", o.method, "Delivery method: HTTP, AUTOMATED_RESTORE, CLIENT_PIT_HTTP")
        ->required();
    cmd->add_option("--target-group-id", o.target_group_id, "AUTOMATED_RESTORE target project");
    cmd->add_option("--target-cluster-name", o.target_cluster_name, "AUTOMATED_RESTORE target cluster");
    cmd->add_option("--target-cluster-id", o.target_cluster_id, "AUTOMATED_RESTORE target cluster id");
    cmd->add_option(
        "--confirm-overwrite", o.confirm_overwrite, "Repeat the target cluster's name (it is erased)");
    cmd->add_option("--expiration-hours", o.expiration_hours, "Hours the download link stays valid");
    cmd->add_option("--max-downloads", o.max_downloads, "How many times the link may be used");
    cmd->add_flag("--envelope", o.envelope, "Ask Atlas to wrap answers in an envelope");
    cmd->add_flag("--pretty", o.pretty, "Ask Atlas for, and print, indented JSON");
    cmd->add_flag("--wait", o.wait, "Poll until every job is terminal and every delivery READY or final");
    cmd->add_option(
           "--poll-interval", o.poll_interval_seconds, "Seconds between polls with --wait (default 5)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--download-to", o.download_to, "With --wait: download and verify every file into DIR");
    cmd->add_flag("--dry-run", o.dry_run, "Validate and print the request; send nothing that changes state");
    cmd->add_flag("--show-secrets", o.show_secrets, "Print authValue and download URLs unredacted");
    return cmd;
}

int run_submit(const submit_options& options, std::ostream& out, std::ostream& err) {
    const auto now = std::chrono::system_clock::now();
    const auto problems = validate_flags(options, now);
    if (!problems.empty()) {
        for (const auto& p : problems) {
            err << "invalid input: " << p << "\n";
        }
        err << "nothing was sent\n";
        return exit_invalid_input;
    }
    if (options.download_to && !options.wait) {
        err << "invalid input: --download-to: needs --wait (files exist only once the jobs are READY)\n";
        return exit_invalid_input;
    }
    auto loaded = config::load_configuration(options.config_file, now);
    if (!loaded) {
        for (const auto& p : loaded.error()) {
            err << config::format_problem(p) << "\n";
        }
        return exit_invalid_input;
    }
    asio::io_context io;
    auto client_settings = loaded->atlas;
    auto client = make_atlas_client(
        io.get_executor(), client_settings, loaded->retry, config::environment::from_process());
    if (!client) {
        err << "error: " << to_string(client.error()) << "\n";
        return client.error().code == errc::invalid_input ? exit_invalid_input : exit_failure;
    }
    // The query flags travel with every call of this command.
    auto api_options = client->settings().api_options;
    api_options.envelope = options.envelope;
    api_options.pretty = options.pretty;
    client->set_api_options(api_options);
    flow f{options, out, err, *client};
    f.redraw_progress = &err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
    asio::co_spawn(io, f.run(), [&](std::exception_ptr e) {
        if (e) {
            std::rethrow_exception(e);
        }
    });
    io.run();
    // What Atlas said about our budget (RateLimit-* headers), so a user can tell a busy project.
    const auto& limits = client->stats().last_rate_limit;
    if (limits.remaining) {
        err << "Atlas rate limit: " << *limits.remaining << " requests left"
            << (limits.limit ? " of " + std::to_string(*limits.limit) : std::string()) << "\n";
    }
    return f.exit_code;
}

}  // namespace atlas_restored::cli
