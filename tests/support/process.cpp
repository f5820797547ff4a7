#include "support/process.hpp"

#include "support/temp_dir.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace atlas_restored::testing {
namespace {

std::atomic<int> sequence{0};

std::string slurp(const std::filesystem::path& file) {
    try {
        return read_file(file);
    } catch (...) {
        return {};
    }
}

}  // namespace

process::process(process_options options) : options_(std::move(options)) {
    if (options_.argv.empty()) {
        throw std::invalid_argument("process: empty argv");
    }
    auto dir = options_.output_dir.empty() ? std::filesystem::temp_directory_path() : options_.output_dir;
    std::filesystem::create_directories(dir);
    const auto tag = options_.name + "-" + std::to_string(::getpid()) + "-" + std::to_string(sequence++);
    out_file_ = dir / (tag + ".out");
    err_file_ = dir / (tag + ".err");

    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry = *e;
        const auto eq = entry.find('=');
        if (eq != std::string::npos) {
            env[entry.substr(0, eq)] = entry.substr(eq + 1);
        }
    }
    for (const auto& name : options_.unset_env) {
        env.erase(name);
    }
    for (const auto& [k, v] : options_.env) {
        env[k] = v;
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) {
        env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (auto& a : options_.argv) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    const int out_fd = ::open(out_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = ::open(err_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::setpgid(0, 0);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    if (pid_ < 0) {
        throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    }
}

process::~process() {
    kill_now();
}

bool process::running() {
    if (status_) {
        return false;
    }
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
    }
    return r == 0;
}

void process::signal(int sig) {
    if (running()) {
        ::kill(pid_, sig);
    }
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

void process::kill_now() {
    if (pid_ > 0 && running()) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

std::string process::stdout_text() const {
    return slurp(out_file_);
}

std::string process::stderr_text() const {
    return slurp(err_file_);
}

bool process::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (stdout_text().find(needle) != std::string::npos ||
            stderr_text().find(needle) != std::string::npos) {
            return true;
        }
        if (!running()) {
            return stdout_text().find(needle) != std::string::npos ||
                   stderr_text().find(needle) != std::string::npos;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

run_result run_command(process_options options, std::chrono::milliseconds timeout) {
    process p(std::move(options));
    run_result r;
    if (auto status = p.wait(timeout)) {
        r.status = *status;
    } else {
        p.kill_now();
        r.status = -1;
    }
    r.out = p.stdout_text();
    r.err = p.stderr_text();
    return r;
}

}  // namespace atlas_restored::testing
