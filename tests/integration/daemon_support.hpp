#pragma once
// Helpers for the daemon's integration tests (daemon_*_test.cpp): the real `atlas-restored run`
// as a child process, `status --json` read back, bounded polling, policies for the fake's
// clusters, and a datagram socket that plays systemd's $NOTIFY_SOCKET.

#include "fixture.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::testing {

// A policy entry for `policies:` restoring the fake's latest snapshot of `cluster` over HTTP,
// polling every second; `extra` lines (each "    key: value\n") are appended.
std::string http_policy(const std::string& name,
                        const std::string& cluster = "rs0",
                        const std::string& extra = "");

// `atlas-restored run --config FILE` in the background. Started: waits until it says it runs.
class daemon_process {
  public:
    daemon_process(const std::filesystem::path& dir,
                   const std::filesystem::path& config,
                   std::map<std::string, std::string> env = {});
    ~daemon_process();  // SIGKILL if still running

    // True once the daemon logged that it runs (false if it exited first).
    bool wait_started(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    void signal(int sig) { proc_->signal(sig); }
    std::optional<int> wait(std::chrono::milliseconds timeout) { return proc_->wait(timeout); }
    void kill_now() { proc_->kill_now(); }
    bool running() { return proc_->running(); }
    std::string log() const { return proc_->stderr_text() + proc_->stdout_text(); }
    // How often `needle` occurs in the log so far.
    std::size_t count(const std::string& needle) const;
    // Waits until `needle` occurs at least `times` times.
    bool wait_for_log(const std::string& needle,
                      std::size_t times = 1,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
    pid_t pid() const { return proc_->pid(); }

  private:
    std::unique_ptr<process> proc_;
};

// Polls `condition` every 100 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// `atlas-restored status --config FILE --json`, parsed (throws if the command fails).
boost::json::value status_json(const std::filesystem::path& config);

// The runs of `status --json` (optionally only one policy's).
std::vector<boost::json::object> runs_of(const boost::json::value& status, const std::string& policy = "");

// Waits for the policy's runs to reach `count` runs that are all in a final state; returns them.
std::vector<boost::json::object> wait_for_final_runs(const std::filesystem::path& config,
                                                     const std::string& policy,
                                                     std::size_t count,
                                                     std::chrono::milliseconds timeout = generous_timeout);

// Waits until some run of the policy is in `state`; returns that run.
std::optional<boost::json::object> wait_for_run_state(const std::filesystem::path& config,
                                                      const std::string& policy,
                                                      const std::string& state,
                                                      std::chrono::milliseconds timeout = generous_timeout);

std::string str(const boost::json::value& v);  // a JSON string's text, "" otherwise

// Direct SQL on the state database (the integration tests link no daemon module): for setting up
// what only time could otherwise produce, e.g. a last fire five minutes ago. Throws on failure.
void sql_exec(const std::filesystem::path& database, const std::string& sql);
// The first column of the first row, or nullopt when there is no row or it is NULL.
std::optional<std::int64_t> sql_int(const std::filesystem::path& database, const std::string& sql);

// An AF_UNIX datagram socket bound at `path`: what systemd listens on for sd_notify.
class notify_listener {
  public:
    explicit notify_listener(std::filesystem::path path);
    ~notify_listener();
    const std::filesystem::path& path() const { return path_; }
    // Receives messages until one satisfies `match` (returned) or the timeout passes (nullopt).
    // Every message received is kept in messages().
    std::optional<std::string> wait_for(const std::function<bool(const std::string&)>& match,
                                        std::chrono::milliseconds timeout);
    const std::vector<std::string>& messages() const { return messages_; }

  private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::vector<std::string> messages_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (for metrics_listen).
std::uint16_t free_port();
// One plain-HTTP GET on 127.0.0.1: status line, headers and body ("" when nothing answers).
std::string http_get(std::uint16_t port, const std::string& path);

}  // namespace atlas_restored::testing
