#include "download/downloader.hpp"

#include "download/budget.hpp"
#include "download/disk.hpp"
#include "download/file_name.hpp"
#include "download/sha1_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace atlas_restored::download {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

// Largest error body kept from a refused download, for the message.
constexpr std::size_t error_body_limit = 2048;
constexpr auto hash_poll_max = std::chrono::milliseconds(10'000);

std::shared_ptr<spdlog::logger> log() {
    static const std::shared_ptr<spdlog::logger> instance = [] {
        if (auto existing = spdlog::get("download")) {
            return existing;
        }
        auto created = spdlog::default_logger()->clone("download");
        spdlog::register_logger(created);
        return created;
    }();
    return instance;
}

bool is_cancelled(const asio::cancellation_state& cs) {
    return cs.cancelled() != asio::cancellation_type::none;
}

// What may be logged of a delivery link: its host and file name. The deprecated `url` carries the
// key in its path, so even redact_url's "path without the query" is too much.
std::string describe_link(std::string_view url) {
    auto parsed = http::parse_https_url(url);
    if (!parsed) {
        return "(unusable link)";
    }
    std::string_view path = parsed->target;
    path = path.substr(0, path.find_first_of("?#"));
    const auto slash = path.rfind('/');
    return "https://" + http::to_string(parsed->where) + "/…/" +
           printable_name(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string lower(std::string s) {
    std::transform(
        s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

// Work that blocks (re-hashing a partial file of any size) runs on its own thread; the result is
// posted back to the coroutine's executor, which is kept busy meanwhile.
template <class T>
asio::awaitable<T> off_thread(std::function<T()> work) {
    auto executor = co_await asio::this_coro::executor;
    // Named, not a temporary inside the co_await (see the GCC 12 note at the re-hash below).
    auto initiate = [executor](auto handler, std::function<T()> job) {
        auto tracked = asio::prefer(executor, asio::execution::outstanding_work.tracked);
        std::thread([job = std::move(job), handler = std::move(handler), tracked]() mutable {
            T value = job();
            asio::post(tracked, [handler = std::move(handler), value = std::move(value)]() mutable {
                std::move(handler)(std::move(value));
            });
        }).detach();
    };
    auto outcome = co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
        initiate, asio::use_awaitable, std::move(work));
    co_return outcome;
}

result<void> fsync_directory(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return make_error(errc::io_failed, "cannot open " + dir.string() + ": " + std::strerror(errno));
    }
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
        return make_error(errc::io_failed, "cannot fsync " + dir.string() + ": " + std::strerror(saved));
    }
    return {};
}

enum class sink_failure {
    none,
    too_large,  // Content-Length or Content-Range total above max_file_bytes
    overrun,    // more bytes than announced
    bad_range,  // a 206 that is not the range asked for, or a file that changed size
    disk,       // writing the partial file failed (ENOSPC, EFBIG, …)
    store,      // the state database refused the progress
    cancelled,
};

// The file being downloaded and the body sink of each attempt. Shared with the transport for the
// length of one exchange; the coroutine owns it.
struct transfer final : http::body_sink {
    transfer(
        state::store& s, metrics::recorder& m, const file_plan& plan, std::string name, fs::path partial_path)
        : store(s),
          metrics(m),
          policy(plan.policy),
          run_id(plan.run_id),
          job_id(plan.job_id),
          file_name(std::move(name)),
          partial(std::move(partial_path)),
          max_file_bytes(plan.max_file_bytes),
          progress_every_bytes(plan.progress_every_bytes),
          progress_every(plan.progress_every),
          on_progress(plan.on_progress) {}
    ~transfer() override { close(); }

    state::store& store;
    metrics::recorder& metrics;
    std::string policy;
    std::string run_id;
    std::string job_id;
    std::string file_name;
    fs::path partial;
    std::uint64_t max_file_bytes;
    std::uint64_t progress_every_bytes;
    std::chrono::milliseconds progress_every;
    std::function<void(const download_progress&)> on_progress;
    std::optional<asio::cancellation_state> cancellation;

    // Across attempts: what the partial file holds.
    int fd = -1;
    sha1_stream hash;
    std::uint64_t offset = 0;  // bytes in the file and in `hash`
    std::optional<std::string> etag;
    std::optional<std::uint64_t> total;  // the whole file's size, once announced
    std::uint64_t stored_offset = 0;
    steady::time_point stored_at = steady::now();
    static constexpr std::uint64_t writeback_every = 8ull << 20;
    std::uint64_t written_back = 0;  // write-back started up to here (start_writeback)
    int attempt = 0;

    // One attempt.
    int status = 0;
    bool accepting = false;
    std::optional<std::uint64_t> expected_end;
    sink_failure failure = sink_failure::none;
    std::string failure_message;
    std::string error_body;
    std::optional<std::string> retry_after;
    std::uint64_t attempt_bytes = 0;
    steady::time_point attempt_started = steady::now();

    result<void> open(bool truncate) {
        close();
        fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);
        if (fd < 0) {
            return make_error(errc::io_failed,
                              "cannot open " + partial.string() + ": " + std::strerror(errno));
        }
        return {};
    }
    void close() {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
    result<void> truncate_to(std::uint64_t size) {
        if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
            return make_error(errc::io_failed,
                              "cannot truncate " + partial.string() + ": " + std::strerror(errno));
        }
        return {};
    }
    // Back to an empty file: a 200 instead of a 206, a changed file, a failed verification.
    result<void> start_over() {
        if (auto r = truncate_to(0); !r) {
            return r;
        }
        hash.reset();
        offset = 0;
        etag.reset();
        total.reset();
        return {};
    }

    void begin_attempt() {
        ++attempt;
        status = 0;
        accepting = false;
        expected_end.reset();
        failure = sink_failure::none;
        failure_message.clear();
        error_body.clear();
        retry_after.reset();
        attempt_bytes = 0;
        attempt_started = steady::now();
    }

    double rate() const {
        const double seconds = std::chrono::duration<double>(steady::now() - attempt_started).count();
        return seconds > 0 ? static_cast<double>(attempt_bytes) / seconds : 0;
    }

    void notify(int counted, bool done = false) {
        if (on_progress) {
            on_progress(download_progress{run_id, job_id, file_name, offset, total, rate(), counted, done});
        }
    }

    // Stores (offset, etag) every progress_every_bytes or progress_every, or now when forced.
    result<void> save_progress(bool force, int counted) {
        const auto now = steady::now();
        if (!force && offset - std::min(offset, stored_offset) < progress_every_bytes &&
            now - stored_at < progress_every) {
            return {};
        }
        if (auto r = store.update_progress(run_id, job_id, static_cast<std::int64_t>(offset), etag); !r) {
            return r;
        }
        stored_offset = offset;
        stored_at = now;
        notify(counted);
        return {};
    }

    // Starts the kernel's write-back of what arrived since the last call, every writeback_every
    // bytes, without waiting for it. The fsync before the rename then waits only for the tail
    // instead of the whole file (bench/run download: 1 GiB was a 5 s fsync at the end). Advisory:
    // a failure changes nothing, the fsync still decides.
    void start_writeback() {
        if (offset < written_back || offset - written_back < writeback_every) {
            if (offset < written_back) {
                written_back = 0;  // started over
            }
            return;
        }
        (void)::sync_file_range(fd,
                                static_cast<off_t>(written_back),
                                static_cast<off_t>(offset - written_back),
                                SYNC_FILE_RANGE_WRITE);
        written_back = offset;
    }

    result<void> refuse(sink_failure why, std::string message) {
        failure = why;
        failure_message = std::move(message);
        return make_error(why == sink_failure::cancelled ? errc::cancelled : errc::bad_response,
                          failure_message);
    }

    result<void> on_head(const http::response& head) override {
        status = head.status;
        retry_after.reset();
        if (auto ra = http::find_header(head.headers, "Retry-After")) {
            retry_after = std::string(*ra);
        }
        auto header_etag = http::find_header(head.headers, "ETag");
        if (status == 200) {
            std::optional<std::uint64_t> length;
            if (auto cl = http::find_header(head.headers, "Content-Length")) {
                length = parse_u64(*cl);
            }
            if (length && *length > max_file_bytes) {
                return refuse(sink_failure::too_large,
                              file_name + " is " + std::to_string(*length) +
                                  " bytes, more than download.max_file_bytes (" +
                                  std::to_string(max_file_bytes) + ")");
            }
            if (offset > 0) {
                log()->info(
                    "run {}: the server sent all of {} instead of the rest from byte {}; starting over",
                    run_id,
                    file_name,
                    offset);
                if (auto r = start_over(); !r) {
                    return refuse(sink_failure::disk, r.error().message);
                }
            }
            total = length;
            expected_end = length;
            etag = header_etag ? std::optional<std::string>(std::string(*header_etag)) : std::nullopt;
            accepting = true;
            if (auto r = save_progress(true, attempt); !r) {
                return refuse(sink_failure::store, r.error().message);
            }
            return {};
        }
        if (status == 206) {
            auto cr_text = http::find_header(head.headers, "Content-Range");
            auto cr = cr_text ? http::parse_content_range(*cr_text) : std::nullopt;
            if (!cr || cr->first != offset || cr->last < cr->first) {
                return refuse(sink_failure::bad_range,
                              "the server answered the resume of " + file_name + " from byte " +
                                  std::to_string(offset) + " with another range (" +
                                  std::string(cr_text.value_or("no Content-Range")) + ")");
            }
            if (cr->total && *cr->total > max_file_bytes) {
                return refuse(sink_failure::too_large,
                              file_name + " is " + std::to_string(*cr->total) +
                                  " bytes, more than download.max_file_bytes (" +
                                  std::to_string(max_file_bytes) + ")");
            }
            if (cr->total && total && *cr->total != *total) {
                return refuse(sink_failure::bad_range,
                              file_name + " changed size on the server (" + std::to_string(*total) +
                                  " then " + std::to_string(*cr->total) + " bytes)");
            }
            if (header_etag && etag && *header_etag != *etag) {
                return refuse(sink_failure::bad_range,
                              file_name + " changed on the server (its ETag differs)");
            }
            if (cr->total) {
                total = cr->total;
            }
            expected_end = cr->last + 1;
            if (total && *expected_end > *total) {
                return refuse(sink_failure::bad_range,
                              "the server's Content-Range for " + file_name + " is inconsistent");
            }
            if (header_etag) {
                etag = std::string(*header_etag);
            }
            accepting = true;
            return {};
        }
        accepting = false;
        return {};
    }

    result<void> on_data(std::span<const char> bytes) override {
        if (cancellation && is_cancelled(*cancellation)) {
            return refuse(sink_failure::cancelled, "the download of " + file_name + " was cancelled");
        }
        if (!accepting) {
            if (error_body.size() < error_body_limit) {
                error_body.append(bytes.data(), std::min(bytes.size(), error_body_limit - error_body.size()));
            }
            return {};
        }
        const std::uint64_t n = bytes.size();
        if (expected_end && offset + n > *expected_end) {
            return refuse(sink_failure::overrun,
                          "the server sent more bytes of " + file_name + " than it announced");
        }
        if (offset + n > max_file_bytes) {
            return refuse(sink_failure::too_large,
                          file_name + " is larger than download.max_file_bytes (" +
                              std::to_string(max_file_bytes) + ")");
        }
        std::size_t written = 0;
        while (written < bytes.size()) {
            const ssize_t w = ::pwrite(
                fd, bytes.data() + written, bytes.size() - written, static_cast<off_t>(offset + written));
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                const int saved = errno;
                // Bytes written before the failure stay out of the hash and the offset: the file is cut
                // back to what both agree on, so a later resume is still exact.
                (void)truncate_to(offset);
                return refuse(sink_failure::disk,
                              "cannot write " + partial.string() + " at byte " +
                                  std::to_string(offset + written) + ": " + std::strerror(saved));
            }
            written += static_cast<std::size_t>(w);
        }
        hash.update(bytes);
        offset += n;
        attempt_bytes += n;
        start_writeback();
        metrics.download_bytes(policy, n);
        if (auto r = save_progress(false, attempt); !r) {
            return refuse(sink_failure::store, r.error().message);
        }
        return {};
    }
};

}  // namespace

