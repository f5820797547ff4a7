#include "runs/engine.hpp"

#include "atlas/json.hpp"
#include "config/loader.hpp"
#include "download/after_download.hpp"
#include "download/disk.hpp"
#include "download/retention.hpp"
#include "runs/batch.hpp"
#include "runs/machine.hpp"
#include "runs/plan.hpp"
#include "runs/policy_codec.hpp"
#include "runs/queue.hpp"
#include "runs/report.hpp"
#include "schedule/rate_limiter.hpp"
#include "util/logging.hpp"
#include "util/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <unistd.h>

namespace atlas_restored::runs {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

std::shared_ptr<spdlog::logger> engine_log() {
    static auto logger = module_logger("runs");
    return logger;
}

constexpr const char* kill_at_variable = "ATLAS_RESTORED_TEST_KILL_AT";

std::int64_t now_millis() {
    return to_unix_millis(system_clock::now());
}

run_class class_of_trigger(std::string_view trigger) {
    return trigger == "schedule" ? run_class::drill : run_class::on_call;
}

// Failures of a read (snapshots, a poll) that another try may cure.
bool is_transient(const error& e) {
    switch (e.code) {
        case errc::connect_failed:
        case errc::timeout:
        case errc::connection_lost:
        case errc::rate_limited:
        case errc::bad_response:
            return true;
        case errc::http_status:
        case errc::atlas_error:
            return e.http_status == 0 || e.http_status == 429 || e.http_status >= 500;
        default:
            return false;
    }
}

// A create call's failure that proves nothing was created: Atlas refused it (a 4xx other than 429,
// refused credentials) or it never left (invalid input, TLS). Anything else may have created jobs.
bool create_refused(const error& e) {
    switch (e.code) {
        case errc::invalid_input:
        case errc::auth_failed:
        case errc::tls_failed:
            return true;
        case errc::http_status:
        case errc::atlas_error:
            return e.http_status >= 400 && e.http_status < 500 && e.http_status != 429;
        default:
            return false;
    }
}

bool is_rate_limit(const error& e) {
    return e.code == errc::rate_limited || e.http_status == 429;
}

state::job_record record_of(const atlas::restore_job& job,
                            const std::string& run_id,
                            int submission_no,
                            const std::optional<state::job_record>& before) {
    state::job_record r;
    r.run_id = run_id;
    r.job_id = job.id;
    r.submission_no = submission_no;
    r.batch_id = job.batch_id;
    r.status_name = job.status_name;
    if (!job.delivery_info.status_name.empty()) {
        r.delivery_status = job.delivery_info.status_name;
    }
    if (!job.delivery_info.method_name.empty()) {
        r.delivery_method = job.delivery_info.method_name;
    }
    r.expires = job.delivery_info.expires;
    r.max_downloads = job.delivery_info.max_downloads;
    r.created = job.created;
    if (!job.hashes.empty() && !job.hashes.front().file_name.empty()) {
        r.file_name = job.hashes.front().file_name;
    } else if (before) {
        r.file_name = before->file_name;
    }
    return r;
}

std::string describe_origin(const run_origin& o, const std::string& trigger) {
    switch (o.type) {
        case run_origin::kind::schedule:
            return o.planned_at ? "schedule, planned " + format_iso8601(*o.planned_at) : "schedule";
        case run_origin::kind::trigger:
            return "trigger " + trigger;
        case run_origin::kind::manual:
            return o.started_by.empty() ? "run-now" : "run-now by " + o.started_by;
    }
    return "?";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ", ") + i;
    }
    return out;
}

}  // namespace

// What the engine keeps in memory about an active run. The store is the truth; `run` is the
// record as last committed by this engine (the only writer).
struct run_context {
    std::string id;
    config::policy policy;
    run_class cls = run_class::drill;
    state::run_record run;
    std::shared_ptr<spdlog::logger> log;
    asio::cancellation_signal cancel;
    // The open intent was recorded by this process and no create has been sent for it since: the
    // create may go out without listing first. Every other case lists first.
    bool post_allowed = false;
    bool abandoned = false;     // crash_point said "die here"
    bool store_failed = false;  // a commit failed: retry the step after a pause
    unsigned failures = 0;      // consecutive failed calls (backoff)
    std::optional<system_clock::time_point> failing_since;
    std::map<std::string, std::string> job_status;  // job id → statusName, for the gauge
};

struct engine::impl : std::enable_shared_from_this<impl> {
    asio::any_io_executor executor;
    state::store& store;
    metrics::recorder& metrics;
    client_for_policy clients;
    engine_options options;
    std::shared_ptr<const config::configuration> config;
    schedule::rate_limiter_set limiter{schedule::rate_limit_config{}};
    std::set<std::string> configured_buckets;
    run_queue queue;
    std::map<std::string, std::shared_ptr<run_context>> active;
    std::map<std::pair<std::string, std::string>, download::download_progress> progress;
    std::set<std::string> known_job_statuses;
    // Jobs of the active runs by statusName, kept as statuses change: the gauge is published
    // after every poll, and counting over every run each time was quadratic in the runs.
    std::map<std::string, std::int64_t> job_status_counts;
    int downloads = 0;
    bool stopping = false;
    bool detached = false;  // the engine object is gone: never touch store or metrics again
    std::shared_ptr<asio::steady_timer> idle;   // shutdown() waits on it
    std::set<std::string> submitting_clusters;  // "group/cluster" with a run listing or creating

    // Releases a cluster when the submitting step ends, however it ends.
    struct cluster_claim {
        impl* owner;
        std::string key;
        cluster_claim(impl* o, std::string k) : owner(o), key(std::move(k)) {}
        cluster_claim(const cluster_claim&) = delete;
        cluster_claim& operator=(const cluster_claim&) = delete;
        ~cluster_claim() { owner->submitting_clusters.erase(key); }
    };
    std::mt19937_64 random{std::random_device{}()};

    impl(asio::any_io_executor ex,
         state::store& s,
         metrics::recorder& m,
         client_for_policy c,
         engine_options o)
        : executor(std::move(ex)), store(s), metrics(m), clients(std::move(c)), options(std::move(o)) {}

    bool halted(const run_context& ctx) const { return stopping || ctx.abandoned; }

    double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

    sys_time deadline_of(const run_context& ctx) const {
        return from_unix_millis(ctx.run.created_at.value_or(now_millis())) + ctx.policy.deadline;
    }

