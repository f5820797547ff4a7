#include "daemon_support.hpp"

#include <boost/json.hpp>

#include <sqlite3.h>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace atlas_restored::testing {

std::string http_policy(const std::string& name, const std::string& cluster, const std::string& extra) {
    return "  - name: " + name + "\n    group_id: " + test_group_id + "\n    cluster: " + cluster +
           "\n    restore_point: { latest_snapshot: true }\n    delivery: { method: HTTP }\n"
           "    poll_interval: 1s\n    deadline: 5m\n" +
           extra;
}

daemon_process::daemon_process(const std::filesystem::path& dir,
                               const std::filesystem::path& config,
                               std::map<std::string, std::string> env) {
    process_options o;
    o.argv = {ATLAS_RESTORED_BIN, "run", "--config", config.string()};
    o.env = std::move(env);
    // Nothing of the test runner's own service manager or journal may leak in.
    for (const char* name : {"NOTIFY_SOCKET",
                             "WATCHDOG_USEC",
                             "WATCHDOG_PID",
                             "JOURNAL_STREAM",
                             "CREDENTIALS_DIRECTORY",
                             "SPDLOG_LEVEL"}) {
        if (!o.env.count(name)) {
            o.unset_env.push_back(name);
        }
    }
    o.output_dir = dir;
    o.name = "daemon";
    proc_ = std::make_unique<process>(std::move(o));
}

daemon_process::~daemon_process() {
    if (proc_->running()) {
        proc_->kill_now();
    }
}

bool daemon_process::wait_started(std::chrono::milliseconds timeout) {
    return proc_->wait_for_output(" running: ", timeout);
}

std::size_t daemon_process::count(const std::string& needle) const {
    const auto text = log();
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

bool daemon_process::wait_for_log(const std::string& needle,
                                  std::size_t times,
                                  std::chrono::milliseconds timeout) {
    return eventually([&] { return count(needle) >= times; }, timeout);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition()) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

boost::json::value status_json(const std::filesystem::path& config) {
    const auto r =
        run_atlas_restored({"status", "--config", config.string(), "--json"}, std::chrono::seconds(30));
    if (r.status != 0) {
        throw std::runtime_error("status --json failed (" + std::to_string(r.status) + "): " + r.err);
    }
    return boost::json::parse(r.out);
}

std::vector<boost::json::object> runs_of(const boost::json::value& status, const std::string& policy) {
    std::vector<boost::json::object> out;
    for (const auto& run : status.at("runs").as_array()) {
        if (policy.empty() || run.at("policy").as_string() == policy) {
            out.push_back(run.as_object());
        }
    }
    return out;
}

std::string str(const boost::json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : std::string();
}

void sql_exec(const std::filesystem::path& database, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw std::runtime_error("sqlite open " + database.string() + ": " + why);
    }
    sqlite3_busy_timeout(db, 5000);
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string why = message ? message : "?";
        sqlite3_free(message);
        sqlite3_close(db);
        throw std::runtime_error("sqlite exec: " + why);
    }
    sqlite3_close(db);
}

std::optional<std::int64_t> sql_int(const std::filesystem::path& database, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("sqlite open " + database.string());
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    std::optional<std::int64_t> value;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            value = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return value;
}

namespace {

bool is_final(const std::string& state) {
    return state == "succeeded" || state == "failed" || state == "cancelled";
}

}  // namespace

std::vector<boost::json::object> wait_for_final_runs(const std::filesystem::path& config,
                                                     const std::string& policy,
                                                     std::size_t count,
                                                     std::chrono::milliseconds timeout) {
    std::vector<boost::json::object> runs;
    eventually(
        [&] {
            runs = runs_of(status_json(config), policy);
            if (runs.size() < count) {
                return false;
            }
            for (const auto& r : runs) {
                if (!is_final(str(r.at("state")))) {
                    return false;
                }
            }
            return true;
        },
        timeout);
    return runs;
}

std::optional<boost::json::object> wait_for_run_state(const std::filesystem::path& config,
                                                      const std::string& policy,
                                                      const std::string& state,
                                                      std::chrono::milliseconds timeout) {
    std::optional<boost::json::object> found;
    eventually(
        [&] {
            for (auto& r : runs_of(status_json(config), policy)) {
                if (str(r.at("state")) == state) {
                    found = std::move(r);
                    return true;
                }
            }
            return false;
        },
        timeout);
    return found;
}

notify_listener::notify_listener(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        throw std::runtime_error("notify_listener: socket failed");
    }
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path_.string().size() >= sizeof(a.sun_path)) {
        throw std::runtime_error("notify_listener: path too long");
    }
    std::strcpy(a.sun_path, path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        throw std::runtime_error(std::string("notify_listener: bind failed: ") + std::strerror(errno));
    }
}

notify_listener::~notify_listener() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    std::error_code ec;
    std::filesystem::remove(path_, ec);
}

std::optional<std::string> notify_listener::wait_for(const std::function<bool(const std::string&)>& match,
                                                     std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char buffer[4096];
        const auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
        if (n <= 0) {
            continue;
        }
        std::string message(buffer, static_cast<std::size_t>(n));
        messages_.push_back(message);
        if (match(message)) {
            return message;
        }
    }
}

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string http_get(std::uint16_t port, const std::string& path) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return {};
    }
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string answer;
    char buffer[4096];
    for (;;) {
        const auto n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) {
            break;
        }
        answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
}

}  // namespace atlas_restored::testing