downloader::downloader(http::https_client& transport, state::store& store, metrics::recorder& metrics)
    : transport_(transport), store_(store), metrics_(metrics) {
    // A write past a file-size limit (systemd LimitFSIZE=, ulimit -f) raises SIGXFSZ, whose default
    // action kills the daemon mid-download. Ignored, the write fails with EFBIG and the download ends
    // with disk_full instead. Only a default disposition is changed; children get defaults back.
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction current {};
        if (::sigaction(SIGXFSZ, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
            std::signal(SIGXFSZ, SIG_IGN);
        }
    });
}

namespace {
std::atomic<int> active_fetches{0};
}  // namespace

int downloader::active_downloads() {
    return active_fetches.load();
}

namespace {

// The body of fetch(); kept apart so fetch() can restore the caller's throw_if_cancelled setting.
struct fetch_context {
    http::https_client& transport;
    state::store& store;
    metrics::recorder& metrics;
};

asio::awaitable<file_result> fetch_file(fetch_context ctx,
                                        file_plan plan,
                                        atlas::restore_job job,
                                        reread_job_fn reread_job) {
    const auto now = [&plan] { return plan.clock ? plan.clock() : std::chrono::system_clock::now(); };
    const auto cs = co_await asio::this_coro::cancellation_state;
    auto executor = co_await asio::this_coro::executor;
    std::mt19937_64 rng(std::random_device{}());
    auto jitter = [&rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); };

