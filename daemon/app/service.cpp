#include "app/service.hpp"

#include "app/control_socket.hpp"
#include "app/log.hpp"
#include "app/notify.hpp"
#include "app/scheduling.hpp"
#include "cli/session.hpp"
#include "config/describe.hpp"
#include "config/loader.hpp"
#include "config/secrets.hpp"
#include "http/client.hpp"
#include "http/message.hpp"
#include "metrics/endpoint.hpp"
#include "metrics/metrics.hpp"
#include "metrics/prometheus.hpp"
#include "notify/notifier.hpp"
#include "runs/engine.hpp"
#include "state/store.hpp"
#include "util/heap.hpp"
#include "util/logging.hpp"
#include "util/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <unistd.h>
#include <vector>

namespace atlas_restored::app {

namespace asio = boost::asio;
using std::chrono::system_clock;

namespace {

// A timer waits at most this long before looking at the wall clock again, so a clock step (NTP,
// suspend) delays a fire by at most this much.
constexpr std::chrono::seconds max_timer_step{30};

// The completion handler of every co_spawn here: an exception escaping a task is a bug; say so
// instead of losing it (asio::detached would swallow it).
auto log_if_failed(std::string what) {
    return [what = std::move(what)](std::exception_ptr e) {
        if (!e) {
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            logger()->critical("{} stopped with an unexpected exception: {}", what, x.what());
        } catch (...) {
            logger()->critical("{} stopped with an unexpected exception", what);
        }
    };
}

// What decides whether a reload may keep an Atlas client: every setting it was built from and
// the secret itself (a rotated secret file needs a new client). The secret only enters a hash
// held in memory.
std::string client_fingerprint(const config::atlas_settings& s,
                               const config::retry_settings& retry,
                               const std::string& secret) {
    std::string f = s.base_url + "\n" + s.api_version + "\n";
    if (s.auth.service_account) {
        f += "sa:" + s.auth.service_account->client_id + ":" +
             config::describe(s.auth.service_account->client_secret);
    } else if (s.auth.api_key) {
        f += "key:" + s.auth.api_key->public_key + ":" + config::describe(s.auth.api_key->private_key);
    }
    f += "\n" + s.ca_file.value_or("(system)") + "\n" + std::to_string(s.request_timeout.count()) + "\n" +
         std::to_string(s.requests_per_minute) + "\n" + s.proxy.value_or("(env)") + "\n" +
         (s.proxy_credentials ? config::describe(*s.proxy_credentials) : std::string("-")) + "\n" +
         std::to_string(retry.initial.count()) + "/" + std::to_string(retry.multiplier) + "/" +
         std::to_string(retry.max.count()) + "/" + std::to_string(retry.give_up_after.count()) + "\n" +
         std::to_string(std::hash<std::string>{}(secret));
    return f;
}

const config::secret_ref* secret_of(const config::atlas_settings& s) {
    if (s.auth.service_account) {
        return &s.auth.service_account->client_secret;
    }
    if (s.auth.api_key) {
        return &s.auth.api_key->private_key;
    }
    return nullptr;
}

std::string join_problems(const std::vector<config::config_problem>& problems) {
    std::string text =
        std::to_string(problems.size()) + (problems.size() == 1 ? " problem: " : " problems: ");
    for (std::size_t i = 0; i < problems.size(); ++i) {
        text += (i ? "; " : "") + config::format_problem(problems[i]);
    }
    return text;
}

std::string origin_text(const runs::run_origin& o) {
    switch (o.type) {
        case runs::run_origin::kind::schedule:
            return "schedule (planned " +
                   (o.planned_at ? format_iso8601(*o.planned_at) : std::string("now")) + ")";
        case runs::run_origin::kind::trigger:
            return "trigger '" + o.trigger_value + "'";
        case runs::run_origin::kind::manual:
            return "run-now by " + (o.started_by.empty() ? std::string("unknown user") : o.started_by);
    }
    return "?";
}

struct client_slot {
    std::string fingerprint;
    std::unique_ptr<atlas::client> client;
};

struct schedule_slot {
    schedule_slot(asio::any_io_executor ex, std::string p, std::string k)
        : policy(std::move(p)), key(std::move(k)), timer(std::move(ex)) {}
    std::string policy;
    std::string key;  // schedule_key() it was started for
    asio::steady_timer timer;
    bool cancelled = false;
};

class service {
  public:
    service(asio::io_context& io,
            config::configuration configuration,
            std::filesystem::path state_dir,
            state::store& store,
            metrics::prometheus_recorder& metrics)
        : io_(io),
          config_(std::move(configuration)),
          digest_(config::config_digest(config_)),
          state_dir_(std::move(state_dir)),
          store_(store),
          metrics_(metrics),
          signals_(io, SIGHUP, SIGTERM, SIGINT),
          watchdog_timer_(io),
          status_timer_(io),
          shutdown_timer_(io),
          heartbeat_timer_(io),
          rng_(std::random_device{}()) {}

