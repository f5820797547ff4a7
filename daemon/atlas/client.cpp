#include "atlas/client.hpp"

#include "atlas/digest.hpp"
#include "atlas/oauth.hpp"
#include "atlas/protocol.hpp"
#include "util/logging.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace atlas_restored::atlas {
namespace asio = boost::asio;
namespace {

constexpr int items_per_page = 500;  // the API's maximum: fewest round trips
constexpr int max_reauthentications = 2;

std::shared_ptr<spdlog::logger> log() {
    return module_logger("atlas");
}

bool is_success(int status) {
    return status >= 200 && status < 300;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(delay);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

// Errors worth another try of an idempotent call. TLS failures are never retried: a certificate
// does not fix itself, and retrying would hide an attack.
bool is_retryable(const error& e) {
    switch (e.code) {
        case errc::connect_failed:
        case errc::timeout:
        case errc::connection_lost:
        case errc::rate_limited:
            return true;
        case errc::http_status:
        case errc::atlas_error:
            return e.http_status >= 500;
        default:
            return false;
    }
}

bool create_provably_not_applied(const error& e) {
    if (e.code == errc::connect_failed && !e.request_sent) {
        return true;
    }
    // Only the rate limiter's refusal proves nothing happened: Atlas meters a call before running
    // it. A 503 does not, with or without Retry-After: a gateway may answer it after the create took
    // effect (scripts/crash-torture found the duplicate this used to make).
    if (e.http_status == 503 && e.atlas_error_code.find("RATE_LIMITED") == std::string::npos) {
        return false;
    }
    return e.code == errc::rate_limited || e.http_status == 429;
}

bool create_ambiguous(const error& e) {
    if (e.request_sent && (e.code == errc::timeout || e.code == errc::connection_lost)) {
        return true;
    }
    return e.http_status >= 500 && !create_provably_not_applied(e);
}

bool job_matches_request(const restore_job& job,
                         const create_restore_job_request& request,
                         sys_time not_before) {
    if (!job.created) {
        return false;
    }
    const auto created = parse_iso8601(*job.created);
    if (!created || *created < not_before) {
        return false;
    }
    if (request.snapshot_id && job.snapshot_id != request.snapshot_id) {
        return false;
    }
    const auto& wanted = request.delivery;
    const auto& got = job.delivery_info;
    if (wanted.method_name == delivery_method::automated_restore) {
        // Atlas reports automated restores as HTTP deliveries: the target identifies them.
        if (wanted.target_group_id && got.target_group_id != wanted.target_group_id) {
            return false;
        }
        if (wanted.target_cluster_name && got.target_cluster_name != wanted.target_cluster_name) {
            return false;
        }
        if (wanted.target_cluster_id && got.target_cluster_id != wanted.target_cluster_id) {
            return false;
        }
        return got.target_group_id.has_value() || got.target_cluster_name.has_value() ||
               got.target_cluster_id.has_value() || got.method_name == delivery_method::automated_restore;
    }
    if (got.method_name != wanted.method_name) {
        return false;
    }
    return !got.target_cluster_name && !got.target_group_id;
}

struct client::impl {
    http::https_client http;
    client_settings settings;
    client_stats stats;
    token_cache tokens;
    digest_session digest;
    std::mt19937_64 random{std::random_device{}()};

    impl(http::https_client h, client_settings s) : http(std::move(h)), settings(std::move(s)) {}

    std::chrono::milliseconds backoff_delay(int attempt, const error& e) {
        const auto& policy = settings.retry;
        const double ceiling = std::min<double>(
            static_cast<double>(policy.max.count()),
            static_cast<double>(policy.initial.count()) * std::pow(policy.multiplier, attempt));
        std::uniform_real_distribution<double> jitter(0.0, ceiling);
        auto delay = std::chrono::milliseconds{static_cast<std::int64_t>(jitter(random))};
        if (e.retry_after) {
            delay = std::max<std::chrono::milliseconds>(delay, *e.retry_after);
        }
        return delay;
    }

    void remember_rate_limit(const http::response& answer) {
        auto info = http::read_rate_limit_headers(answer.headers, std::chrono::system_clock::now());
        if (info.limit || info.remaining || info.retry_after) {
            stats.last_rate_limit = info;
        }
    }

    // One token request at a time: while it is in flight, other callers wait for its outcome
    // instead of asking for tokens of their own (a thousand runs resuming at start-up would
    // otherwise ask for a thousand tokens, and Atlas limits token requests per client).
    struct token_fetch {
        explicit token_fetch(asio::any_io_executor ex) : done_signal(std::move(ex)) {
            done_signal.expires_at(asio::steady_timer::time_point::max());
        }
        asio::steady_timer done_signal;  // cancelled when the fetch ends: wakes every waiter
        bool done = false;
        std::optional<error> failure;
    };
    std::shared_ptr<token_fetch> token_in_flight;

    asio::awaitable<result<std::string>> bearer_token() {
        for (;;) {
            if (auto cached = tokens.token(std::chrono::steady_clock::now())) {
                co_return *cached;
            }
            if (!token_in_flight) {
                break;
            }
            const auto fetch = token_in_flight;  // named: it must outlive the wait
            boost::system::error_code ignored;
            co_await fetch->done_signal.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
            if (!fetch->done) {
                co_return make_error(errc::cancelled, "cancelled while waiting for an access token");
            }
            if (fetch->failure) {
                co_return *fetch->failure;
            }
        }
        const auto fetch = std::make_shared<token_fetch>(co_await asio::this_coro::executor);
        token_in_flight = fetch;
        auto fetched = co_await fetch_token();
        fetch->done = true;
        if (!fetched) {
            fetch->failure = fetched.error();
        }
        token_in_flight.reset();
        fetch->done_signal.cancel();
        co_return fetched;
    }

    asio::awaitable<result<std::string>> fetch_token() {
        ++stats.token_requests;
        ++stats.http_exchanges;
        auto answer =
            co_await http.send(settings.api, build_token_request(settings.auth.id, settings.auth.secret));
        if (!answer) {
            co_return answer.error();
        }
        auto token = parse_token_response(*answer);
        if (!token) {
            co_return token.error();
        }
        tokens.store(*token, std::chrono::steady_clock::now());
        co_return token->access_token;
    }

    // One call with credentials: a cached bearer token (refreshed once on a 401), or Digest with
    // the server's nonce reused and nc incremented (re-challenged when the nonce is stale).
    asio::awaitable<result<http::response>> send_authenticated(http::request req) {
        const bool service_account = settings.auth.type == credentials::kind::service_account;
        for (int round = 0;; ++round) {
            http::request attempt = req;
            if (service_account) {
                auto token = co_await bearer_token();
                if (!token) {
                    co_return token.error();
                }
                http::set_header(attempt.headers, "Authorization", "Bearer " + *token);
            } else if (digest.ready()) {
                http::set_header(attempt.headers,
                                 "Authorization",
                                 digest.authorization(attempt.method,
                                                      attempt.target,
                                                      settings.auth.id,
                                                      settings.auth.secret,
                                                      make_cnonce()));
            }
            ++stats.http_exchanges;
            auto answer = co_await http.send(settings.api, std::move(attempt));
            if (answer) {
                remember_rate_limit(*answer);
            }
            if (!answer || answer->status != 401 || round >= max_reauthentications) {
                if (answer && answer->status == 401) {
                    auto e = error_from_response(*answer, std::chrono::system_clock::now());
                    e.code = errc::auth_failed;
                    e.message = "Atlas refused the credentials of " + settings.auth.id;
                    co_return e;
                }
                co_return answer;
            }
            if (service_account) {
                // The token may have been revoked or expired early: fetch a new one, once.
                if (round > 0) {
                    co_return answer;
                }
                tokens.invalidate();
                continue;
            }
            const auto header = http::find_header(answer->headers, "WWW-Authenticate");
            if (!header) {
                co_return answer;
            }
            auto challenge = parse_digest_challenge(*header);
            if (!challenge) {
                co_return challenge.error();
            }
            // A rejected nonce that is not stale means the key itself was refused: one fresh
            // challenge is allowed (the first call has no nonce yet), then we give up.
            const bool had_nonce = digest.ready();
            if (had_nonce && !challenge->stale && round > 0) {
                co_return answer;
            }
            auto accepted = digest.accept_challenge(std::move(*challenge));
            if (!accepted) {
                co_return accepted.error();
            }
        }
    }

    // An idempotent call: transport errors, 5xx and 429 are retried with backoff and full jitter.
    asio::awaitable<result<http::response>> send_idempotent(http::request req) {
        const auto started = std::chrono::steady_clock::now();
        for (int attempt = 0;; ++attempt) {
            auto answer = co_await send_authenticated(req);
            if (answer && is_success(answer->status)) {
                co_return answer;
            }
            const error failure =
                answer ? error_from_response(*answer, std::chrono::system_clock::now()) : answer.error();
            const bool budget_left =
                attempt + 1 < settings.retry.max_attempts &&
                std::chrono::steady_clock::now() - started < settings.retry.give_up_after;
            if (!is_retryable(failure) || !budget_left) {
                co_return answer;  // the caller turns a non-2xx answer into its typed error
            }
            const auto delay = backoff_delay(attempt, failure);
            log()->warn("{} {} failed ({}); retrying in {} ms",
                        req.method,
                        http::redact_url(req.target),
                        to_string(failure),
                        delay.count());
            ++stats.retries;
            co_await sleep_for(delay);
        }
    }

    template <class T, class Parse>
    asio::awaitable<result<T>> get_parsed(http::request req, Parse parse) {
        ++stats.calls;
        auto answer = co_await send_idempotent(std::move(req));
        if (!answer) {
            co_return answer.error();
        }
        if (!is_success(answer->status) && !settings.api_options.envelope) {
            co_return error_from_response(*answer, std::chrono::system_clock::now());
        }
        co_return parse(*answer, settings.api_options);
    }

    template <class T, class Build, class Parse>
    asio::awaitable<result<std::vector<T>>> get_all_pages(Build build, Parse parse) {
        std::vector<T> all;
        int page_number = 1;
        for (int guard = 0; guard < 10'000; ++guard) {
            auto one = co_await get_parsed<page<T>>(build(page_number), parse);
            if (!one) {
                co_return one.error();
            }
            const auto next = next_page_number(*one, page_number, items_per_page);
            std::move(one->results.begin(), one->results.end(), std::back_inserter(all));
            if (!next) {
                co_return all;
            }
            page_number = *next;
        }
        co_return make_error(errc::bad_response, "the listing did not end after 10000 pages");
    }
};

client::client(http::https_client http, client_settings settings)
    : impl_(std::make_shared<impl>(std::move(http), std::move(settings))) {}

const client_stats& client::stats() const {
    return impl_->stats;
}

http::https_client& client::transport() {
    return impl_->http;
}

const client_settings& client::settings() const {
    return impl_->settings;
}

void client::set_api_options(api_settings options) {
    impl_->settings.api_options = std::move(options);
}

asio::awaitable<result<std::vector<restore_job>>> client::list_restore_jobs(
    std::string group_id, std::string cluster_name, std::optional<std::string> batch_id) {
    auto self = impl_;
    co_return co_await self->get_all_pages<restore_job>(
        [&](int page_number) {
            return build_list_restore_jobs(
                self->settings.api_options, group_id, cluster_name, batch_id, page_number, items_per_page);
        },
        [](const http::response& r, const api_settings& s) { return parse_restore_job_page(r, s); });
}

asio::awaitable<result<restore_job>> client::get_restore_job(std::string group_id,
                                                             std::string cluster_name,
                                                             std::string job_id) {
    auto self = impl_;
    co_return co_await self->get_parsed<restore_job>(
        build_get_restore_job(self->settings.api_options, group_id, cluster_name, job_id),
        [](const http::response& r, const api_settings& s) { return parse_restore_job(r, s); });
}

asio::awaitable<result<std::vector<snapshot>>> client::list_snapshots(std::string group_id,
                                                                      std::string cluster_name) {
    auto self = impl_;
    co_return co_await self->get_all_pages<snapshot>(
        [&](int page_number) {
            return build_list_snapshots(
                self->settings.api_options, group_id, cluster_name, page_number, items_per_page);
        },
        [](const http::response& r, const api_settings& s) { return parse_snapshot_page(r, s); });
}

asio::awaitable<result<std::vector<checkpoint>>> client::list_checkpoints(std::string group_id,
                                                                          std::string cluster_name) {
    auto self = impl_;
    co_return co_await self->get_all_pages<checkpoint>(
        [&](int page_number) {
            return build_list_checkpoints(
                self->settings.api_options, group_id, cluster_name, page_number, items_per_page);
        },
        [](const http::response& r, const api_settings& s) { return parse_checkpoint_page(r, s); });
}

asio::awaitable<result<snapshot>> client::latest_snapshot(std::string group_id, std::string cluster_name) {
    auto all = co_await list_snapshots(group_id, cluster_name);
    if (!all) {
        co_return all.error();
    }
    const snapshot* newest = nullptr;
    std::optional<sys_time> newest_time;
    for (const auto& s : *all) {
        if (!s.complete || !s.created) {
            continue;
        }
        const auto created = parse_iso8601(s.created->date);
        if (created && (!newest_time || *created > *newest_time)) {
            newest = &s;
            newest_time = created;
        }
    }
    if (newest == nullptr) {
        co_return make_error(errc::not_found, "cluster " + cluster_name + " has no completed snapshot");
    }
    co_return *newest;
}

asio::awaitable<result<std::vector<restore_job>>> client::find_created_jobs(
    std::string group_id, std::string cluster_name, create_restore_job_request request, sys_time not_before) {
    auto self = impl_;
    ++self->stats.reconciliations;
    auto all = co_await list_restore_jobs(group_id, cluster_name, std::nullopt);
    if (!all) {
        co_return all.error();
    }
    const auto earliest = not_before - self->settings.clock_skew;
    std::vector<restore_job> matches;
    for (auto& job : *all) {
        if (job_matches_request(job, request, earliest)) {
            matches.push_back(std::move(job));
        }
    }
    // A sharded create makes one batch: adopt the newest batch only, with every job in it.
    if (matches.size() > 1) {
        const auto newest =
            std::max_element(matches.begin(), matches.end(), [](const auto& a, const auto& b) {
                return parse_iso8601(a.created.value_or("")) < parse_iso8601(b.created.value_or(""));
            });
        const auto batch = newest->batch_id;
        const auto id = newest->id;
        std::erase_if(matches,
                      [&](const restore_job& j) { return batch ? j.batch_id != batch : j.id != id; });
    }
    co_return matches;
}

asio::awaitable<result<create_outcome>> client::create_restore_job(std::string group_id,
                                                                   std::string cluster_name,
                                                                   create_restore_job_request request,
                                                                   sys_time intent_time) {
    auto self = impl_;
    ++self->stats.calls;
    create_outcome outcome;
    for (int attempt = 0; attempt < self->settings.retry.max_attempts; ++attempt) {
        ++outcome.posts_sent;
        auto answer = co_await self->send_authenticated(
            build_create_restore_job(self->settings.api_options, group_id, cluster_name, request));
        error failure;
        if (answer && is_success(answer->status)) {
            auto created = parse_restore_job_page(*answer, self->settings.api_options);
            if (created) {
                outcome.jobs = std::move(created->results);
                co_return outcome;
            }
            failure = created.error();
            if (failure.http_status == 0) {
                // A 2xx we could not read: the job exists but we do not know it. Reconcile.
                failure.request_sent = true;
                failure.http_status = 500;
            }
        } else {
            failure =
                answer ? error_from_response(*answer, std::chrono::system_clock::now()) : answer.error();
        }

        if (create_provably_not_applied(failure)) {
            const auto delay = self->backoff_delay(attempt, failure);
            log()->warn("create restore job on {}/{} refused ({}); nothing was created, retrying in {} ms",
                        group_id,
                        cluster_name,
                        to_string(failure),
                        delay.count());
            ++self->stats.retries;
            co_await sleep_for(delay);
            continue;
        }
        if (!create_ambiguous(failure)) {
            co_return failure;
        }
        log()->warn("create restore job on {}/{} ended ambiguously ({}); listing the cluster's jobs first",
                    group_id,
                    cluster_name,
                    to_string(failure));
        auto found = co_await find_created_jobs(group_id, cluster_name, request, intent_time);
        if (!found) {
            error unknown = found.error();
            unknown.message = "could not tell whether the restore job was created (" + to_string(failure) +
                              "; listing failed: " + to_string(found.error()) + "); not sending it again";
            co_return unknown;
        }
        if (!found->empty()) {
            outcome.jobs = std::move(*found);
            outcome.adopted = true;
            co_return outcome;
        }
        const auto delay = self->backoff_delay(attempt, failure);
        log()->info("no restore job was created on {}/{}; sending the create again in {} ms",
                    group_id,
                    cluster_name,
                    delay.count());
        ++self->stats.retries;
        co_await sleep_for(delay);
    }
    co_return make_error(errc::http_status,
                         "create restore job gave up after " +
                             std::to_string(self->settings.retry.max_attempts) + " attempts");
}

}  // namespace atlas_restored::atlas