    file_result out;
    const std::string who = "run " + plan.run_id + " job " + plan.job_id;

    // Ends the fetch with a reason; the file row says failed, the partial stays for inspection.
    auto fail = [&](std::string reason, std::string message) {
        out.verified = false;
        out.reason = std::move(reason);
        out.message = state::strip_urls(message);
        (void)ctx.store.set_file_state(plan.run_id, plan.job_id, state::file_state::failed);
        log()->error("{}: download of {} failed: {}: {}", who, out.file_name, out.reason, out.message);
        return out;
    };
    auto interrupted = [&](std::string message) {
        out.interrupted = true;
        out.reason.clear();
        out.message = std::move(message);
        log()->info("{}: {}", who, out.message);
        return out;
    };

    auto name = file_name_for_job(job);
    if (!name) {
        (void)ctx.store.set_file_state(plan.run_id, plan.job_id, state::file_state::failed);
        out.reason = reason::delivery_failed;
        out.message = "restore job " + plan.job_id + ": " + name.error().message;
        log()->error("{}: {}", who, out.message);
        co_return out;
    }
    out.file_name = *name;
    const fs::path final_path = plan.directory / *name;
    const fs::path partial_path = plan.directory / (*name + ".partial");
    const fs::path corrupt_path = plan.directory / (*name + ".corrupt");
    out.path = partial_path;