    bool crash(run_context& ctx, std::string_view point) {
        if (options.crash_point && options.crash_point(point, ctx.id)) {
            ctx.log->warn("abandoned at {} (test crash point)", point);
            ctx.abandoned = true;
        }
        // For the daemon's end-to-end tests: a real SIGKILL at a precise point of a run.
        if (const char* at = std::getenv(kill_at_variable); at != nullptr && point == at) {
            ctx.log->warn("{}={}: killing the process (test)", kill_at_variable, at);
            spdlog::default_logger()->flush();
            ::kill(::getpid(), SIGKILL);
        }
        return ctx.abandoned;
    }

    // ---- queue and slots

    void pump() {
        while (!stopping) {
            auto id = queue.next(static_cast<int>(active.size()), options.max_concurrent_runs);
            if (!id) {
                break;
            }
            launch(*id);
        }
    }

    void launch(const std::string& id) {
        if (active.contains(id)) {
            return;
        }
        auto record = store.get_run(id);
        if (!record || !*record) {
            engine_log()->error("run {} cannot be started: {}",
                                id,
                                record ? "it is not in the state database" : record.error().message);
            return;
        }
        auto ctx = std::make_shared<run_context>();
        ctx->id = id;
        ctx->run = std::move(**record);
        ctx->cls = class_of_trigger(ctx->run.trigger);
        ctx->log = run_logger(ctx->run.policy, id);
        if (is_final(parse_run_state(ctx->run.state).value_or(run_state::failed))) {
            return;
        }
        auto stored = store.get_run_policy(id);
        std::optional<config::policy> policy;
        std::string why;
        if (stored && *stored && !(*stored)->empty()) {
            auto parsed = policy_from_json(**stored);
            if (parsed) {
                policy = std::move(*parsed);
            } else {
                why = parsed.error().message;
            }
        } else if (!stored) {
            why = stored.error().message;
        }
        if (!policy && config) {
            if (const auto* p = config::find_policy(*config, ctx->run.policy)) {
                policy = *p;
            }
        }
        if (!policy) {
            ctx->policy.name = ctx->run.policy;
            ctx->policy.group_id = ctx->run.group_id;
            ctx->policy.cluster = ctx->run.cluster;
            ctx->policy.delivery.method = ctx->run.method;
            finish(*ctx,
                   false,
                   reason::preflight_failed,
                   "the run's policy settings are not stored with it and policy " + ctx->run.policy +
                       " is no longer configured" + (why.empty() ? "" : " (" + why + ")"));
            return;
        }
        ctx->policy = std::move(*policy);
        active.emplace(id, ctx);
        metrics.active_runs(static_cast<std::int64_t>(active.size()));
        auto self = shared_from_this();
        asio::co_spawn(executor,
                       run_task(self, ctx),
                       asio::bind_cancellation_slot(ctx->cancel.slot(), [self, ctx](std::exception_ptr e) {
                           self->on_run_exit(*ctx, e);
                       }));
    }