    ~service() {
        // The endpoint's thread reads members declared after it: stop it before they go.
        if (metrics_endpoint_) {
            metrics_endpoint_->stop();
        }
    }
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    result<void> start();

  private:
    // --- Atlas clients: one per profile ("" is atlas:), kept alive for the daemon's lifetime
    // because runs hold on to the client they started with.
    result<std::vector<std::pair<std::string, client_slot>>> build_changed_clients(
        const config::configuration& c);
    void install_clients(std::vector<std::pair<std::string, client_slot>> fresh);
    result<atlas::client> make_daemon_client(const config::atlas_settings& settings,
                                             const config::retry_settings& retry,
                                             const std::string& secret);
    atlas::client* client_for(const config::policy& p);
    // Webhooks (notify:): rebuilt at each reload; the old one finishes what it queued.
    result<std::unique_ptr<notify::notifier>> make_notifier(const config::configuration& c);
    void publish(config::notify_event kind, boost::json::object document);

    // --- when runs start
    void start_pending_triggers(const char* when);
    void fire_scheduled(const std::string& policy, system_clock::time_point planned, const char* why);
    bool has_unfinished_scheduled_run(const std::string& policy);
    void sync_schedules(bool at_startup);
    asio::awaitable<void> schedule_loop(std::shared_ptr<schedule_slot> slot);
    control_response handle_control(const control_request& request, const std::string& caller);

    // --- signals, reload, stop, systemd
    asio::awaitable<void> signal_loop();
    void reload();
    void refuse_reload(system_clock::time_point at, const std::string& why);
    void begin_shutdown(int signal_number);
    asio::awaitable<void> drain_notifications();
    void finish();
    asio::awaitable<void> watchdog_loop(std::chrono::microseconds every);
    asio::awaitable<void> status_loop();
    std::string status_line() const;
    void notify(const std::string& message);
    // /healthz: the loop must keep ticking and the database must take a write lock.
    asio::awaitable<void> heartbeat_loop();
    std::optional<std::string> health_problem() const;
    void probe_database();
    void publish_drill_max_ages();
    // The dead-man's switch must not read "never" after a restart: the last successful drill of
    // each policy comes from the state database.
    void seed_last_drills();
    // What `check --against-state` compares a new configuration with.
    void remember_configuration_in_force();