    auto existing = ctx.store.get_file(plan.run_id, plan.job_id);
    if (!existing) {
        co_return fail(reason::disk_full, "the state database cannot be read: " + existing.error().message);
    }
    state::file_record record;
    record.run_id = plan.run_id;
    record.job_id = plan.job_id;
    if (*existing) {
        record = **existing;
    }
    out.attempts = record.attempts;
    std::error_code fs_ec;
    if (record.verified && record.file_name == *name && fs::exists(final_path, fs_ec)) {
        out.verified = true;
        out.path = final_path;
        out.bytes = static_cast<std::uint64_t>(record.bytes_done);
        out.sha1 = record.sha1_actual.value_or("");
        out.expected_sha1 = record.sha1_expected.value_or("");
        out.message = *name + " was verified earlier";
        co_return out;
    }
    if (record.file_name != *name) {
        // Progress of another name does not describe this file.
        record.bytes_done = 0;
        record.etag.reset();
        record.bytes_expected.reset();
    }
    record.file_name = *name;
    record.verified = false;
    record.state = state::file_state::downloading;
    if (auto r = ctx.store.upsert_file(record); !r) {
        co_return fail(reason::disk_full, "the state database refused the file record: " + r.error().message);
    }
    fs::create_directories(plan.directory, fs_ec);
    if (fs_ec) {
        co_return fail(reason::disk_full,
                       "cannot create " + plan.directory.string() + ": " + fs_ec.message());
    }

    auto t = std::make_shared<transfer>(ctx.store, ctx.metrics, plan, *name, partial_path);
    t->cancellation = cs;
    t->attempt = record.attempts;

    // Resume where an earlier process stood: the partial file, cut back to the progress the state
    // database vouches for, hashed once.
    const std::uint64_t stored = static_cast<std::uint64_t>(std::max<std::int64_t>(record.bytes_done, 0));
    const std::uint64_t on_disk = fs::exists(partial_path, fs_ec) ? fs::file_size(partial_path, fs_ec) : 0;
    const std::uint64_t keep = fs_ec ? 0 : std::min(stored, on_disk);
    if (auto r = t->open(keep == 0); !r) {
        co_return fail(reason::disk_full, r.error().message);
    }
    if (keep > 0) {
        if (auto r = t->truncate_to(keep); !r) {
            co_return fail(reason::disk_full, r.error().message);
        }
        log()->info("{}: resuming {} at byte {}; re-hashing the partial file", who, *name, keep);
        // A named std::function: GCC 12 destroys a lambda temporary inside a co_await expression twice.
        std::function<result<sha1_stream>()> rehash = [partial_path, keep] {
            return rehash_file(partial_path, keep);
        };
        auto rehashed = co_await off_thread<result<sha1_stream>>(std::move(rehash));
        if (rehashed) {
            t->hash = std::move(*rehashed);
            t->offset = keep;
            t->etag = record.etag;
            if (record.bytes_expected) {
                t->total = static_cast<std::uint64_t>(*record.bytes_expected);
            }
        } else {
            log()->warn("{}: cannot re-hash {} ({}); starting over",
                        who,
                        partial_path.string(),
                        rehashed.error().message);
            if (auto r = t->start_over(); !r) {
                co_return fail(reason::disk_full, r.error().message);
            }
        }
    }
    t->stored_offset = stored;
    if (t->offset != stored) {
        if (auto r = t->save_progress(true, t->attempt); !r) {
            co_return fail(reason::disk_full,
                           "the state database refused the progress: " + r.error().message);
        }
    }

