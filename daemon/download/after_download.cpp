#include "download/after_download.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace atlas_restored::download {

namespace asio = boost::asio;

namespace {

constexpr auto poll_interval = std::chrono::milliseconds(20);
constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The child's environment: only what a checking tool needs. The daemon's own environment may hold
// credentials (SPEC §4: credentials can come from the environment), so it is not passed on.
std::vector<std::string> child_environment(const std::filesystem::path& file) {
    std::vector<std::string> env;
    const char* path = std::getenv("PATH");
    env.push_back(std::string("PATH=") + (path != nullptr && *path != '\0' ? path : default_path));
    for (const char* name : {"HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}) {
        if (const char* value = std::getenv(name)) {
            env.push_back(std::string(name) + "=" + value);
        }
    }
    env.push_back("ATLAS_RESTORED_FILE=" + file.string());
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

void keep_tail(std::string& tail, const char* data, std::size_t n) {
    tail.append(data, n);
    if (tail.size() > 2 * output_tail_bytes) {
        tail.erase(0, tail.size() - output_tail_bytes);
    }
}

// Reads what the pipe holds now; true at end of file.
bool drain(int fd, std::string& tail) {
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            keep_tail(tail, buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n == 0;  // EAGAIN: nothing more for now
    }
}

std::string seconds_text(std::chrono::milliseconds ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
    return text;
}

struct spawned {
    pid_t pid = -1;
    int output = -1;  // read end of the child's stdout+stderr
};

// posix_spawn in a new process group, with default signal dispositions and an empty mask (the
// daemon may ignore SIGPIPE or block signals; a child must not inherit that).
spawned spawn(std::vector<std::string> argv, std::vector<std::string> env, std::string& failure) {
    spawned out;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        failure = std::string("cannot create a pipe: ") + std::strerror(errno);
        return out;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGXFSZ, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD}) {
        sigaddset(&defaults, s);
    }
    posix_spawnattr_setsigdefault(&attr, &defaults);

    auto argv_ptrs = pointers(argv);
    auto env_ptrs = pointers(env);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv_ptrs[0], &actions, &attr, argv_ptrs.data(), env_ptrs.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        failure = "cannot start " + argv.front() + ": " + std::strerror(rc);
        return out;
    }
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    out.pid = pid;
    out.output = fds[0];
    return out;
}

}  // namespace

std::vector<std::string> substitute_file(const std::vector<std::string>& command,
                                         const std::filesystem::path& file) {
    static constexpr std::string_view placeholder = "{file}";
    const std::string path = file.string();
    std::vector<std::string> out;
    for (const auto& arg : command) {
        std::string s;
        std::size_t from = 0;
        for (auto at = arg.find(placeholder); at != std::string::npos; at = arg.find(placeholder, from)) {
            s.append(arg, from, at - from);
            s += path;
            from = at + placeholder.size();
        }
        s.append(arg, from, std::string::npos);
        out.push_back(std::move(s));
    }
    return out;
}

namespace {

asio::awaitable<after_download_result> run_command(std::vector<std::string> command,
                                                   std::filesystem::path file,
                                                   std::chrono::milliseconds timeout,
                                                   std::chrono::milliseconds kill_grace) {
    after_download_result out;
    if (command.empty() || command.front().empty()) {
        out.message = "after_download.command is empty";
        co_return out;
    }
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
        out.cancelled = true;
        out.message = command.front() + " was not started because the daemon is shutting down";
        co_return out;
    }
    const auto started_at = std::chrono::steady_clock::now();
    const std::string name = command.front();
    std::string failure;
    spawned child = spawn(substitute_file(command, file), child_environment(file), failure);
    if (child.pid < 0) {
        out.message = failure;
        co_return out;
    }
    out.started = true;

    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = started_at + timeout;
    std::optional<std::chrono::steady_clock::time_point> kill_at;
    bool killed = false;
    bool output_open = true;
    int status = 0;
    for (;;) {
        if (output_open) {
            output_open = !drain(child.output, out.output_tail);
        }
        const pid_t done = ::waitpid(child.pid, &status, WNOHANG);
        if (done == child.pid || (done < 0 && errno != EINTR)) {
            if (done < 0) {
                out.message = name + ": cannot collect its exit status: " + std::strerror(errno);
                status = -1;
            }
            break;
        }
        const auto now = std::chrono::steady_clock::now();
        if (!kill_at && now >= deadline) {
            out.timed_out = true;
            ::kill(-child.pid, SIGTERM);
            kill_at = now + kill_grace;
        } else if (kill_at && !killed && now >= *kill_at) {
            ::kill(-child.pid, SIGKILL);
            killed = true;
        }
        timer.expires_after(poll_interval);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        // A cancellation that arrives while the wait's completion is already queued does not fail
        // the wait: the state says so.
        if (ec || cs.cancelled() != asio::cancellation_type::none) {
            // Cancelled (the daemon is stopping): no verdict, and no child left behind.
            out.cancelled = true;
            ::kill(-child.pid, SIGKILL);
            while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
    }
    if (output_open) {
        drain(child.output, out.output_tail);
    }
    ::close(child.output);
    // Whatever the command left running in its group goes with it.
    ::kill(-child.pid, SIGKILL);

    out.took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_at);
    if (out.output_tail.size() > output_tail_bytes) {
        out.output_tail.erase(0, out.output_tail.size() - output_tail_bytes);
    }
    if (!out.message.empty()) {
        co_return out;
    }
    if (WIFEXITED(status)) {
        out.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        out.signal = WTERMSIG(status);
    }
    if (out.cancelled) {
        out.message = name + " was stopped because the daemon is shutting down";
    } else if (out.timed_out) {
        out.message = name + " ran longer than its timeout of " + seconds_text(timeout) + " and was killed";
    } else if (out.signal != 0) {
        out.message =
            name + " was killed by signal " + std::to_string(out.signal) + " after " + seconds_text(out.took);
    } else {
        out.message = name + " exited with status " + std::to_string(out.exit_code) + " after " +
                      seconds_text(out.took);
    }
    co_return out;
}

}  // namespace

asio::awaitable<after_download_result> run_after_download(std::vector<std::string> command,
                                                          std::filesystem::path file,
                                                          std::chrono::milliseconds timeout,
                                                          std::chrono::milliseconds kill_grace) {
    // Cleanup (killing and reaping the child) must still run after a cancellation, so nothing here
    // may throw on it; the caller's setting is restored on the way out.
    const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    after_download_result out =
        co_await run_command(std::move(command), std::move(file), timeout, kill_grace);
    co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
    co_return out;
}

}  // namespace atlas_restored::download