    asio::io_context& io_;
    config::configuration config_;
    std::string digest_;
    std::filesystem::path state_dir_;  // the one opened at start: a reload cannot move the database
    state::store& store_;
    metrics::prometheus_recorder& metrics_;
    std::unique_ptr<metrics::endpoint> metrics_endpoint_;
    std::map<std::string, client_slot> clients_;
    std::vector<std::unique_ptr<atlas::client>> retired_clients_;
    std::unique_ptr<notify::notifier> notifier_;
    std::chrono::steady_clock::time_point last_heap_release_{};
    std::unique_ptr<runs::engine> engine_;
    std::map<std::string, std::shared_ptr<schedule_slot>> schedules_;
    std::unique_ptr<control_server> control_;
    asio::signal_set signals_;
    asio::steady_timer watchdog_timer_;
    asio::steady_timer status_timer_;
    asio::steady_timer shutdown_timer_;
    asio::steady_timer heartbeat_timer_;
    // Read by the metrics endpoint's thread (/healthz), written by this loop.
    std::atomic<std::int64_t> last_heartbeat_ns_{std::chrono::steady_clock::now().time_since_epoch().count()};
    mutable std::mutex health_mutex_;
    std::optional<std::string> database_problem_;  // from the last write probe; under health_mutex_
    std::mt19937_64 rng_;
    bool stopping_ = false;
};

result<std::vector<std::pair<std::string, client_slot>>> service::build_changed_clients(
    const config::configuration& c) {
    const auto env = config::environment::from_process();
    std::vector<std::pair<std::string, const config::atlas_settings*>> wanted = {{"", &c.atlas}};
    for (const auto& p : c.profiles) {
        wanted.emplace_back(p.name, &p.atlas);
    }
    std::vector<std::pair<std::string, client_slot>> fresh;
    for (const auto& [name, settings] : wanted) {
        const auto* ref = secret_of(*settings);
        std::string secret;
        if (ref) {
            auto value = config::read_secret(*ref, env);
            if (!value) {
                auto e = value.error();
                e.message = (name.empty() ? std::string("atlas") : "profile " + name) + ": " + e.message;
                return e;
            }
            secret = std::move(*value);
        }
        auto fingerprint = client_fingerprint(*settings, c.retry, secret);
        const auto existing = clients_.find(name);
        if (existing != clients_.end() && existing->second.fingerprint == fingerprint) {
            continue;
        }
        auto client = make_daemon_client(*settings, c.retry, secret);
        if (!client) {
            auto e = client.error();
            e.message = (name.empty() ? std::string("atlas") : "profile " + name) + ": " + e.message;
            return e;
        }
        fresh.emplace_back(
            name, client_slot{std::move(fingerprint), std::make_unique<atlas::client>(std::move(*client))});
    }
    return fresh;
}

result<atlas::client> service::make_daemon_client(const config::atlas_settings& settings,
                                                  const config::retry_settings& retry,
                                                  const std::string& secret) {
    // Every Atlas answer is counted in atlas_restored_http_requests_total (the recorder is
    // thread-safe).
    return cli::make_atlas_client(
        io_.get_executor(), settings, retry, secret, [&recorder = metrics_](int status) {
            recorder.http_response(status);
        });
}

void service::install_clients(std::vector<std::pair<std::string, client_slot>> fresh) {
    for (auto& [name, slot] : fresh) {
        auto& current = clients_[name];
        if (current.client) {
            retired_clients_.push_back(std::move(current.client));
        }
        current = std::move(slot);
    }
}

atlas::client* service::client_for(const config::policy& p) {
    // A profile removed by a reload keeps its client: a run of it may still be in flight.
    const auto it = clients_.find(p.profile.value_or(""));
    return it == clients_.end() ? nullptr : it->second.client.get();
}

result<std::unique_ptr<notify::notifier>> service::make_notifier(const config::configuration& c) {
    const auto env = config::environment::from_process();
    // Webhooks leave through the same proxy as Atlas calls.
    std::optional<std::string> proxy_credentials;
    if (c.atlas.proxy_credentials) {
        auto value = config::read_secret(*c.atlas.proxy_credentials, env);
        if (!value) {
            return value.error();
        }
        proxy_credentials = std::move(*value);
    }
    auto proxy = http::choose_proxy(c.atlas.proxy, proxy_credentials, http::process_environment());
    if (!proxy) {
        return proxy.error();
    }
    notify::notifier_options options;
    options.retry.initial = c.retry.initial;
    options.retry.multiplier = c.retry.multiplier;
    options.retry.max = c.retry.max;
    options.retry.give_up_after = c.retry.give_up_after;
    return notify::notifier::create(io_.get_executor(), c.notify, std::move(*proxy), env, metrics_, options);
}

void service::publish(config::notify_event kind, boost::json::object document) {
    if (notifier_) {
        notifier_->publish(kind, std::move(document));
    }
}

result<void> service::start() {
    auto fresh = build_changed_clients(config_);
    if (!fresh) {
        return fresh.error();
    }
    install_clients(std::move(*fresh));
    auto notifier = make_notifier(config_);
    if (!notifier) {
        return notifier.error();
    }
    notifier_ = std::move(*notifier);
    if (notifier_->webhooks() > 0) {
        logger()->info("{} webhook{} configured (notify:)",
                       notifier_->webhooks(),
                       notifier_->webhooks() == 1 ? "" : "s");
    }

    runs::engine_options options;
    options.max_concurrent_runs = config_.max_concurrent_runs;
    options.download_dir = config_.download_dir;
    options.reports_dir = state_dir_ / "reports";
    options.config_digest = digest_;
    options.on_finished = [this](const state::run_record& run) {
        const bool ok = run.state == std::string(state::run_state::succeeded);
        publish(ok ? config::notify_event::succeeded : config::notify_event::failed,
                notify::run_finished_document(run));
        // What the runs freed goes back to the system, not only to malloc; at most once a minute
        // (with 10,000 runs finishing, a trim per run would cost more than it returns).
        if (const auto now = std::chrono::steady_clock::now();
            now - last_heap_release_ >= std::chrono::minutes(1)) {
            last_heap_release_ = now;
            release_free_heap();
        }
    };
    options.on_link_expiring = [this](const state::run_record& run,
                                      const std::string& job_id,
                                      const std::string& file,
                                      const std::string& expires) {
        publish(config::notify_event::link_expiring,
                notify::link_expiring_document(run.policy, run.id, job_id, file, expires));
    };
    engine_ = std::make_unique<runs::engine>(
        io_.get_executor(),
        store_,
        metrics_,
        [this](const config::policy& p) { return client_for(p); },
        std::move(options));

    asio::co_spawn(io_, signal_loop(), log_if_failed("the signal handler"));

    auto control = control_server::start(io_.get_executor(),
                                         state_dir_ / control_socket_name,
                                         [this](const control_request& request, const std::string& caller) {
                                             return handle_control(request, caller);
                                         });
    if (control) {
        control_ = std::move(*control);
    } else {
        // Schedules and triggers do not need it: keep running, say loudly that run-now will not work.
        logger()->error("{}; `atlas-restored run-now` will not reach this daemon",
                        to_string(control.error()));
    }

    if (config_.metrics_listen) {
        // Its own thread: /healthz must still answer (503) when this loop is stuck.
        auto endpoint = metrics::endpoint::start_threaded(
            *config_.metrics_listen,
            [this] { return metrics_.render(); },
            [this] { return health_problem(); });
        if (!endpoint) {
            return endpoint.error();
        }
        metrics_endpoint_ = std::move(*endpoint);
        logger()->info("metrics on http://{}/metrics, health on /healthz", *config_.metrics_listen);
    }
    asio::co_spawn(io_, heartbeat_loop(), log_if_failed("the health heartbeat"));
    publish_drill_max_ages();
    seed_last_drills();
    remember_configuration_in_force();

    engine_->resume_unfinished(config_);
    sync_schedules(true);
    start_pending_triggers("at start-up");
    metrics_.config_reloaded(true, system_clock::now());

    logger()->info("atlas-restored {} running: {} polic{} from {} (digest {}), state in {}",
                   ATLAS_RESTORED_VERSION,
                   config_.policies.size(),
                   config_.policies.size() == 1 ? "y" : "ies",
                   config_.main_file.string(),
                   digest_.substr(0, 12),
                   state_dir_.string());
    notify(ready_message(status_line()));
    if (const auto every = watchdog_ping_interval()) {
        asio::co_spawn(io_, watchdog_loop(*every), log_if_failed("the watchdog"));
    }
    asio::co_spawn(io_, status_loop(), log_if_failed("the status refresher"));
    return {};
}

// --- when runs start

void service::start_pending_triggers(const char* when) {
    const auto pending =
        pending_triggers(config_, [this](const std::string& policy, const std::string& value) {
            auto consumed = store_.is_trigger_consumed(policy, value);
            if (!consumed) {
                logger()->error(
                    "policy {}: cannot tell whether trigger '{}' already ran: {}; not starting it",
                    policy,
                    value,
                    to_string(consumed.error()));
                return true;
            }
            return *consumed;
        });
    for (const auto* p : pending) {
        runs::run_origin origin;
        origin.type = runs::run_origin::kind::trigger;
        origin.trigger_value = *p->trigger;
        auto id = engine_->start_run(*p, origin);
        if (id) {
            logger()->info("policy {}: run {} started by trigger '{}' ({})", p->name, *id, *p->trigger, when);
        } else if (id.error().code == errc::invalid_input) {
            logger()->info(
                "policy {}: trigger '{}' already ran; not starting it again", p->name, *p->trigger);
        } else {
            logger()->error("policy {}: trigger '{}' could not start a run: {}",
                            p->name,
                            *p->trigger,
                            to_string(id.error()));
        }
    }
}

bool service::has_unfinished_scheduled_run(const std::string& policy) {
    auto unfinished = store_.list_runs(true);
    if (!unfinished) {
        return false;
    }
    for (const auto& r : *unfinished) {
        if (r.policy == policy && r.trigger == "schedule") {
            return true;
        }
    }
    return false;
}

void service::fire_scheduled(const std::string& policy, system_clock::time_point planned, const char* why) {
    const auto* p = config::find_policy(config_, policy);
    if (p == nullptr || stopping_) {
        return;
    }
    // A drill still running when its next fire comes is not doubled: the fire is recorded as
    // handled and skipped.
    const bool busy = has_unfinished_scheduled_run(policy);
    std::string run_id;
    runs::run_origin origin;
    origin.type = runs::run_origin::kind::schedule;
    origin.planned_at = planned;
    // The fire is recorded and the run created in one transaction: a crash leaves either both
    // (the run resumes) or neither (the missed-fire rule decides at the next start).
    auto done = store_.in_transaction([&]() -> result<void> {
        if (auto r = store_.set_last_fire(policy, to_unix_millis(planned)); !r) {
            return r;
        }
        if (busy) {
            return {};
        }
        auto id = engine_->start_run(*p, origin);
        if (!id) {
            return id.error();
        }
        run_id = std::move(*id);
        return {};
    });
    if (!done) {
        logger()->error("policy {}: scheduled fire {} could not start a run: {}",
                        policy,
                        format_iso8601(planned),
                        to_string(done.error()));
    } else if (busy) {
        logger()->warn("policy {}: scheduled fire {} skipped: the previous scheduled run is still unfinished",
                       policy,
                       format_iso8601(planned));
    } else {
        logger()->info("policy {}: run {} started by {} ({})", policy, run_id, origin_text(origin), why);
    }
}

void service::sync_schedules(bool at_startup) {
    const auto now = system_clock::now();
    // Stop the timers of policies that are gone or whose timing changed.
    for (auto it = schedules_.begin(); it != schedules_.end();) {
        const auto* p = config::find_policy(config_, it->first);
        if (p == nullptr || schedule_key(*p) != it->second->key) {
            it->second->cancelled = true;
            it->second->timer.cancel();
            it = schedules_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& p : config_.policies) {
        const auto key = schedule_key(p);
        if (key.empty() || schedules_.count(p.name)) {
            continue;
        }
        auto last = store_.last_fire(p.name);
        if (!last) {
            logger()->error("policy {}: cannot read its last fire time: {}", p.name, to_string(last.error()));
        } else {
            std::optional<system_clock::time_point> last_fire;
            if (*last) {
                last_fire = from_unix_millis(**last);
            }
            const auto decision = decide_at_startup(p, last_fire, now);
            if (decision.record_baseline) {
                if (auto r = store_.set_last_fire(p.name, to_unix_millis(now)); !r) {
                    logger()->error(
                        "policy {}: cannot record its schedule baseline: {}", p.name, to_string(r.error()));
                }
            } else if (decision.run_missed) {
                fire_scheduled(p.name, *decision.run_missed, at_startup ? "missed while stopped" : "missed");
            }
        }
        auto slot = std::make_shared<schedule_slot>(io_.get_executor(), p.name, key);
        schedules_[p.name] = slot;
        asio::co_spawn(io_, schedule_loop(slot), log_if_failed("the schedule of policy " + p.name));
    }
}

asio::awaitable<void> service::schedule_loop(std::shared_ptr<schedule_slot> slot) {
    auto after = system_clock::now();
    while (!slot->cancelled && !stopping_) {
        const auto* p = config::find_policy(config_, slot->policy);
        if (p == nullptr) {
            co_return;
        }
        const auto planned = next_fire(*p, after);
        if (!planned) {
            logger()->warn("policy {}: schedule '{}' does not fire again", p->name, p->schedule->text());
            co_return;
        }
        const auto delay = jitter_delay(p->schedule_jitter, rng_());
        const auto fire_at = *planned + delay;
        logger()->debug(
            "policy {}: next fire {} (jitter {} ms)", p->name, format_iso8601(*planned), delay.count());
        for (;;) {
            const auto now = system_clock::now();
            if (now >= fire_at) {
                break;
            }
            const auto step = std::min<std::chrono::nanoseconds>(fire_at - now, max_timer_step);
            slot->timer.expires_after(step);
            co_await slot->timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (slot->cancelled || stopping_) {
                co_return;
            }
        }
        fire_scheduled(slot->policy, *planned, "on schedule");
        // Fires that passed while this one waited (a suspended host) are not replayed in a burst.
        after = std::max(*planned, system_clock::now());
    }
}

control_response service::handle_control(const control_request& request, const std::string& caller) {
    control_response response;
    if (request.command == "ping") {
        const auto s = engine_->summary();
        response.ok = true;
        response.extra["pid"] = static_cast<std::int64_t>(::getpid());
        response.extra["active_runs"] = s.active_runs;
        response.extra["queued_runs"] = s.queued_runs;
        response.extra["active_downloads"] = s.active_downloads;
        response.extra["download_bytes_done"] = s.download_bytes_done;
        response.extra["download_bytes_total"] = s.download_bytes_total;
        response.extra["config_digest"] = digest_;
        response.extra["stopping"] = stopping_;
        return response;
    }
    if (stopping_) {
        response.error = "the daemon is shutting down; start the run after it restarts";
        return response;
    }
    const auto* p = config::find_policy(config_, request.policy);
    if (p == nullptr) {
        response.error = "unknown policy '" + request.policy + "'";
        std::string best;
        std::size_t best_distance = 3;
        for (const auto& candidate : config_.policies) {
            const auto d = config::edit_distance(candidate.name, request.policy);
            if (d < best_distance) {
                best_distance = d;
                best = candidate.name;
            }
        }
        if (!best.empty()) {
            response.error += " (did you mean '" + best + "'?)";
        }
        logger()->warn("run-now by {}: {}", caller, response.error);
        return response;
    }
    runs::run_origin origin;
    origin.type = runs::run_origin::kind::manual;
    origin.started_by = caller;
    auto id = engine_->start_run(*p, origin);
    if (!id) {
        response.error = "policy " + p->name + ": " + to_string(id.error());
        logger()->error("run-now by {}: {}", caller, response.error);
        return response;
    }
    logger()->info("policy {}: run {} started by {}", p->name, *id, origin_text(origin));
    response.ok = true;
    response.run_id = *id;
    return response;
}

// --- signals, reload, stop

asio::awaitable<void> service::signal_loop() {
    for (;;) {
        auto [ec, signal_number] = co_await signals_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
        if (signal_number == SIGHUP) {
            if (stopping_) {
                logger()->info("SIGHUP ignored: the daemon is stopping");
            } else {
                reload();
            }
        } else if (!stopping_) {
            begin_shutdown(signal_number);
        } else {
            logger()->warn("{} again while stopping: exiting now; unfinished runs resume at the next start",
                           signal_number == SIGINT ? "SIGINT" : "SIGTERM");
            io_.stop();
        }
    }
}

void service::refuse_reload(system_clock::time_point at, const std::string& why) {
    logger()->error(
        "reload refused, the configuration in force (digest {}) stays: {}", digest_.substr(0, 12), why);
    if (auto r = store_.record_reload(false, to_unix_millis(at), why); !r) {
        logger()->error("cannot record the refused reload: {}", to_string(r.error()));
    }
    metrics_.config_reloaded(false, at);
    publish(config::notify_event::reload_failed, notify::reload_failed_document(why, digest_));
    notify(reload_failed_message(why));
}

void service::reload() {
    notify(reloading_message(monotonic_usec_now()));
    const auto now = system_clock::now();
    logger()->info("SIGHUP: reloading {}", config_.main_file.string());
    auto loaded = config::load_configuration(config_.main_file, now);
    if (!loaded) {
        for (const auto& problem : loaded.error()) {
            logger()->error("{}", config::format_problem(problem));
        }
        refuse_reload(now, join_problems(loaded.error()));
        return;
    }
    auto fresh = build_changed_clients(*loaded);
    if (!fresh) {
        refuse_reload(now, to_string(fresh.error()));
        return;
    }
    auto notifier = make_notifier(*loaded);
    if (!notifier) {
        refuse_reload(now, to_string(notifier.error()));
        return;
    }
    const auto diff =
        config::diff_configurations(config_, *loaded, [this](const std::string& p, const std::string& v) {
            auto consumed = store_.is_trigger_consumed(p, v);
            return consumed && *consumed;
        });
    if (loaded->state_dir != state_dir_) {
        logger()->warn("state_dir changed to {}: this daemon keeps using {} until it restarts",
                       loaded->state_dir.string(),
                       state_dir_.string());
    }
    if (loaded->metrics_listen != config_.metrics_listen) {
        logger()->warn("metrics_listen changed: it takes effect when the daemon restarts");
    }
    if (auto r = set_log_level(loaded->log_level); !r) {
        logger()->warn("log_level: {}", to_string(r.error()));
    }
    install_clients(std::move(*fresh));
    notifier_ = std::move(*notifier);
    config_ = std::move(*loaded);
    digest_ = config::config_digest(config_);
    publish_drill_max_ages();
    seed_last_drills();
    remember_configuration_in_force();
    engine_->configuration_changed(config_, digest_);
    sync_schedules(false);
    // One log line (and one reload record): the diff's lines joined.
    std::string summary = config::format_diff(diff);
    while (!summary.empty() && summary.back() == '\n') {
        summary.pop_back();
    }
    for (std::size_t at = summary.find('\n'); at != std::string::npos; at = summary.find('\n', at)) {
        summary.replace(at, 1, "; ");
    }
    logger()->info("configuration reloaded (digest {}): {}", digest_.substr(0, 12), summary);
    if (auto r = store_.record_reload(true, to_unix_millis(now), summary); !r) {
        logger()->error("cannot record the reload: {}", to_string(r.error()));
    }
    metrics_.config_reloaded(true, now);
    start_pending_triggers("after reload");
    notify(ready_message(status_line()));
}

void service::begin_shutdown(int signal_number) {
    stopping_ = true;
    logger()->info("{}: stopping; unfinished runs resume at the next start",
                   signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    notify(stopping_message());
    for (auto& [name, slot] : schedules_) {
        slot->cancelled = true;
        slot->timer.cancel();
    }
    if (control_) {
        control_->stop();
    }
    status_timer_.cancel();
    shutdown_timer_.expires_after(shutdown_budget);
    shutdown_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            logger()->warn("runs did not stop within {}s: exiting anyway; they resume at the next start",
                           shutdown_budget.count());
            io_.stop();
        }
    });
    asio::co_spawn(
        io_,
        [this]() -> asio::awaitable<void> {
            co_await engine_->shutdown();
            logger()->info("every run is stopped and saved");
            co_await drain_notifications();
            logger()->info("exiting");
            finish();
        },
        log_if_failed("the shutdown"));
}

asio::awaitable<void> service::drain_notifications() {
    if (!notifier_ || notifier_->idle()) {
        co_return;
    }
    logger()->info("waiting up to {}s for {} webhook notification(s) still being delivered",
                   notification_drain_budget.count(),
                   notifier_->pending());
    const auto until = std::chrono::steady_clock::now() + notification_drain_budget;
    asio::steady_timer tick(io_);
    while (!notifier_->idle() && std::chrono::steady_clock::now() < until) {
        tick.expires_after(std::chrono::milliseconds(50));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (!notifier_->idle()) {
        logger()->warn("{} webhook notification(s) not delivered before exiting", notifier_->pending());
    }
}

void service::finish() {
    if (notifier_) {
        notifier_->stop();
    }
    if (metrics_endpoint_) {
        metrics_endpoint_->stop();
    }
    heartbeat_timer_.cancel();
    shutdown_timer_.cancel();
    watchdog_timer_.cancel();
    status_timer_.cancel();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    // Idle keep-alive connections and other quiet work would keep run() busy: stop the loop.
    io_.stop();
}

asio::awaitable<void> service::watchdog_loop(std::chrono::microseconds every) {
    // Petted from the event loop itself: if the loop is stuck, the pings stop and systemd acts.
    for (;;) {
        notify(watchdog_message());
        watchdog_timer_.expires_after(every);
        auto [ec] = co_await watchdog_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
    }
}

asio::awaitable<void> service::status_loop() {
    while (!stopping_) {
        status_timer_.expires_after(status_refresh_interval);
        auto [ec] = co_await status_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || stopping_) {
            co_return;
        }
        probe_database();
        const auto s = engine_->summary();
        metrics_.active_runs(s.active_runs);
        metrics_.active_downloads(s.active_downloads);
        notify(status_message(status_line()));
    }
}

std::string service::status_line() const {
    return describe_summary(engine_->summary());
}

void service::notify(const std::string& message) {
    notify_systemd(message);
}

asio::awaitable<void> service::heartbeat_loop() {
    for (;;) {
        last_heartbeat_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
        heartbeat_timer_.expires_after(std::chrono::seconds(1));
        auto [ec] = co_await heartbeat_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
    }
}

std::optional<std::string> service::health_problem() const {
    // Called on the metrics endpoint's thread.
    const auto stalled = std::chrono::steady_clock::now().time_since_epoch() -
                         std::chrono::steady_clock::duration(last_heartbeat_ns_.load());
    if (stalled > std::chrono::seconds(10)) {
        return "event loop stalled for " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(stalled).count()) + "s";
    }
    std::lock_guard lock(health_mutex_);
    return database_problem_;
}