    void on_run_exit(run_context& ctx, std::exception_ptr e) {
        if (e && !stopping) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                ctx.log->error("the run's task ended unexpectedly ({}); it resumes at the next start",
                               ex.what());
            } catch (...) {
                ctx.log->error("the run's task ended unexpectedly; it resumes at the next start");
            }
        }
        if (active.contains(ctx.id)) {
            forget_job_statuses(ctx);
        }
        active.erase(ctx.id);
        std::erase_if(progress, [&](const auto& entry) { return entry.first.first == ctx.id; });
        if (detached) {
            return;
        }
        metrics.active_runs(static_cast<std::int64_t>(active.size()));
        publish_job_gauges();
        if (stopping) {
            if (active.empty() && idle) {
                idle->cancel();
            }
            return;
        }
        pump();
    }

    void set_job_status(run_context& ctx, const std::string& job_id, const std::string& status) {
        auto [it, inserted] = ctx.job_status.try_emplace(job_id, status);
        if (!inserted) {
            --job_status_counts[it->second];
            it->second = status;
        }
        ++job_status_counts[status];
        known_job_statuses.insert(status);
    }

    void forget_job_statuses(run_context& ctx) {
        for (const auto& [job, status] : ctx.job_status) {
            --job_status_counts[status];
        }
        ctx.job_status.clear();
    }

    void publish_job_gauges() {
        for (const auto& status : known_job_statuses) {
            metrics.jobs_by_status(status, job_status_counts[status]);
        }
    }

    // ---- waiting and rate limits

    // Sleeps, unless the run is halted; false when halted (before or during the pause).
    asio::awaitable<bool> pause(std::shared_ptr<run_context> ctx, milliseconds delay) {
        if (halted(*ctx)) {
            co_return false;
        }
        asio::steady_timer timer(executor);
        timer.expires_after(delay);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return !ec && !halted(*ctx);
    }

    std::string bucket_key(const config::policy& p) { return p.profile.value_or("") + "/" + p.group_id; }

    // One token of the policy's project bucket (shared by every run of that project and profile),
    // waited for if need be. On-call runs may use the bucket's reserve; drills may not.
    asio::awaitable<bool> take_token(std::shared_ptr<run_context> ctx) {
        const auto key = bucket_key(ctx->policy);
        if (!configured_buckets.contains(key)) {
            int per_minute = 100;
            if (config) {
                if (const auto* s = config::settings_for(*config, ctx->policy)) {
                    per_minute = s->requests_per_minute;
                }
            }
            schedule::rate_limit_config rl;
            rl.capacity = std::max(1, per_minute);
            rl.refill_per_minute = std::max(1, per_minute);
            limiter.configure(key, rl, steady_clock::now());
            configured_buckets.insert(key);
        }
        const auto p =
            ctx->cls == run_class::on_call ? schedule::priority::on_call : schedule::priority::drill;
        for (;;) {
            if (halted(*ctx)) {
                co_return false;
            }
            const auto wait = limiter.try_acquire(key, steady_clock::now(), p);
            if (!wait) {
                co_return true;
            }
            if (!co_await pause(ctx, std::chrono::ceil<milliseconds>(*wait) + milliseconds{1})) {
                co_return false;
            }
        }
    }

    void note_failure(run_context& ctx, const error& e) {
        if (is_rate_limit(e)) {
            limiter.penalize(
                bucket_key(ctx.policy), steady_clock::now(), e.retry_after.value_or(std::chrono::seconds(1)));
        }
        metrics.retry();
    }

    void note_success(run_context& ctx) {
        ctx.failures = 0;
        ctx.failing_since.reset();
    }

    enum class wait_result { retry, deadline, gave_up, halted };

    // After a failed call: full-jitter backoff (Retry-After a floor), then "retry". "deadline" when
    // the deadline comes first (after waiting until it), "gave_up" when `use_budget` and the
    // retry: give_up_after budget is spent.
    asio::awaitable<wait_result> back_off(std::shared_ptr<run_context> ctx, error e, bool use_budget) {
        note_failure(*ctx, e);
        const auto now = system_clock::now();
        if (!ctx->failing_since) {
            ctx->failing_since = now;
        }
        ++ctx->failures;
        if (use_budget && now - *ctx->failing_since >= options.retry.give_up_after) {
            co_return wait_result::gave_up;
        }
        const auto decision = next_poll(now,
                                        deadline_of(*ctx),
                                        ctx->policy.poll_interval,
                                        options.retry,
                                        ctx->failures,
                                        e.retry_after,
                                        random01());
        ctx->log->warn(
            "{} failed ({}); trying again in {} ms", "a call to Atlas", to_string(e), decision.delay.count());
        if (!co_await pause(ctx, decision.delay)) {
            co_return wait_result::halted;
        }
        co_return decision.deadline_reached ? wait_result::deadline : wait_result::retry;
    }

    // ---- committing

    // Commits `next` and, in the same transaction, `also`. Nothing is written for a halted run. On
    // a failure the run pauses and its step runs again from the stored state.
    bool commit(run_context& ctx,
                const state::run_record& next,
                const std::function<result<void>()>& also = {}) {
        if (halted(ctx)) {
            return false;
        }
        const auto from = parse_run_state(ctx.run.state);
        const auto to = parse_run_state(next.state);
        if (!from || !to) {
            ctx.log->error("unknown run state {} or {}", ctx.run.state, next.state);
            ctx.store_failed = true;
            return false;
        }
        if (*from != *to) {
            if (auto legal = check_transition(*from, *to); !legal) {
                ctx.log->error("refusing an illegal move: {}", legal.error().message);
                ctx.store_failed = true;
                return false;
            }
        }
        auto r = store.in_transaction([&]() -> result<void> {
            if (also) {
                if (auto a = also(); !a) {
                    return a;
                }
            }
            return store.update_run(next);
        });
        if (!r) {
            ctx.log->error("cannot save the run's state ({}); trying again shortly", r.error().message);
            ctx.store_failed = true;
            return false;
        }
        if (*from != *to) {
            ctx.log->info("{} -> {}", ctx.run.state, next.state);
        }
        ctx.run = next;
        return true;
    }

    void finish(run_context& ctx,
                bool ok,
                std::optional<reason> why,
                const std::string& message,
                const std::function<void(state::run_record&)>& also = {}) {
        auto next = ctx.run;
        next.state = ok ? to_string(run_state::succeeded) : to_string(run_state::failed);
        next.error = ok ? std::string() : format_error(why.value_or(reason::submit_failed), message);
        next.finished_at = now_millis();
        if (also) {
            also(next);
        }
        if (!commit(ctx, next)) {
            return;
        }
        const auto took = std::chrono::duration<double>(
            static_cast<double>(*next.finished_at - next.created_at.value_or(*next.finished_at)) / 1000.0);
        metrics.run_finished(
            ctx.run.policy, ok ? "succeeded" : to_string(why.value_or(reason::submit_failed)), took);
        if (ok && ctx.run.trigger != "schedule" && ctx.run.trigger != "manual") {
            // An on-call restore is not a drill: the dead-man's switch counts drills only.
        } else if (ok) {
            // The recorded finish time, as the seed from the database after a restart uses.
            metrics.drill_succeeded(ctx.run.policy, from_unix_millis(*next.finished_at));
        }
        write_report_of(ctx.run, ctx.log.get());
        if (ok) {
            ctx.log->info("{}", summary_line(ctx.run));
        } else {
            ctx.log->warn("{}", summary_line(ctx.run));
        }
        if (ok && needs_download(ctx.run.method)) {
            apply_retention(ctx);
        }
        if (options.on_finished) {
            options.on_finished(ctx.run);
        }
    }

    void write_report_of(const state::run_record& run, spdlog::logger* log) {
        if (options.reports_dir.empty()) {
            return;  // reports are off (commands and tests that do not set a state directory)
        }
        auto jobs = store.list_jobs(run.id);
        auto files = store.list_files(run.id);
        if (!jobs || !files) {
            log->error("cannot read the run's jobs for its report: {}",
                       (!jobs ? jobs.error() : files.error()).message);
            return;
        }
        if (auto w = write_report(options.reports_dir, run, build_report(run, *jobs, *files)); !w) {
            log->error("cannot write the run's report: {}", w.error().message);
        }
    }

    void apply_retention(run_context& ctx) {
        auto runs = store.list_runs_of_policy(ctx.run.policy);
        if (!runs) {
            ctx.log->error("retention skipped: {}", runs.error().message);
            return;
        }
        std::vector<std::string> verified;
        std::set<std::string> unfinished;
        for (auto it = runs->rbegin(); it != runs->rend(); ++it) {
            if (!state::is_final_run_state(it->state)) {
                unfinished.insert(it->id);
            } else if (it->state == std::string(state::run_state::succeeded) && needs_download(it->method)) {
                verified.push_back(it->id);
            }
        }
        auto deleted = download::apply_retention(
            options.download_dir / ctx.run.policy, ctx.policy.download.keep_last, verified, unfinished);
        if (!deleted) {
            ctx.log->error("retention: {}", deleted.error().message);
            return;
        }
        for (const auto& dir : *deleted) {
            ctx.log->info("retention: deleted {}", dir.string());
        }
    }

    // ---- the run

    static asio::awaitable<void> run_task(std::shared_ptr<impl> self, std::shared_ptr<run_context> ctx) {
        co_await self->drive(ctx);
    }

    asio::awaitable<void> drive(std::shared_ptr<run_context> ctx) {
        while (!halted(*ctx)) {
            const auto state = parse_run_state(ctx->run.state);
            if (!state) {
                ctx->log->error("the stored state '{}' is unknown; the run is left alone", ctx->run.state);
                co_return;
            }
            if (is_final(*state)) {
                co_return;
            }
            switch (*state) {
                case run_state::pending:
                    co_await do_pending(ctx);
                    break;
                case run_state::submitting:
                    co_await do_submitting(ctx);
                    break;
                case run_state::waiting:
                    co_await do_waiting(ctx);
                    break;
                case run_state::downloading:
                    co_await do_downloading(ctx);
                    break;
                case run_state::verifying:
                    co_await do_verifying(ctx);
                    break;
                default:
                    co_return;
            }
            if (ctx->store_failed && !halted(*ctx)) {
                ctx->store_failed = false;
                if (!co_await pause(ctx, milliseconds{2000})) {
                    co_return;
                }
                auto again = store.get_run(ctx->id);
                if (again && *again) {
                    ctx->run = std::move(**again);
                }
            }
        }
    }

    atlas::client* client_of(run_context& ctx) { return clients ? clients(ctx.policy) : nullptr; }

    error no_client(const run_context& ctx) {
        return make_error(errc::invalid_input,
                          "no Atlas client for " + (ctx.policy.profile ? "profile " + *ctx.policy.profile
                                                                       : std::string("atlas:")));
    }

    // pending → submitting: the pre-flight, the restore point resolved, the intent committed.
    asio::awaitable<void> do_pending(std::shared_ptr<run_context> ctx) {
        if (system_clock::now() >= deadline_of(*ctx)) {
            finish(*ctx,
                   false,
                   reason::deadline_exceeded,
                   "the policy's deadline passed before the run could start");
            co_return;
        }
        auto* client = client_of(*ctx);
        if (client == nullptr) {
            finish(*ctx, false, reason::preflight_failed, no_client(*ctx).message);
            co_return;
        }
        if (!co_await take_token(ctx)) {
            co_return;
        }
        // One call proves the credentials and the cluster, and gives the snapshots to resolve.
        auto snapshots = co_await client->list_snapshots(ctx->policy.group_id, ctx->policy.cluster);
        if (halted(*ctx)) {
            co_return;
        }
        if (!snapshots) {
            const auto& e = snapshots.error();
            const std::string what = "listing the snapshots of cluster " + ctx->policy.cluster +
                                     " in project " + ctx->policy.group_id + " failed: " + to_string(e);
            if (is_transient(e)) {
                const auto w = co_await back_off(ctx, e, true);
                if (w == wait_result::retry || w == wait_result::halted) {
                    co_return;
                }
                finish(*ctx,
                       false,
                       w == wait_result::deadline ? reason::deadline_exceeded : reason::preflight_failed,
                       what);
                co_return;
            }
            finish(*ctx, false, reason::preflight_failed, what);
            co_return;
        }
        note_success(*ctx);
        const auto now = system_clock::now();
        auto plan = plan_submission(ctx->policy, *snapshots, now);
        if (!plan) {
            finish(*ctx, false, reason::preflight_failed, plan.error().message);
            co_return;
        }
        if (needs_download(ctx->policy.delivery.method)) {
            const auto dir = options.download_dir / ctx->policy.name;
            auto free = download::free_bytes(dir);
            if (!free) {
                finish(*ctx, false, reason::preflight_failed, free.error().message);
                co_return;
            }
            if (auto problem = free_space_problem(plan->expected_bytes, *free, dir.string())) {
                finish(*ctx, false, reason::preflight_failed, *problem);
                co_return;
            }
        }
        auto next = ctx->run;
        next.state = to_string(run_state::submitting);
        next.snapshot_id = plan->snapshot_id;
        next.snapshot_time = plan->snapshot_time;
        next.restore_point_json = plan->restore_point_json;
        next.submissions = 1;
        const auto body = request_body_json(plan->request);
        const auto at = to_unix_millis(now);
        if (!commit(*ctx, next, [&] { return store.record_intent(ctx->id, 1, body, at); })) {
            co_return;
        }
        ctx->post_allowed = true;
        ctx->log->info("pre-flight passed: restoring {} of cluster {} ({}), intent recorded",
                       plan->restore_point_json,
                       ctx->policy.cluster,
                       ctx->policy.delivery.method);
        crash(*ctx, "intent_recorded");
    }

    // Lists the cluster's jobs and picks those the open intent's create may have made.
    asio::awaitable<result<std::vector<atlas::restore_job>>> reconcile(
        std::shared_ptr<run_context> ctx,
        atlas::client* client,
        atlas::create_restore_job_request request,
        sys_time intent_time) {
        auto listed =
            co_await client->list_restore_jobs(ctx->policy.group_id, ctx->policy.cluster, std::nullopt);
        if (!listed) {
            co_return listed.error();
        }
        std::optional<error> store_error;
        auto picked = pick_created_jobs(std::move(*listed),
                                        request,
                                        intent_time - client->settings().clock_skew,
                                        [&](const std::string& job_id) {
                                            auto owner = store.find_job_owner(job_id);
                                            if (!owner) {
                                                store_error = owner.error();
                                                return true;
                                            }
                                            return owner->has_value();
                                        });
        if (store_error) {
            co_return *store_error;
        }
        co_return picked;
    }

    // submitting → waiting: exactly one create per submission (SPEC §4).
    asio::awaitable<void> do_submitting(std::shared_ptr<run_context> ctx) {
        const int n = ctx->run.submissions;
        auto intent = store.get_intent(ctx->id, n);
        if (!intent) {
            ctx->log->error("cannot read the run's intent: {}", intent.error().message);
            ctx->store_failed = true;
            co_return;
        }
        if (!*intent) {
            finish(*ctx,
                   false,
                   reason::submit_failed,
                   "no intent was recorded for submission " + std::to_string(n));
            co_return;
        }
        if ((*intent)->resolved) {
            // The jobs were stored with the intent's resolution; only the state move is left.
            auto next = ctx->run;
            next.state = to_string(run_state::waiting);
            commit(*ctx, next);
            co_return;
        }
        // One run at a time lists and creates on a cluster: two runs of one policy send the same
        // request, and a listing must never hand one of them the other's job before it is stored.
        const auto cluster_key = ctx->policy.group_id + "/" + ctx->policy.cluster;
        if (submitting_clusters.contains(cluster_key)) {
            co_await pause(ctx, milliseconds{50});
            co_return;
        }
        submitting_clusters.insert(cluster_key);
        cluster_claim claim{this, cluster_key};
        auto request = parse_request_body_json((*intent)->request_body_json);
        if (!request) {
            finish(*ctx,
                   false,
                   reason::submit_failed,
                   "the stored create request is unreadable: " + request.error().message);
            co_return;
        }
        const auto intent_time = from_unix_millis((*intent)->created_at);
        if (system_clock::now() >= deadline_of(*ctx)) {
            finish(*ctx,
                   false,
                   reason::deadline_exceeded,
                   std::string("the policy's deadline passed before the restore job was submitted") +
                       (ctx->post_allowed
                            ? ""
                            : " (a create call may have reached Atlas: check the cluster's restore jobs)"));
            co_return;
        }
        auto* client = client_of(*ctx);
        if (client == nullptr) {
            if (co_await back_off(ctx, no_client(*ctx), false) == wait_result::deadline) {
                finish(*ctx, false, reason::deadline_exceeded, no_client(*ctx).message);
            }
            co_return;
        }

        if (!ctx->post_allowed) {
            // A create may have been sent before (a crash, an ambiguous failure): the listing decides.
            if (!co_await take_token(ctx)) {
                co_return;
            }
            auto found = co_await reconcile(ctx, client, *request, intent_time);
            if (halted(*ctx)) {
                co_return;
            }
            if (!found) {
                ctx->log->warn(
                    "cannot list the cluster's restore jobs to reconcile submission {} ({}); no create "
                    "is sent until a listing succeeds",
                    n,
                    to_string(found.error()));
                if (co_await back_off(ctx, found.error(), false) == wait_result::deadline) {
                    finish(*ctx,
                           false,
                           reason::deadline_exceeded,
                           "the deadline passed while reconciling submission " + std::to_string(n) + ": " +
                               to_string(found.error()));
                }
                co_return;
            }
            note_success(*ctx);
            if (!found->empty()) {
                ctx->log->info("the listing shows the create of submission {} reached Atlas: adopting it", n);
                adopt(*ctx, *found, n, true);
                co_return;
            }
            ctx->log->info("the listing proves submission {} created nothing: sending the create call", n);
        }

        // From here a create may be in flight: any later attempt lists first.
        ctx->post_allowed = false;
        if (!co_await take_token(ctx)) {
            co_return;
        }
        auto outcome = co_await client->create_restore_job(
            ctx->policy.group_id, ctx->policy.cluster, *request, intent_time);
        if (halted(*ctx) || crash(*ctx, "create_answered")) {
            co_return;
        }
        if (!outcome) {
            const auto& e = outcome.error();
            if (create_refused(e)) {
                finish(*ctx, false, reason::submit_failed, "Atlas refused the create call: " + to_string(e));
                co_return;
            }
            ctx->log->warn(
                "the outcome of the create call is unknown ({}); the cluster's jobs are listed before "
                "anything is sent again",
                to_string(e));
            if (co_await back_off(ctx, e, false) == wait_result::deadline) {
                finish(*ctx,
                       false,
                       reason::deadline_exceeded,
                       "the deadline passed while the create call's outcome was unknown: " + to_string(e));
            }
            co_return;
        }
        note_success(*ctx);
        auto jobs = std::move(outcome->jobs);
        std::vector<std::string> taken;
        for (const auto& j : jobs) {
            auto owner = store.find_job_owner(j.id);
            if (!owner || owner->has_value()) {
                taken.push_back(j.id);
            }
        }
        if (jobs.empty() || !taken.empty()) {
            ctx->log->warn("the create call {}; listing the cluster's jobs instead",
                           jobs.empty() ? "answered without a job"
                                        : "adopted jobs another run owns (" + join(taken) + ")");
            co_return;  // post_allowed is false: the next round reconciles
        }
        adopt(*ctx, jobs, n, outcome->adopted);
    }

    void adopt(run_context& ctx, const std::vector<atlas::restore_job>& jobs, int n, bool adopted) {
        auto next = ctx.run;
        next.state = to_string(run_state::waiting);
        next.batch_id = jobs.front().batch_id;
        if (!next.submitted_at) {
            next.submitted_at = now_millis();
        }
        std::vector<std::string> ids;
        for (const auto& j : jobs) {
            ids.push_back(j.id);
        }
        const bool ok = commit(ctx, next, [&]() -> result<void> {
            for (const auto& j : jobs) {
                if (auto r = store.upsert_job(record_of(j, ctx.id, n, std::nullopt)); !r) {
                    return r;
                }
            }
            return store.mark_intent_resolved(ctx.id, n, ids);
        });
        if (!ok) {
            return;
        }
        for (const auto& j : jobs) {
            set_job_status(ctx, j.id, j.status_name);
        }
        publish_job_gauges();
        ctx.log->info("{} {} restore job{} ({}){}",
                      adopted ? "adopted" : "submitted",
                      jobs.size(),
                      jobs.size() == 1 ? "" : "s",
                      join(ids),
                      next.batch_id ? ", batch " + *next.batch_id : "");
        crash(ctx, "jobs_stored");
    }

    result<std::vector<state::job_record>> current_jobs(const run_context& ctx) {
        auto all = store.list_jobs(ctx.id);
        if (!all) {
            return all.error();
        }
        std::erase_if(*all,
                      [&](const state::job_record& j) { return j.submission_no != ctx.run.submissions; });
        return std::move(*all);
    }

    // A poll's common part: the client, a rate-limit token, one listing of the run's jobs, their
    // states stored. std::nullopt when the caller should just return: halted, backing off after
    // an error, finished because the deadline passed while backing off (worded by
    // `deadline_message`), or a store failure.
    asio::awaitable<std::optional<std::vector<atlas::restore_job>>> refresh_jobs(
        std::shared_ptr<run_context> ctx,
        std::vector<state::job_record> stored,
        std::function<std::string(const error&)> deadline_message) {
        auto* client = client_of(*ctx);
        if (client == nullptr) {
            if (co_await back_off(ctx, no_client(*ctx), false) == wait_result::deadline) {
                finish(*ctx, false, reason::deadline_exceeded, no_client(*ctx).message);
            }
            co_return std::nullopt;
        }
        if (!co_await take_token(ctx)) {
            co_return std::nullopt;
        }
        auto fetched = co_await fetch_jobs(ctx, client, stored);
        if (halted(*ctx)) {
            co_return std::nullopt;
        }
        if (!fetched) {
            const auto e = fetched.error();
            if (co_await back_off(ctx, e, false) == wait_result::deadline) {
                finish(*ctx, false, reason::deadline_exceeded, deadline_message(e));
            }
            co_return std::nullopt;
        }
        note_success(*ctx);
        if (!store_jobs(*ctx, stored, *fetched)) {
            co_return std::nullopt;
        }
        co_return std::move(*fetched);
    }

    // One call per poll: the batch's listing (?batchId=) for a sharded restore, the job otherwise.
    asio::awaitable<result<std::vector<atlas::restore_job>>> fetch_jobs(
        std::shared_ptr<run_context> ctx, atlas::client* client, std::vector<state::job_record> stored) {
        const auto& group = ctx->policy.group_id;
        const auto& cluster = ctx->policy.cluster;
        std::optional<std::string> batch;
        for (const auto& j : stored) {
            if (j.batch_id) {
                batch = j.batch_id;
            }
        }
        if (batch) {
            auto listed = co_await client->list_restore_jobs(group, cluster, batch);
            if (!listed) {
                co_return listed.error();
            }
            std::erase_if(*listed, [&](const atlas::restore_job& j) {
                return std::none_of(
                    stored.begin(), stored.end(), [&](const auto& s) { return s.job_id == j.id; });
            });
            co_return std::move(*listed);
        }
        std::vector<atlas::restore_job> out;
        for (const auto& j : stored) {
            if (out.size() > 0 && !co_await take_token(ctx)) {
                co_return make_error(errc::cancelled, "stopped");
            }
            auto one = co_await client->get_restore_job(group, cluster, j.job_id);
            if (!one) {
                co_return one.error();
            }
            out.push_back(std::move(*one));
        }
        co_return out;
    }

    // Stores what a poll saw. False (and store_failed) if the store refused.
    bool store_jobs(run_context& ctx,
                    const std::vector<state::job_record>& stored,
                    const std::vector<atlas::restore_job>& fetched) {
        auto r = store.in_transaction([&]() -> result<void> {
            for (const auto& j : fetched) {
                std::optional<state::job_record> before;
                for (const auto& s : stored) {
                    if (s.job_id == j.id) {
                        before = s;
                    }
                }
                if (auto w = store.upsert_job(record_of(j, ctx.id, ctx.run.submissions, before)); !w) {
                    return w;
                }
            }
            return {};
        });
        if (!r) {
            ctx.log->error("cannot save the jobs' states: {}", r.error().message);
            ctx.store_failed = true;
            return false;
        }
        for (const auto& j : fetched) {
            set_job_status(ctx, j.id, j.status_name);
        }
        publish_job_gauges();
        return true;
    }

    // Fresh job reads (one call) merged over the stored states: jobs missing from the answer keep
    // their stored state.
    std::vector<job_state> merged_states(const std::vector<state::job_record>& stored,
                                         const std::vector<atlas::restore_job>& fetched) {
        std::vector<job_state> states;
        for (const auto& s : stored) {
            auto it =
                std::find_if(fetched.begin(), fetched.end(), [&](const auto& f) { return f.id == s.job_id; });
            states.push_back(it != fetched.end() ? job_state_of(*it) : job_state_of(s));
        }
        return states;
    }

    bool may_resubmit(const run_context& ctx) const {
        return ctx.policy.resubmit_on_expiry && ctx.run.submissions < options.max_submissions;
    }

    // A link expired unused and the policy allows it: a fresh job, through the same exactly-once
    // path, as submission n+1.
    void resubmit(run_context& ctx, const std::string& why) {
        const int n = ctx.run.submissions;
        auto intent = store.get_intent(ctx.id, n);
        if (!intent || !*intent) {
            finish(ctx, false, reason::link_expired, why + " (and the request to resubmit cannot be read)");
            return;
        }
        auto next = ctx.run;
        next.state = to_string(run_state::submitting);
        next.submissions = n + 1;
        next.batch_id.reset();
        next.ready_at.reset();
        const auto body = (*intent)->request_body_json;
        const auto at = now_millis();
        ctx.log->warn("{}; resubmit_on_expiry: submitting a fresh job (submission {} of at most {})",
                      why,
                      n + 1,
                      options.max_submissions);
        if (commit(ctx, next, [&] { return store.record_intent(ctx.id, n + 1, body, at); })) {
            ctx.post_allowed = true;
            forget_job_statuses(ctx);
        }
    }

    // waiting → downloading | succeeded | failed | submitting (resubmission).
    asio::awaitable<void> do_waiting(std::shared_ptr<run_context> ctx) {
        auto stored = current_jobs(*ctx);
        if (!stored) {
            ctx->log->error("cannot read the run's jobs: {}", stored.error().message);
            ctx->store_failed = true;
            co_return;
        }
        if (stored->empty()) {
            finish(*ctx,
                   false,
                   reason::submit_failed,
                   "no restore job is recorded for submission " + std::to_string(ctx->run.submissions));
            co_return;
        }
        // Named, not a temporary in the co_await expression (GCC 12 destroys those twice).
        const std::function<std::string(const error&)> deadline_message = [&](const error& e) {
            const auto states = merged_states(*stored, {});
            auto verdict = evaluate_batch(states, ctx->run.method, system_clock::now(), deadline_of(*ctx));
            return (verdict.why == reason::deadline_exceeded ? verdict.message
                                                             : std::string("the policy's deadline passed")) +
                   " (the last poll failed: " + to_string(e) + ")";
        };
        auto fetched = co_await refresh_jobs(ctx, *stored, deadline_message);
        if (!fetched) {
            co_return;
        }
        const auto now = system_clock::now();
        const auto states = merged_states(*stored, *fetched);
        const auto verdict = evaluate_batch(states, ctx->run.method, now, deadline_of(*ctx));
        switch (verdict.outcome) {
            case batch_outcome::keep_waiting: {
                const auto next_poll_at = next_poll(now,
                                                    deadline_of(*ctx),
                                                    ctx->policy.poll_interval,
                                                    options.retry,
                                                    0,
                                                    std::nullopt,
                                                    random01());
                co_await pause(ctx, next_poll_at.delay);
                co_return;
            }
            case batch_outcome::ready_to_download: {
                auto next = ctx->run;
                next.state = to_string(run_state::downloading);
                next.ready_at = to_unix_millis(now);
                if (commit(*ctx, next)) {
                    ctx->log->info("every delivery is READY ({} file{} to download)",
                                   states.size(),
                                   states.size() == 1 ? "" : "s");
                    crash(*ctx, "ready");
                }
                co_return;
            }
            case batch_outcome::succeeded:
                finish(*ctx, true, std::nullopt, {}, [&](state::run_record& r) {
                    r.ready_at = to_unix_millis(now);
                });
                co_return;
            case batch_outcome::failed:
                if (verdict.why == reason::link_expired && may_resubmit(*ctx)) {
                    resubmit(*ctx, verdict.message);
                } else {
                    finish(*ctx, false, verdict.why, verdict.message);
                }
                co_return;
        }
    }

    static asio::awaitable<result<atlas::restore_job>> reread(std::shared_ptr<impl> self,
                                                              std::shared_ptr<run_context> ctx,
                                                              atlas::client* client,
                                                              std::string job_id) {
        if (!co_await self->take_token(ctx)) {
            co_return make_error(errc::cancelled, "the run was stopped");
        }
        // Not `co_return co_await …`: GCC 12 resumes this frame after it ended when the awaited call's
        // string arguments are temporaries of the co_return expression (seen as SIGSEGV/SIGILL).
        auto got = co_await client->get_restore_job(ctx->policy.group_id, ctx->policy.cluster, job_id);
        co_return got;
    }

    // downloading → verifying: every job's file, downloaded and verified (download::downloader).
    asio::awaitable<void> do_downloading(std::shared_ptr<run_context> ctx) {
        auto stored = current_jobs(*ctx);
        if (!stored) {
            ctx->log->error("cannot read the run's jobs: {}", stored.error().message);
            ctx->store_failed = true;
            co_return;
        }
        // Fresh links for every job, in one call for a batch.
        const std::function<std::string(const error&)> deadline_message = [](const error& e) {
            return "the deadline passed before the files could be downloaded: " + to_string(e);
        };
        auto fetched = co_await refresh_jobs(ctx, *stored, deadline_message);
        if (!fetched) {
            co_return;
        }
        auto* client = client_of(*ctx);  // not null: refresh_jobs just used it
        auto self = shared_from_this();
        for (const auto& record : *stored) {
            auto job = std::find_if(
                fetched->begin(), fetched->end(), [&](const auto& j) { return j.id == record.job_id; });
            if (job == fetched->end()) {
                if (co_await back_off(
                        ctx,
                        make_error(errc::bad_response, "Atlas did not list restore job " + record.job_id),
                        false) == wait_result::deadline) {
                    finish(*ctx,
                           false,
                           reason::deadline_exceeded,
                           "restore job " + record.job_id + " could not be read before the deadline");
                }
                co_return;
            }
            if (system_clock::now() >= deadline_of(*ctx)) {
                finish(*ctx,
                       false,
                       reason::deadline_exceeded,
                       "the policy's deadline passed before every file was downloaded");
                co_return;
            }
            download::file_plan plan = options.download_defaults;
            plan.policy = ctx->policy.name;
            plan.run_id = ctx->id;
            plan.job_id = record.job_id;
            plan.directory = options.download_dir / ctx->policy.name / ctx->id;
            plan.max_file_bytes = ctx->policy.download.max_file_bytes;
            plan.delete_on_mismatch =
                ctx->policy.download.on_mismatch == config::mismatch_action::delete_file;
            auto weak = std::weak_ptr<impl>(self);
            plan.on_progress = [weak](const download::download_progress& p) {
                if (auto s = weak.lock()) {
                    if (p.done) {
                        s->progress.erase({p.run_id, p.job_id});
                    } else {
                        s->progress[{p.run_id, p.job_id}] = p;
                    }
                }
            };
            if (options.on_link_expiring) {
                plan.on_link_expiring = [weak, ctx, job_id = record.job_id](const std::string& file,
                                                                            const std::string& expires) {
                    if (auto s = weak.lock(); s && s->options.on_link_expiring) {
                        s->options.on_link_expiring(ctx->run, job_id, file, expires);
                    }
                };
            }
            const std::string job_id = record.job_id;
            download::reread_job_fn again = [self, ctx, client, job_id]() {
                return reread(self, ctx, client, job_id);
            };
            download::downloader downloader(client->transport(), store, metrics);
            ++downloads;
            auto got = co_await downloader.fetch(std::move(plan), *job, std::move(again));
            --downloads;
            progress.erase({ctx->id, record.job_id});
            if (got.interrupted || halted(*ctx)) {
                co_return;
            }
            if (!got.verified) {
                const auto why = parse_reason(got.reason).value_or(reason::delivery_failed);
                if (why == reason::link_expired && may_resubmit(*ctx)) {
                    resubmit(*ctx, got.message);
                } else {
                    finish(*ctx, false, why, got.message);
                }
                co_return;
            }
            ctx->log->info(
                "{} downloaded and verified ({} bytes, sha1 {})", got.file_name, got.bytes, got.sha1);
        }
        auto next = ctx->run;
        next.state = to_string(run_state::verifying);
        next.downloaded_at = now_millis();
        if (commit(*ctx, next)) {
            crash(*ctx, "downloaded");
        }
    }

    // verifying → succeeded: every file verified, then the after_download command on each.
    asio::awaitable<void> do_verifying(std::shared_ptr<run_context> ctx) {
        auto stored = current_jobs(*ctx);
        auto files = store.list_files(ctx->id);
        if (!stored || !files) {
            ctx->log->error("cannot read the run's files: {}",
                            (!stored ? stored.error() : files.error()).message);
            ctx->store_failed = true;
            co_return;
        }
        std::vector<std::filesystem::path> paths;
        for (const auto& job : *stored) {
            auto f = std::find_if(
                files->begin(), files->end(), [&](const auto& x) { return x.job_id == job.job_id; });
            if (f == files->end() || !f->verified) {
                finish(*ctx,
                       false,
                       reason::sha1_mismatch,
                       "the file of restore job " + job.job_id + " is not verified");
                co_return;
            }
            paths.push_back(options.download_dir / ctx->policy.name / ctx->id / f->file_name);
        }
        if (ctx->policy.after_download && !ctx->policy.after_download->command.empty()) {
            for (const auto& path : paths) {
                auto done = co_await download::run_after_download(
                    ctx->policy.after_download->command, path, ctx->policy.after_download->timeout);
                if (done.cancelled || halted(*ctx)) {
                    co_return;
                }
                if (!done.ok()) {
                    std::string tail = done.output_tail;
                    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) {
                        tail.pop_back();
                    }
                    if (auto nl = tail.rfind('\n'); nl != std::string::npos) {
                        tail = tail.substr(nl + 1);
                    }
                    finish(*ctx,
                           false,
                           reason::after_download_failed,
                           done.message + " on " + path.filename().string() +
                               (tail.empty() ? "" : " (last output: " + tail + ")"));
                    co_return;
                }
                ctx->log->info("after_download passed on {}: {}", path.filename().string(), done.message);
            }
        }
        finish(*ctx, true, std::nullopt, {});
    }

    // ---- start-up

    void write_missing_reports() {
        auto runs = store.list_runs();
        if (!runs) {
            return;
        }
        for (const auto& run : *runs) {
            if (!state::is_final_run_state(run.state)) {
                continue;
            }
            std::error_code ec;
            if (!std::filesystem::exists(report_path(options.reports_dir, run), ec) && !ec) {
                // Finished just before a crash: the state was committed, the report not yet written.
                write_report_of(run, engine_log().get());
            }
        }
    }

    void adopt_configuration(const config::configuration& c) {
        config = std::make_shared<const config::configuration>(c);
        options.max_concurrent_runs = c.max_concurrent_runs;
        options.retry.initial = c.retry.initial;
        options.retry.multiplier = c.retry.multiplier;
        options.retry.max = c.retry.max;
        options.retry.give_up_after = c.retry.give_up_after;
        configured_buckets.clear();  // re-read requests_per_minute (tokens are kept)
    }
};

