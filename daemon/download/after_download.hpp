#pragma once
// The optional after-download check (policy `after_download:`): a command run on the verified
// file, e.g. ["/usr/bin/tar", "-tzf", "{file}"]. No shell: "{file}" is replaced inside each
// argument and the argv goes to posix_spawn. The command runs in its own process group with stdin
// from /dev/null, a small fixed environment, and stdout+stderr captured (the last 4 KiB kept).
// At the timeout the group gets SIGTERM, then SIGKILL after a grace period.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace atlas_restored::download {

inline constexpr std::size_t output_tail_bytes = 4096;

struct after_download_result {
    bool started = false;     // false: the command could not be started (message says why)
    int exit_code = -1;       // the exit status; -1 when killed by a signal or not started
    int signal = 0;           // the signal that ended it, 0 if it exited
    bool timed_out = false;   // it ran past the timeout and was killed
    bool cancelled = false;   // the daemon is stopping: it was killed, no verdict
    std::string output_tail;  // the last output_tail_bytes of its combined stdout and stderr
    std::chrono::milliseconds took{0};
    std::string message;  // "/usr/bin/tar exited with status 2 after 0.1 s"

    bool ok() const { return started && !timed_out && !cancelled && signal == 0 && exit_code == 0; }
};

// argv with every "{file}" replaced by the file's path.
std::vector<std::string> substitute_file(const std::vector<std::string>& command,
                                         const std::filesystem::path& file);

// Runs the command; never blocks the event loop (the child is watched through a non-blocking pipe
// and waitpid(WNOHANG) on a timer). Cancelling the coroutine kills the child's process group.
// Needs SIGCHLD not to be ignored (the exit status must be collectable).
boost::asio::awaitable<after_download_result> run_after_download(
    std::vector<std::string> command,
    std::filesystem::path file,
    std::chrono::milliseconds timeout,
    std::chrono::milliseconds kill_grace = std::chrono::seconds(5));

}  // namespace atlas_restored::download