void service::probe_database() {
    // Taking the write lock proves the file is writable and not held by someone else; nothing is
    // written. Never inside another transaction: this runs from a timer, between handlers.
    auto r = store_.connection().exec("BEGIN IMMEDIATE; ROLLBACK;");
    std::lock_guard lock(health_mutex_);
    if (!r) {
        if (!database_problem_) {
            logger()->error("the state database is not writable: {}", to_string(r.error()));
        }
        database_problem_ = "state database not writable: " + to_string(r.error());
    } else {
        database_problem_.reset();
    }
}

void service::publish_drill_max_ages() {
    // A drill is overdue when its last success is older than one period, the jitter and the
    // deadline together: the dead-man's switch alert compares against this.
    const auto now = system_clock::now();
    std::map<std::string, std::chrono::seconds> ages;
    for (const auto& p : config_.policies) {
        if (!p.schedule) {
            continue;
        }
        const auto period = p.schedule->nominal_period(now, p.zone.get());
        ages[p.name] =
            period + std::chrono::duration_cast<std::chrono::seconds>(p.schedule_jitter + p.deadline);
    }
    metrics_.set_drill_max_ages(ages);
}

void service::seed_last_drills() {
    for (const auto& p : config_.policies) {
        auto last = store_.last_succeeded_drill_for_policy(p.name);
        if (!last) {
            logger()->warn(
                "policy {}: cannot read its last successful drill: {}", p.name, to_string(last.error()));
        } else if (*last && (*last)->finished_at) {
            metrics_.drill_succeeded(p.name, from_unix_millis(*(*last)->finished_at));
        }
    }
}