engine::engine(asio::any_io_executor executor,
               state::store& store,
               metrics::recorder& metrics,
               client_for_policy clients,
               engine_options options)
    : impl_(std::make_shared<impl>(
          std::move(executor), store, metrics, std::move(clients), std::move(options))) {}

engine::~engine() {
    impl_->stopping = true;
    impl_->detached = true;
    impl_->queue = run_queue{};
    auto active = impl_->active;
    for (auto& [id, ctx] : active) {
        ctx->cancel.emit(asio::cancellation_type::terminal);
    }
}

result<std::string> engine::start_run(const config::policy& policy, run_origin origin) {
    auto& self = *impl_;
    if (self.stopping) {
        return make_error(errc::cancelled,
                          "the daemon is stopping: no new run of " + policy.name + " is started");
    }
    const auto now = now_millis();
    state::run_record run;
    run.id = state::make_run_id(now);
    run.policy = policy.name;
    std::string trigger_value;
    switch (origin.type) {
        case run_origin::kind::schedule:
            run.trigger = "schedule";
            break;
        case run_origin::kind::manual:
            run.trigger = "manual";
            break;
        case run_origin::kind::trigger:
            trigger_value = origin.trigger_value.empty() ? policy.trigger.value_or("") : origin.trigger_value;
            if (trigger_value.empty()) {
                return make_error(errc::invalid_input,
                                  "a trigger run of " + policy.name + " needs a trigger value");
            }
            run.trigger = trigger_value;
            break;
    }
    run.started_by = origin.started_by;
    if (origin.planned_at) {
        run.planned_at = to_unix_millis(*origin.planned_at);
    }
    run.state = to_string(run_state::pending);
    run.group_id = policy.group_id;
    run.cluster = policy.cluster;
    run.method = policy.delivery.method;
    {
        auto point = atlas::to_json(config::to_create_request(policy));
        point.erase("delivery");
        if (policy.point.kind == config::restore_point_kind::latest_snapshot) {
            point["latestSnapshot"] = true;  // resolved at run time, then replaced by the snapshot id
        }
        run.restore_point_json = boost::json::serialize(point);
    }
    run.config_digest = self.options.config_digest;
    run.created_at = now;
    const auto policy_json = policy_to_json(policy);
    bool consumed = false;
    auto written = self.store.in_transaction([&]() -> result<void> {
        if (origin.type == run_origin::kind::trigger) {
            auto fresh = self.store.insert_run_consuming_trigger(run, trigger_value);
            if (!fresh) {
                return fresh.error();
            }
            if (!*fresh) {
                consumed = true;
                return make_error(errc::invalid_input, "consumed");
            }
        } else if (auto r = self.store.insert_run(run); !r) {
            return r;
        }
        return self.store.set_run_policy(run.id, policy_json);
    });
    if (consumed) {
        return make_error(errc::invalid_input,
                          "trigger " + trigger_value + " of policy " + policy.name +
                              " has run already; change the value to run again");
    }
    if (!written) {
        return written.error();
    }
    const auto cls = class_of_trigger(run.trigger);
    run_logger(policy.name, run.id)
        ->info("created ({}); {}", describe_origin(origin, trigger_value), "waiting for a slot");
    self.queue.push(run.id, cls);
    self.pump();
    return run.id;
}