    int failures_without_progress = 0;
    int attempts_not_sent = 0;
    bool last_mismatch = false;
    std::string mismatch_message;
    std::optional<double> measured_rate;
    bool warned_expiring = false;
    bool fresh_job = true;  // `job` came from the caller just now
    std::string last_error;

    asio::steady_timer timer(executor);
    auto pause = [&](std::chrono::milliseconds d) -> asio::awaitable<bool> {
        timer.expires_after(d);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return !ec && !is_cancelled(cs);
    };
    auto interrupted_message = [&] {
        (void)t->save_progress(true, t->attempt);
        return "the download of " + *name + " stopped at byte " + std::to_string(t->offset) +
               " because the daemon is stopping; it resumes from there";
    };

    for (;;) {
        if (is_cancelled(cs)) {
            co_return interrupted(interrupted_message());
        }
        const bool complete = t->total && t->offset == *t->total;
        if (!complete) {
            if (!fresh_job) {
                auto again = co_await reread_job();
                if (!again) {
                    if (again.error().code == errc::cancelled || is_cancelled(cs)) {
                        co_return interrupted(interrupted_message());
                    }
                    last_error =
                        "re-reading restore job " + plan.job_id + " failed: " + again.error().message;
                    if (++failures_without_progress > plan.max_failures_without_progress) {
                        co_return fail(reason::delivery_failed, last_error);
                    }
                    if (!co_await pause(retry_delay(
                            failures_without_progress, plan.retry_initial, plan.retry_max, jitter()))) {
                        co_return interrupted(interrupted_message());
                    }
                    continue;
                }
                job = std::move(*again);
            }
            fresh_job = false;

            const atlas::delivery& d = job.delivery_info;
            if (auto r = reason_for_delivery_status(d.status_name, last_mismatch)) {
                std::string message = "the delivery of restore job " + plan.job_id + " is " + d.status_name;
                if (d.status_name == atlas::delivery_status::max_downloads_exceeded) {
                    message += " (" + std::to_string(out.attempts) + " of maxDownloads " +
                               (d.max_downloads ? std::to_string(*d.max_downloads) : std::string("?")) +
                               " counted here)";
                }
                if (last_mismatch) {
                    message += " after a failed verification: " + mismatch_message;
                }
                co_return fail(*r, message);
            }
            if (d.status_name != atlas::delivery_status::ready) {
                last_error =
                    "the delivery of restore job " + plan.job_id + " is " + d.status_name + ", not READY";
                if (++failures_without_progress > plan.max_failures_without_progress) {
                    co_return fail(reason::delivery_failed, last_error);
                }
                if (!co_await pause(retry_delay(
                        failures_without_progress, plan.retry_initial, plan.retry_max, jitter()))) {
                    co_return interrupted(interrupted_message());
                }
                continue;
            }

            budget_input b;
            b.now = now();
            if (d.expires) {
                b.expires = parse_iso8601(*d.expires);
            }
            std::optional<sys_time> created;
            if (job.created) {
                created = parse_iso8601(*job.created);
            }
            b.lifetime = link_lifetime(d, created);
            b.max_downloads = d.max_downloads;
            b.attempts_counted = out.attempts;
            b.attempts_not_sent = attempts_not_sent;
            b.bytes_remaining = t->total ? *t->total - t->offset : plan.expected_bytes.value_or(0);
            b.bytes_per_second = measured_rate;
            b.last_attempt_mismatched = last_mismatch;
            const budget_decision verdict = decide_attempt(b);
            if (!verdict.go) {
                std::string message = verdict.message;
                if (last_mismatch) {
                    message += ": " + mismatch_message;
                }
                co_return fail(verdict.reason, message);
            }
            if (verdict.warn_expiring && !warned_expiring) {
                warned_expiring = true;
                ctx.metrics.link_expiring(plan.policy);
                log()->warn(
                    "{} (policy {}): the download link of {} expires at {} and the file is not downloaded "
                    "yet",
                    who,
                    plan.policy,
                    *name,
                    d.expires.value_or("?"));
                if (plan.on_link_expiring) {
                    plan.on_link_expiring(*name, d.expires.value_or(""));
                }
            }
            if (!verdict.message.empty()) {
                log()->warn("{}: {}", who, verdict.message);
            }

            std::uint64_t needed = 0;
            if (t->total) {
                needed = *t->total - t->offset;
            } else if (plan.expected_bytes && *plan.expected_bytes > t->offset) {
                needed = *plan.expected_bytes - t->offset;
            }
            if (needed > 0) {
                if (auto space = check_free_space(plan.directory, needed); !space) {
                    co_return fail(reason::disk_full, space.error().message);
                }
            }

            // The link: urlV2 with its header, the deprecated url only without it.
            std::string link;
            http::header_list headers;
            if (d.url_v2 && !d.url_v2->empty() && d.auth_header && !d.auth_header->empty() && d.auth_value) {
                link = *d.url_v2;
                headers.push_back({*d.auth_header, *d.auth_value});
            } else if (d.url && !d.url->empty()) {
                link = *d.url;
            } else {
                co_return fail(reason::delivery_failed,
                               "restore job " + plan.job_id + " is READY but has no download link");
            }
            auto where = http::parse_https_url(link);
            if (!where) {
                co_return fail(
                    reason::delivery_failed,
                    "the download link of restore job " + plan.job_id + " is not a usable https URL");
            }

            if (t->fd < 0) {
                if (auto r = t->open(true); !r) {
                    co_return fail(reason::disk_full, r.error().message);
                }
            }
            auto counted = ctx.store.count_download_attempt(plan.run_id, plan.job_id);
            if (!counted) {
                co_return fail(
                    reason::disk_full,
                    "the state database cannot count the download attempt: " + counted.error().message);
            }
            out.attempts = *counted;

            http::request req;
            req.method = "GET";
            req.target = where->target;
            req.headers = std::move(headers);
            req.headers.push_back({"Accept-Encoding", "identity"});
            if (t->offset > 0) {
                req.headers.push_back({"Range", "bytes=" + std::to_string(t->offset) + "-"});
                // If-Range needs a strong validator; without one the Content-Range total is the check.
                if (t->etag && t->etag->rfind("W/", 0) != 0) {
                    req.headers.push_back({"If-Range", *t->etag});
                }
            }
            req.timeout = plan.idle_timeout;

            if (t->attempt > 0) {
                ctx.metrics.retry();  // every GET after the file's first one
            }
            t->begin_attempt();
            t->attempt = *counted;
            log()->info("{}: downloading {} from {} (attempt {}{}){}",
                        who,
                        *name,
                        describe_link(link),
                        *counted,
                        d.max_downloads ? " of " + std::to_string(*d.max_downloads) : std::string(),
                        t->offset > 0 ? ", resuming at byte " + std::to_string(t->offset) : std::string());
            t->notify(*counted);
            std::shared_ptr<http::body_sink> sink = t;  // named: no converted temporary in a co_await
            auto answer =
                co_await ctx.transport.send_streaming(where->where, std::move(req), std::move(sink));
            ctx.metrics.http_response(answer ? answer->status : t->status);
            if (t->attempt_bytes >= (1u << 20) ||
                (t->attempt_bytes > 0 && steady::now() - t->attempt_started >= std::chrono::seconds(1))) {
                measured_rate = t->rate();
            }
            const bool gained = t->attempt_bytes > 0;
            if (gained) {
                failures_without_progress = 0;
            }
            if (auto r = t->save_progress(true, *counted); !r) {
                co_return fail(reason::disk_full,
                               "the state database refused the progress: " + r.error().message);
            }

            switch (t->failure) {
                case sink_failure::none:
                    break;
                case sink_failure::cancelled:
                    co_return interrupted(interrupted_message());
                case sink_failure::disk:
                case sink_failure::store:
                    co_return fail(reason::disk_full, t->failure_message);
                case sink_failure::too_large:
                    co_return fail(reason::delivery_failed, t->failure_message);
                case sink_failure::overrun:
                case sink_failure::bad_range:
                    // The bytes on disk may not belong to the file the server now has: start over.
                    log()->warn("{}: {}; starting over", who, t->failure_message);
                    last_error = t->failure_message;
                    if (auto r = t->start_over(); !r) {
                        co_return fail(reason::disk_full, r.error().message);
                    }
                    if (auto r = t->save_progress(true, *counted); !r) {
                        co_return fail(reason::disk_full, r.error().message);
                    }
                    if (++failures_without_progress > plan.max_failures_without_progress) {
                        co_return fail(reason::delivery_failed, last_error);
                    }
                    continue;
            }

            if (!answer) {
                const error& e = answer.error();
                if (e.code == errc::cancelled || is_cancelled(cs)) {
                    co_return interrupted(interrupted_message());
                }
                if (e.code == errc::tls_failed) {
                    // A certificate does not fix itself, and retrying would hide an attack.
                    co_return fail(reason::delivery_failed, "the download host is not trusted: " + e.message);
                }
                if (!e.request_sent) {
                    ++attempts_not_sent;  // Atlas cannot have counted a GET it never received
                }
                last_error = e.message;
                if (gained) {
                    log()->warn("{}: the download of {} was cut at byte {} ({}); resuming",
                                who,
                                *name,
                                t->offset,
                                e.message);
                    continue;
                }
                log()->warn("{}: the download of {} failed: {}", who, *name, e.message);
                if (++failures_without_progress > plan.max_failures_without_progress) {
                    co_return fail(reason::delivery_failed,
                                   "the download of " + *name + " keeps failing: " + last_error);
                }
                if (!co_await pause(retry_delay(
                        failures_without_progress, plan.retry_initial, plan.retry_max, jitter()))) {
                    co_return interrupted(interrupted_message());
                }
                continue;
            }

            const int status = answer->status;
            if (status == 200 || status == 206) {
                if (!t->total) {
                    t->total = t->offset;  // a body without a length ends where the server says it does
                }
                if (t->offset < *t->total) {
                    continue;  // a shorter range than asked for: ask for the rest
                }
                // Complete: fall through to verification.
            } else if (status == 416) {
                last_error = "the server cannot serve " + *name + " from byte " + std::to_string(t->offset);
                log()->warn("{}: {}; starting over", who, last_error);
                if (auto r = t->start_over(); !r) {
                    co_return fail(reason::disk_full, r.error().message);
                }
                if (auto r = t->save_progress(true, *counted); !r) {
                    co_return fail(reason::disk_full, r.error().message);
                }
                if (++failures_without_progress > plan.max_failures_without_progress) {
                    co_return fail(reason::delivery_failed, last_error);
                }
                continue;
            } else {
                last_error = "the download host answered HTTP " + std::to_string(status) + " for " + *name;
                if (!t->error_body.empty()) {
                    last_error += ": " + state::strip_urls(t->error_body.substr(0, 300));
                }
                log()->warn("{}: {}", who, last_error);
                if (++failures_without_progress > plan.max_failures_without_progress) {
                    co_return fail(reason::delivery_failed, last_error);
                }
                auto delay =
                    retry_delay(failures_without_progress, plan.retry_initial, plan.retry_max, jitter());
                if (t->retry_after) {
                    if (auto ra =
                            http::parse_retry_after(*t->retry_after, std::chrono::system_clock::now())) {
                        delay = std::min<std::chrono::milliseconds>(*ra, plan.retry_max);
                    }
                }
                if (!co_await pause(delay)) {
                    co_return interrupted(interrupted_message());
                }
                continue;  // the re-read shows whether the link expired or ran out
            }
        }

        // The whole file is on disk: compare its SHA-1 with the one Atlas publishes after the download.
        out.bytes = t->offset;
        out.sha1 = t->hash.hex();
        {
            auto current = ctx.store.get_file(plan.run_id, plan.job_id);
            if (current && *current) {
                state::file_record r = **current;
                r.bytes_expected = static_cast<std::int64_t>(t->offset);
                r.bytes_done = static_cast<std::int64_t>(t->offset);
                r.etag = t->etag;
                r.sha1_actual = out.sha1;
                if (auto w = ctx.store.upsert_file(r); !w) {
                    co_return fail(reason::disk_full,
                                   "the state database refused the file record: " + w.error().message);
                }
            }
        }
        t->notify(out.attempts);

        std::optional<std::string> expected;
        const auto hash_deadline = steady::now() + plan.hash_wait;
        auto poll = plan.hash_poll_initial;
        std::string hash_error;
        for (;;) {
            auto again = co_await reread_job();
            if (again) {
                job = std::move(*again);
                if (const atlas::file_hash* h = find_hash(job, *name)) {
                    if (!h->type_name.empty() && h->type_name != "SHA1") {
                        co_return fail(reason::delivery_failed,
                                       "Atlas hashed " + *name + " with " + printable_name(h->type_name) +
                                           ", which this daemon cannot check");
                    }
                    if (is_sha1_hex(h->hash)) {
                        expected = lower(h->hash);
                        break;
                    }
                    hash_error = "the hashes entry of " + *name + " is not a SHA1";
                }
            } else if (again.error().code == errc::cancelled || is_cancelled(cs)) {
                co_return interrupted(interrupted_message());
            } else {
                hash_error = again.error().message;
            }
            const auto left = hash_deadline - steady::now();
            if (left <= steady::duration::zero()) {
                break;
            }
            if (!co_await pause(std::min(poll,
                                         std::chrono::duration_cast<std::chrono::milliseconds>(left) +
                                             std::chrono::milliseconds(1)))) {
                co_return interrupted(interrupted_message());
            }
            poll = std::min(poll * 2, std::chrono::duration_cast<std::chrono::milliseconds>(hash_poll_max));
        }
        if (!expected) {
            co_return fail(
                reason::delivery_failed,
                "Atlas did not publish the SHA1 of " + *name + " within " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(plan.hash_wait).count()) +
                    " s of the download" + (hash_error.empty() ? std::string() : " (" + hash_error + ")"));
        }
        out.expected_sha1 = *expected;

