#include "notify/notifier.hpp"

#include "http/client.hpp"
#include "http/message.hpp"
#include "runs/report.hpp"
#include "util/logging.hpp"
#include "util/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <mutex>
#include <random>

namespace atlas_restored::notify {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::system_clock;

namespace {

std::shared_ptr<spdlog::logger> log() {
    return module_logger("notify");
}

json::value string_or_null(const std::string& s) {
    if (s.empty()) {
        return nullptr;
    }
    return json::string(s);
}

json::object base_document(const char* event) {
    json::object doc;
    doc["event"] = event;
    doc["at"] = format_iso8601(system_clock::now(), true);
    return doc;
}

void set_summary(json::object& doc, const std::string& line) {
    doc["summary"] = line;
    doc["text"] = line;
}

// "job_broken" of "job_broken: the job …".
std::string reason_code(const std::string& error) {
    const auto colon = error.find(':');
    if (colon == std::string::npos) {
        return {};
    }
    return error.substr(0, colon);
}

}  // namespace

json::object run_finished_document(const state::run_record& run) {
    const bool ok = run.state == std::string(state::run_state::succeeded);
    auto doc = base_document(ok ? "succeeded" : "failed");
    doc["policy"] = run.policy;
    doc["run_id"] = run.id;
    doc["state"] = run.state;
    doc["reason"] = ok ? json::value(nullptr) : string_or_null(reason_code(run.error));
    doc["error"] = string_or_null(run.error);
    doc["trigger"] = run.trigger;
    doc["started_by"] = string_or_null(run.started_by);
    doc["config_digest"] = string_or_null(run.config_digest);
    doc["group_id"] = run.group_id;
    doc["cluster"] = run.cluster;
    doc["method"] = run.method;
    doc["snapshot_time"] = run.snapshot_time ? json::value(json::string(*run.snapshot_time)) : nullptr;
    doc["planned_at"] = runs::iso_time_or_null(run.planned_at);
    doc["started_at"] = runs::iso_time_or_null(run.created_at);
    doc["submitted_at"] = runs::iso_time_or_null(run.submitted_at);
    doc["ready_at"] = runs::iso_time_or_null(run.ready_at);
    doc["finished_at"] = runs::iso_time_or_null(run.finished_at);
    doc["timings_seconds"] = runs::run_timings(run);
    set_summary(doc, runs::summary_line(run));
    return doc;
}

json::object link_expiring_document(const std::string& policy,
                                    const std::string& run_id,
                                    const std::string& job_id,
                                    const std::string& file,
                                    const std::string& expires) {
    auto doc = base_document("link_expiring");
    doc["policy"] = policy;
    doc["run_id"] = run_id;
    doc["reason"] = nullptr;
    doc["job_id"] = job_id;
    doc["file"] = file;
    doc["expires"] = expires;
    set_summary(doc,
                "run " + run_id + " of policy " + policy + ": the download link of " + file + " expires at " +
                    expires + " and the file is not downloaded yet");
    return doc;
}

json::object reload_failed_document(const std::string& why, const std::string& digest_in_force) {
    auto doc = base_document("reload_failed");
    doc["policy"] = nullptr;
    doc["run_id"] = nullptr;
    doc["reason"] = "reload_failed";
    doc["error"] = why;
    doc["config_digest"] = digest_in_force;
    std::string line = "configuration reload refused; the configuration in force stays: " + why;
    for (auto& c : line) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    set_summary(doc, line);
    return doc;
}

std::string webhook_host(const std::string& url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->host().empty()) {
        return "(unreadable URL)";
    }
    return std::string(parsed->host_address());
}

struct queued_event {
    config::notify_event kind;
    std::string body;
    std::string label;  // "failed (policy p, run r)": for log lines
};

