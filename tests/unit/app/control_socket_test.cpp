#include "app/control_socket.hpp"

#include "support/temp_dir.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <mutex>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace atlas_restored::app {
namespace {

using namespace std::chrono_literals;

// A control server on its own thread, answering with a handler the test chooses.
class served {
  public:
    served(std::filesystem::path path, control_server::handler h) : work_(io_.get_executor()) {
        auto started = control_server::start(io_.get_executor(), std::move(path), std::move(h));
        if (!started) {
            error_ = started.error();
            return;
        }
        server_ = std::move(*started);
        thread_ = std::thread([this] { io_.run_for(60s); });
    }
    ~served() {
        // The loop stops first; the server is then closed on this thread (nothing runs concurrently).
        work_.reset();
        io_.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    bool ok() const { return server_ != nullptr; }
    const error& failure() const { return error_; }
    void stop() {
        std::promise<void> done;
        boost::asio::post(io_, [&] {
            server_->stop();
            done.set_value();
        });
        done.get_future().wait();
    }

  private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<control_server> server_;
    error error_;
    std::thread thread_;
};

std::string my_user_name() {
    struct passwd* pw = ::getpwuid(::getuid());
    return pw ? pw->pw_name : "uid " + std::to_string(::getuid());
}

TEST(ControlSocket, RunNowReachesTheHandlerWithTheCallersIdentity) {
    testing::temp_dir dir;
    const auto path = dir / "control.sock";
    std::mutex m;
    std::string seen_policy, seen_caller;
    served server(path, [&](const control_request& r, const std::string& caller) {
        std::lock_guard lock(m);
        seen_policy = r.policy;
        seen_caller = caller;
        control_response answer;
        answer.ok = true;
        answer.run_id = "r-20261128-120000-000001";
        return answer;
    });
    ASSERT_TRUE(server.ok()) << server.failure().message;

    control_request request;
    request.command = "run-now";
    request.policy = "orders-drill";
    request.sudo_user = "someone-else";  // not root (unless the test runs as root): ignored
    auto answer = send_control_request(path, request, 10s);
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_TRUE(answer->ok);
    EXPECT_EQ(answer->run_id, "r-20261128-120000-000001");
    std::lock_guard lock(m);
    EXPECT_EQ(seen_policy, "orders-drill");
    if (::getuid() == 0) {
        EXPECT_EQ(seen_caller, my_user_name() + " (sudo: someone-else)");
    } else {
        EXPECT_EQ(seen_caller, my_user_name());
    }
}

TEST(ControlSocket, TheSocketIsOwnerOnly) {
    testing::temp_dir dir;
    const auto path = dir / "control.sock";
    served server(path, [](const control_request&, const std::string&) { return control_response{}; });
    ASSERT_TRUE(server.ok());
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ControlSocket, AStaleSocketFileIsReplacedAndRemovedOnStop) {
    testing::temp_dir dir;
    const auto path = dir / "control.sock";
    {
        // A socket file nobody listens on, as a crashed daemon leaves it.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, path.c_str());
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        ::close(fd);
        ASSERT_TRUE(std::filesystem::exists(path));
    }
    served server(path, [](const control_request&, const std::string&) {
        control_response r;
        r.ok = true;
        return r;
    });
    ASSERT_TRUE(server.ok()) << server.failure().message;
    control_request ping;
    ping.command = "ping";
    auto answer = send_control_request(path, ping, 10s);
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_TRUE(answer->ok);
    server.stop();
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ControlSocket, AFileThatIsNotASocketIsNeverRemoved) {
    testing::temp_dir dir;
    const auto path = dir / "control.sock";
    testing::write_file(path, "precious");
    served server(path, [](const control_request&, const std::string&) { return control_response{}; });
    EXPECT_FALSE(server.ok());
    EXPECT_NE(server.failure().message.find("not a socket"), std::string::npos);
    EXPECT_EQ(testing::read_file(path), "precious");
}

TEST(ControlSocket, NoDaemonIsAClearNotFound) {
    testing::temp_dir dir;
    control_request ping;
    ping.command = "ping";
    auto answer = send_control_request(dir / "control.sock", ping, 5s);
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error().code, errc::not_found);
    EXPECT_NE(answer.error().message.find("not running"), std::string::npos);
}

TEST(ControlSocket, ABadRequestGetsAnErrorAnswerNotTheHandler) {
    testing::temp_dir dir;
    const auto path = dir / "control.sock";
    bool called = false;
    served server(path, [&](const control_request&, const std::string&) {
        called = true;
        return control_response{};
    });
    ASSERT_TRUE(server.ok());
    control_request weird;
    weird.command = "format-disk";
    auto answer = send_control_request(path, weird, 10s);
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_FALSE(answer->ok);
    EXPECT_NE(answer->error.find("unknown command"), std::string::npos);
    EXPECT_FALSE(called);
}

TEST(ControlSocket, AnOverlongLineIsRefused) {
    testing::temp_dir dir;
    const auto path = dir / "control.sock";
    served server(path, [](const control_request&, const std::string&) { return control_response{}; });
    ASSERT_TRUE(server.ok());
    control_request huge;
    huge.command = "run-now";
    huge.policy = std::string(2 * max_control_line, 'p');
    auto answer = send_control_request(path, huge, 10s);
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_FALSE(answer->ok);
    EXPECT_NE(answer->error.find("longer than"), std::string::npos);
}

TEST(ControlSocket, ASilentClientIsDisconnectedAndOthersAreStillServed) {
    testing::temp_dir dir;
    const auto path = dir / "control.sock";
    served server(path, [](const control_request&, const std::string&) {
        control_response r;
        r.ok = true;
        return r;
    });
    ASSERT_TRUE(server.ok());
    int silent = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    control_request ping;
    ping.command = "ping";
    auto answer = send_control_request(path, ping, 10s);  // served while the silent one waits
    ASSERT_TRUE(answer);
    EXPECT_TRUE(answer->ok);
    // The silent client is closed by the daemon within its budget (5 s): recv sees EOF.
    timeval tv{15, 0};
    ::setsockopt(silent, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char c;
    EXPECT_EQ(::recv(silent, &c, 1, 0), 0);
    ::close(silent);
}

TEST(ControlSocket, APathTooLongForAUnixSocketIsRefused) {
    testing::temp_dir dir;
    const auto path = dir.path() / std::string(120, 'x');
    served server(path, [](const control_request&, const std::string&) { return control_response{}; });
    EXPECT_FALSE(server.ok());
    EXPECT_NE(server.failure().message.find("too long"), std::string::npos);
}

}  // namespace
}  // namespace atlas_restored::app