        if (*expected == out.sha1) {
            if (::fsync(t->fd) != 0) {
                co_return fail(reason::disk_full,
                               "cannot fsync " + partial_path.string() + ": " + std::strerror(errno));
            }
            t->close();
            fs::rename(partial_path, final_path, fs_ec);
            if (fs_ec) {
                co_return fail(reason::disk_full,
                               "cannot rename " + partial_path.string() + " into place: " + fs_ec.message());
            }
            if (auto r = fsync_directory(plan.directory); !r) {
                co_return fail(reason::disk_full, r.error().message);
            }
            if (auto r = ctx.store.mark_verified(
                    plan.run_id, plan.job_id, out.sha1, static_cast<std::int64_t>(out.bytes));
                !r) {
                co_return fail(reason::disk_full,
                               "the state database refused the verification: " + r.error().message);
            }
            out.verified = true;
            out.path = final_path;
            out.reason.clear();
            out.message = *name + " (" + std::to_string(out.bytes) +
                          " bytes) downloaded and verified, SHA1 " + out.sha1;
            t->notify(out.attempts, true);
            log()->info("{}: {}", who, out.message);
            co_return out;
        }

        // Mismatch: the bad bytes never take the file's name.
        ctx.metrics.hash_mismatch(plan.policy);
        mismatch_message =
            "the SHA1 of " + *name + " is " + out.sha1 + " but Atlas's hashes say " + *expected;
        last_mismatch = true;
        t->close();
        if (plan.delete_on_mismatch) {
            fs::remove(partial_path, fs_ec);
            out.path.clear();
        } else {
            fs::rename(partial_path, corrupt_path, fs_ec);
            out.path = corrupt_path;
        }
        if (fs_ec) {
            co_return fail(reason::disk_full,
                           "cannot set aside the corrupt " + partial_path.string() + ": " + fs_ec.message());
        }
        log()->error(
            "{} (policy {}): {}; {}",
            who,
            plan.policy,
            mismatch_message,
            plan.delete_on_mismatch ? "deleted it" : "kept it as " + corrupt_path.filename().string());
        {
            auto current = ctx.store.get_file(plan.run_id, plan.job_id);
            if (current && *current) {
                state::file_record r = **current;
                r.sha1_expected = *expected;
                r.sha1_actual = out.sha1;
                r.bytes_done = 0;
                r.bytes_expected.reset();
                r.etag.reset();
                r.verified = false;
                r.state = state::file_state::downloading;
                if (auto w = ctx.store.upsert_file(r); !w) {
                    co_return fail(reason::disk_full,
                                   "the state database refused the file record: " + w.error().message);
                }
            }
        }
        // Another try only if the budget allows (the loop's budget check says sha1_mismatch if not);
        // its .partial is created when that attempt starts.
        t->hash.reset();
        t->offset = 0;
        t->etag.reset();
        t->total.reset();
        t->stored_offset = 0;
    }
}

}  // namespace

asio::awaitable<file_result> downloader::fetch(file_plan plan,
                                               atlas::restore_job job,
                                               reread_job_fn reread_job) {
    // Cancellation must not throw out of the middle of a write or a rename: this coroutine checks it
    // itself. The caller's setting is restored on the way out.
    const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    metrics_.active_downloads(++active_fetches);
    std::exception_ptr failure;
    file_result out;
    const std::string run_id = plan.run_id;
    const std::string job_id = plan.job_id;
    auto on_progress = plan.on_progress;
    try {
        out = co_await fetch_file(fetch_context{transport_, store_, metrics_},
                                  std::move(plan),
                                  std::move(job),
                                  std::move(reread_job));
    } catch (...) {
        failure = std::current_exception();
    }
    metrics_.active_downloads(--active_fetches);
    co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (on_progress && !out.verified) {
        download_progress p;
        p.run_id = run_id;
        p.job_id = job_id;
        p.file_name = out.file_name;
        p.bytes_done = out.bytes;
        p.attempt = out.attempts;
        p.done = true;
        on_progress(p);
    }
    co_return out;
}

}  // namespace atlas_restored::download