void engine::resume_unfinished(const config::configuration& current) {
    auto& self = *impl_;
    self.adopt_configuration(current);
    auto runs = self.store.list_runs(true);
    if (!runs) {
        engine_log()->error("cannot list the unfinished runs: {}", runs.error().message);
        return;
    }
    for (const auto& run : *runs) {
        if (self.active.contains(run.id) || self.queue.contains(run.id)) {
            continue;
        }
        run_logger(run.policy, run.id)->info("resuming from state {}", run.state);
        if (run.state == std::string(state::run_state::pending)) {
            self.queue.push(run.id, class_of_trigger(run.trigger));
        } else {
            // Past pending a run holds jobs at Atlas (or may): it goes on at once, slot or not.
            self.launch(run.id);
        }
    }
    self.write_missing_reports();
    self.pump();
}

void engine::configuration_changed(const config::configuration& next, std::string config_digest) {
    impl_->adopt_configuration(next);
    impl_->options.config_digest = std::move(config_digest);
    impl_->pump();
}

asio::awaitable<void> engine::shutdown() {
    auto self = impl_;
    self->stopping = true;
    self->queue = run_queue{};
    if (self->active.empty()) {
        co_return;
    }
    self->idle = std::make_shared<asio::steady_timer>(self->executor, steady_clock::time_point::max());
    auto idle = self->idle;
    auto active = self->active;
    engine_log()->info(
        "stopping {} run{}; each resumes at the next start", active.size(), active.size() == 1 ? "" : "s");
    for (auto& [id, ctx] : active) {
        ctx->cancel.emit(asio::cancellation_type::terminal);
    }
    while (!self->active.empty()) {
        auto [ec] = co_await idle->async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
    }
}

engine_summary engine::summary() const {
    engine_summary s;
    s.active_runs = static_cast<int>(impl_->active.size());
    s.queued_runs = static_cast<int>(impl_->queue.size());
    s.active_downloads = impl_->downloads;
    for (const auto& [key, p] : impl_->progress) {
        s.download_bytes_done += p.bytes_done;
        s.download_bytes_total += p.bytes_total.value_or(p.bytes_done);
    }
    return s;
}

bool engine::is_active(const std::string& run_id) const {
    return impl_->active.contains(run_id);
}

bool engine::is_queued(const std::string& run_id) const {
    return impl_->queue.contains(run_id);
}

}  // namespace atlas_restored::runs
