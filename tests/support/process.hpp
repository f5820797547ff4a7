#pragma once
// Starts the project's real binaries for integration tests: argv without a shell, stdout and
// stderr captured to files, an environment of the test's choosing, bounded waits, and a kill
// that never leaves a child behind.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace atlas_restored::testing {

struct process_options {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // added to (or replacing) the inherited environment
    std::vector<std::string> unset_env;
    std::filesystem::path output_dir;  // stdout/stderr files go here
    std::string name = "proc";
};

class process {
  public:
    explicit process(process_options options);
    ~process();  // SIGKILL + reap if still running
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    void signal(int sig);
    // Waits for exit; nullopt on timeout. Exit status (or 128+signal).
    std::optional<int> wait(std::chrono::milliseconds timeout);
    void kill_now();

    std::string stdout_text() const;
    std::string stderr_text() const;
    // Polls stdout+stderr until `needle` appears; false on timeout or exit.
    bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout);

  private:
    process_options options_;
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path out_file_, err_file_;
};

struct run_result {
    int status = -1;  // exit code, 128+signal, or -1 on timeout (then killed)
    std::string out;
    std::string err;
};

// Runs a command to completion with a time bound.
run_result run_command(process_options options, std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace atlas_restored::testing