struct notifier::target_state : std::enable_shared_from_this<target_state> {
    target_state(asio::any_io_executor ex,
                 config::notify_target t,
                 http::https_client c,
                 config::environment e,
                 metrics::recorder& m,
                 notifier_options o,
                 std::string n)
        : executor(ex),
          target(std::move(t)),
          client(std::move(c)),
          env(std::move(e)),
          metrics(m),
          options(o),
          name(std::move(n)),
          timer(ex),
          random(std::random_device{}()) {}

    asio::any_io_executor executor;
    config::notify_target target;
    http::https_client client;
    config::environment env;
    metrics::recorder& metrics;
    notifier_options options;
    std::string name;  // "notify[0]"
    asio::steady_timer timer;
    std::mt19937_64 random;
    std::deque<queued_event> queue;
    bool running = false;
    bool stopped = false;
    notifier_stats stats;

    bool wants(config::notify_event kind) const {
        return std::find(target.on.begin(), target.on.end(), kind) != target.on.end();
    }

    void give_up(const queued_event& e, const std::string& host, const std::string& why) {
        ++stats.failed;
        metrics.notification_failed();
        log()->warn("{}: the {} notification to {} was not delivered: {}", name, e.label, host, why);
    }

    void push(queued_event e) {
        if (stopped) {
            return;
        }
        if (queue.size() >= options.max_queued) {
            give_up(e, "(webhook)", "the queue is full (" + std::to_string(options.max_queued) + " waiting)");
            return;
        }
        queue.push_back(std::move(e));
        if (!running) {
            running = true;
            asio::co_spawn(executor, worker(shared_from_this()), [](std::exception_ptr ex) {
                if (ex) {
                    try {
                        std::rethrow_exception(ex);
                    } catch (const std::exception& x) {
                        log()->critical("a webhook delivery stopped with an unexpected exception: {}",
                                        x.what());
                    } catch (...) {
                        log()->critical("a webhook delivery stopped with an unexpected exception");
                    }
                }
            });
        }
    }

    static asio::awaitable<void> worker(std::shared_ptr<target_state> self) {
        while (!self->queue.empty() && !self->stopped) {
            queued_event event = self->queue.front();
            self->queue.pop_front();
            co_await self->deliver(event);
        }
        self->running = false;
    }

    // One notification: attempts until a 2xx, a permanent refusal or the retry budget is spent.
    asio::awaitable<void> deliver(const queued_event& event) {
        // Read at each delivery: a rotated URL file takes effect without a reload.
        auto url = config::read_secret(target.url, env);
        if (!url) {
            give_up(event, "(webhook)", "cannot read the URL from " + config::describe(target.url));
            co_return;
        }
        std::string text = *url;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
            text.pop_back();
        }
        const std::string host = webhook_host(text);
        auto parsed = http::parse_https_url(text);
        if (!parsed) {
            // Not the URL itself (a secret), only where it came from.
            give_up(event,
                    host,
                    "the URL in " + config::describe(target.url) +
                        " is not a plain https:// URL (only https is used for webhooks)");
            co_return;
        }
        schedule::backoff backoff(
            options.retry, [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(random); });
        std::string last_problem;
        int made = 0;
        for (int attempt = 1; attempt <= options.max_attempts && !stopped; ++attempt) {
            http::request req;
            req.method = "POST";
            req.target = parsed->target;
            req.headers.push_back({"Content-Type", "application/json"});
            req.headers.push_back({"Accept", "*/*"});
            req.body = event.body;
            req.timeout = options.request_timeout;
            ++stats.attempts;
            ++made;
            auto answer = co_await client.send(parsed->where, std::move(req));
            bool retry = true;
            if (answer) {
                const int status = answer->status;
                if (status >= 200 && status < 300) {
                    ++stats.delivered;
                    log()->info("{}: {} notification delivered to {} (HTTP {}{})",
                                name,
                                event.label,
                                host,
                                status,
                                attempt > 1 ? ", attempt " + std::to_string(attempt) : std::string());
                    co_return;
                }
                last_problem = "HTTP " + std::to_string(status);
                retry = status >= 500 || status == 408 || status == 429;
            } else {
                last_problem = to_string(answer.error());
                retry = answer.error().code != errc::tls_failed &&
                        answer.error().code != errc::invalid_input &&
                        answer.error().code != errc::auth_failed;
            }
            if (!retry) {
                give_up(event, host, last_problem + " (not retried)");
                co_return;
            }
            if (attempt == options.max_attempts) {
                break;
            }
            const auto delay = backoff.next_delay(std::chrono::steady_clock::now());
            if (!delay) {
                break;
            }
            log()->debug("{}: {} notification to {} failed ({}); attempt {} in {} ms",
                         name,
                         event.label,
                         host,
                         last_problem,
                         attempt + 1,
                         std::chrono::duration_cast<std::chrono::milliseconds>(*delay).count());
            timer.expires_after(*delay);
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec || stopped) {
                break;
            }
        }
        give_up(event,
                host,
                stopped ? "the daemon is stopping"
                        : "gave up after " + std::to_string(made) + (made == 1 ? " attempt" : " attempts") +
                              "; last: " + last_problem);
    }
};