void service::remember_configuration_in_force() {
    auto snapshot = config::snapshot_of(config_);
    const state::configuration_record record{
        digest_, std::move(snapshot.sections), std::move(snapshot.policies)};
    if (auto r = store_.save_configuration_in_force(record); !r) {
        // Only `check --against-state` reads it: a failure costs that preview, not a run.
        logger()->warn("cannot record the configuration in force: {}", to_string(r.error()));
    }
}

}  // namespace

int run_daemon(const run_options& options, std::ostream& err) {
    // A peer that goes away must not kill the daemon with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    const auto now = system_clock::now();
    auto loaded = config::load_configuration(options.config_file, now);
    if (!loaded) {
        for (const auto& p : loaded.error()) {
            err << config::format_problem(p) << "\n";
        }
        err << options.config_file.string() << ": configuration is invalid (" << loaded.error().size()
            << " problem" << (loaded.error().size() == 1 ? "" : "s") << "): not starting\n";
        return 1;
    }
    log_options logging;
    logging.level = loaded->log_level;
    if (const auto format = parse_log_format(options.log_format)) {
        logging.format = *format;
    } else {
        err << "--log-format: '" << options.log_format << "' is not text or json\n";
        return 1;
    }
    if (auto r = configure_logging(logging); !r) {
        err << "log_level: " << to_string(r.error()) << "\n";
        return 1;
    }

    const auto state_dir = loaded->state_dir;
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) {
        err << "state_dir " << state_dir.string() << ": cannot create it: " << ec.message() << "\n";
        return 1;
    }
    // The lock before the database: a second daemon must not even migrate the first one's file.
    auto lock = state::state_dir_lock::acquire(state_dir);
    if (!lock) {
        err << "another atlas-restored is already running with state directory " << state_dir.string() << " ("
            << to_string(lock.error()) << "): not starting\n";
        return 1;
    }
    auto store = state::store::open(state_dir);
    if (!store) {
        err << to_string(store.error()) << ": not starting\n";
        return 1;
    }

    metrics::recorder_options metric_options;
    metric_options.sqlite_memory_bytes = [] { return state::memory_used(); };
    metric_options.heap_in_use_bytes = [] { return heap_in_use_bytes(); };
    metrics::prometheus_recorder metrics(metric_options);
    asio::io_context io;
    service daemon(io, std::move(*loaded), state_dir, *store, metrics);
    if (auto started = daemon.start(); !started) {
        err << to_string(started.error()) << ": not starting\n";
        return 1;
    }
    io.run();
    logger()->info("stopped");
    return 0;
}

}  // namespace atlas_restored::app
