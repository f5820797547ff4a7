// The after-download check with real programs (no shell), and with a real .tar.gz from the fake
// Atlas's archive generator.

#include "download/after_download.hpp"

#include "fake_atlas/archive.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>

namespace atlas_restored::download {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using atlas_restored::testing::temp_dir;

after_download_result run_check(std::vector<std::string> command,
                                std::filesystem::path file,
                                std::chrono::milliseconds timeout,
                                std::chrono::milliseconds grace = 1s) {
    asio::io_context io;
    std::optional<after_download_result> out;
    asio::co_spawn(io,
                   run_after_download(command, file, timeout, grace),
                   [&](std::exception_ptr e, after_download_result r) {
                       EXPECT_FALSE(e);
                       out = std::move(r);
                   });
    io.run_for(20s);
    EXPECT_TRUE(out) << "the check did not finish";
    return out.value_or(after_download_result{});
}

// A real restore file as the fake serves it.
std::filesystem::path write_archive(const temp_dir& dir) {
    fake_atlas::archive a(7, 200 * 1024, "restore/data.bin");
    const auto path = dir / "restore.tar.gz";
    std::ofstream out(path, std::ios::binary);
    std::vector<char> buf(65536);
    for (std::uint64_t at = 0; at < a.size();) {
        const std::size_t n = a.read(at, std::span(buf.data(), buf.size()));
        out.write(buf.data(), static_cast<std::streamsize>(n));
        at += n;
    }
    return path;
}

TEST(substitute_file, replaces_every_placeholder_in_every_argument) {
    EXPECT_EQ(substitute_file({"/usr/bin/tar", "-tzf", "{file}", "--label={file}.{file}", "{files}"},
                              "/d/x.tar.gz"),
              (std::vector<std::string>{
                  "/usr/bin/tar", "-tzf", "/d/x.tar.gz", "--label=/d/x.tar.gz./d/x.tar.gz", "{files}"}));
}

TEST(run_after_download, tar_lists_a_real_restore_file) {
    temp_dir dir;
    const auto file = write_archive(dir);
    auto r = run_check({"/usr/bin/tar", "-tzf", "{file}"}, file, 10s);
    EXPECT_TRUE(r.ok()) << r.message << "\n" << r.output_tail;
    EXPECT_TRUE(r.started);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(r.timed_out);
    EXPECT_NE(r.output_tail.find("restore/data.bin"), std::string::npos) << r.output_tail;
    EXPECT_NE(r.message.find("exited with status 0"), std::string::npos) << r.message;
}

TEST(run_after_download, tar_rejects_a_damaged_file_with_its_error_output) {
    temp_dir dir;
    atlas_restored::testing::write_file(dir / "bad.tar.gz", "this is not gzip data at all");
    auto r = run_check({"/usr/bin/tar", "-tzf", "{file}"}, dir / "bad.tar.gz", 10s);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.started);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(r.output_tail.empty());  // tar's complaint on stderr is captured too
}

TEST(run_after_download, a_failing_command_reports_its_status) {
    auto r = run_check({"/bin/false"}, "/nonexistent", 10s);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.signal, 0);
    EXPECT_NE(r.message.find("/bin/false exited with status 1"), std::string::npos) << r.message;
}

TEST(run_after_download, a_slow_command_is_killed_at_its_timeout) {
    const auto started = std::chrono::steady_clock::now();
    auto r = run_check({"/bin/sleep", "5"}, "/nonexistent", 200ms);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.signal, SIGTERM);
    EXPECT_LT(took, 3s);
    EXPECT_GE(r.took, 200ms);
    EXPECT_NE(r.message.find("timeout"), std::string::npos) << r.message;
}

TEST(run_after_download, a_command_that_ignores_sigterm_gets_sigkill_after_the_grace) {
    const auto started = std::chrono::steady_clock::now();
    auto r = run_check({"/usr/bin/python3",
                        "-c",
                        "import signal, time\n"
                        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                        "print('ignoring TERM', flush=True)\n"
                        "time.sleep(10)\n"},
                       "/x",
                       800ms,
                       300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.signal, SIGKILL) << r.message << r.output_tail;
    EXPECT_NE(r.output_tail.find("ignoring TERM"), std::string::npos) << r.output_tail;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(run_after_download, a_missing_program_is_reported_as_not_started) {
    auto r = run_check({"/no/such/program", "{file}"}, "/x", 1s);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.started);
    EXPECT_NE(r.message.find("/no/such/program"), std::string::npos) << r.message;
    auto empty = run_check({}, "/x", 1s);
    EXPECT_FALSE(empty.ok());
    EXPECT_NE(empty.message.find("empty"), std::string::npos);
}

TEST(run_after_download, keeps_only_the_tail_of_a_long_output) {
    auto r = run_check({"/usr/bin/seq", "1", "100000"}, "/x", 10s);
    EXPECT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.output_tail.size(), output_tail_bytes);
    EXPECT_EQ(r.output_tail.substr(r.output_tail.size() - 7), "100000\n");
}

TEST(run_after_download, no_shell_and_a_clean_environment) {
    ::setenv("ATLAS_TEST_SECRET_TOKEN", "do-not-leak", 1);
    auto r = run_check({"/usr/bin/env"}, "/d/file with spaces; rm -rf x.tar.gz", 10s);
    ::unsetenv("ATLAS_TEST_SECRET_TOKEN");
    EXPECT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.output_tail.find("do-not-leak"), std::string::npos) << r.output_tail;
    EXPECT_NE(r.output_tail.find("ATLAS_RESTORED_FILE=/d/file with spaces; rm -rf x.tar.gz\n"),
              std::string::npos)
        << r.output_tail;
    EXPECT_NE(r.output_tail.find("PATH="), std::string::npos);

    // The argument reaches the program as one argv entry, metacharacters and all.
    auto echo = run_check({"/bin/echo", "[{file}]"}, "a b;c|d", 10s);
    EXPECT_EQ(echo.output_tail, "[a b;c|d]\n");
}

TEST(run_after_download, cancelling_kills_the_command_and_does_not_block_the_loop) {
    asio::io_context io;
    asio::cancellation_signal stop;
    std::optional<after_download_result> out;
    bool timer_fired = false;
    asio::co_spawn(
        io,
        run_after_download({"/bin/sleep", "5"}, "/x", 10s),
        asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, after_download_result r) {
            EXPECT_FALSE(e);
            out = std::move(r);
        }));
    asio::steady_timer t(io, 100ms);
    t.async_wait([&](boost::system::error_code) {
        timer_fired = true;  // the loop kept running while the child ran
        stop.emit(asio::cancellation_type::terminal);
    });
    const auto started = std::chrono::steady_clock::now();
    io.run_for(10s);
    ASSERT_TRUE(out);
    EXPECT_TRUE(timer_fired);
    EXPECT_TRUE(out->cancelled);
    EXPECT_FALSE(out->ok());
    EXPECT_EQ(out->signal, SIGKILL);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

}  // namespace
}  // namespace atlas_restored::download