result<std::unique_ptr<notifier>> notifier::create(asio::any_io_executor executor,
                                                   const std::vector<config::notify_target>& targets,
                                                   std::optional<http::proxy_settings> proxy,
                                                   config::environment env,
                                                   metrics::recorder& metrics,
                                                   notifier_options options) {
    std::unique_ptr<notifier> n(new notifier());
    for (std::size_t i = 0; i < targets.size(); ++i) {
        http::client_options transport;
        transport.ca_file = targets[i].ca_file;
        transport.connect_timeout = options.connect_timeout;
        transport.request_timeout = options.request_timeout;
        transport.user_agent = std::string("atlas-restored/") + ATLAS_RESTORED_VERSION;
        transport.max_idle_per_origin = 2;
        transport.proxy = proxy;
        auto client = http::https_client::create(executor, std::move(transport));
        if (!client) {
            auto e = client.error();
            e.message = "notify[" + std::to_string(i) + "]: " + e.message;
            return e;
        }
        n->targets_.push_back(std::make_shared<target_state>(executor,
                                                             targets[i],
                                                             std::move(*client),
                                                             env,
                                                             metrics,
                                                             options,
                                                             "notify[" + std::to_string(i) + "]"));
    }
    return n;
}

notifier::~notifier() = default;

void notifier::publish(config::notify_event kind, json::object document) {
    if (targets_.empty()) {
        return;
    }
    std::string label = config::to_string(kind);
    if (const auto* policy = document.if_contains("policy"); policy && policy->is_string()) {
        label += " (policy " + std::string(policy->as_string());
        if (const auto* run = document.if_contains("run_id"); run && run->is_string()) {
            label += ", run " + std::string(run->as_string());
        }
        label += ")";
    }
    const std::string body = json::serialize(document);
    for (auto& t : targets_) {
        if (t->wants(kind)) {
            t->push(queued_event{kind, body, label});
        }
    }
}

void notifier::stop() {
    for (auto& t : targets_) {
        t->stopped = true;
        t->queue.clear();
        t->timer.cancel();
    }
}

bool notifier::idle() const {
    return pending() == 0;
}

std::size_t notifier::pending() const {
    std::size_t n = 0;
    for (const auto& t : targets_) {
        n += t->queue.size() + (t->running ? 1 : 0);  // running: one event is out of the queue, being sent
    }
    return n;
}

std::size_t notifier::webhooks() const {
    return targets_.size();
}

notifier_stats notifier::stats() const {
    notifier_stats total;
    for (const auto& t : targets_) {
        total.delivered += t->stats.delivered;
        total.failed += t->stats.failed;
        total.attempts += t->stats.attempts;
    }
    return total;
}

}  // namespace atlas_restored::notify
