#include "app/control_socket.hpp"

#include "app/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace atlas_restored::app {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

struct control_server::state {
    explicit state(asio::any_io_executor ex) : acceptor(ex) {}
    stream::acceptor acceptor;
    std::filesystem::path path;
    handler on_request;
    bool stopped = false;
};

namespace {

constexpr std::chrono::seconds per_connection_budget{5};

std::optional<std::string> user_name_of(uid_t uid) {
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
        return std::nullopt;
    }
    return std::string(found->pw_name);
}

std::string peer_identity(int fd, const std::optional<std::string>& sudo_user) {
    struct ucred cred {};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return "unknown user";
    }
    return describe_caller(cred.uid, user_name_of(cred.uid), sudo_user);
}

asio::awaitable<void> serve_one(std::shared_ptr<control_server::state> s,
                                std::shared_ptr<stream::socket> socket) {
    // A client that connects and says nothing must not hold anything: close it after the budget.
    asio::steady_timer deadline(socket->get_executor());
    deadline.expires_after(per_connection_budget);
    deadline.async_wait([socket](boost::system::error_code ec) {
        if (!ec) {
            boost::system::error_code ignored;
            socket->close(ignored);
        }
    });

    std::string buffer;
    auto [ec, n] = co_await asio::async_read_until(*socket,
                                                   asio::dynamic_buffer(buffer, max_control_line + 1),
                                                   '\n',
                                                   asio::as_tuple(asio::use_awaitable));
    control_response response;
    if (ec) {
        if (buffer.size() <= max_control_line || s->stopped) {
            deadline.cancel();
            co_return;  // the client went away (or timed out) before sending a line
        }
        response.error = "request is longer than " + std::to_string(max_control_line) + " bytes";
    } else {
        std::string_view line(buffer.data(), n - 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        auto request = parse_control_request(line);
        if (!request) {
            response.error = request.error().message;
        } else {
            const auto caller = peer_identity(socket->native_handle(), request->sudo_user);
            response = s->on_request(*request, caller);
        }
    }
    const auto text = format_control_response(response);
    co_await asio::async_write(*socket, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    deadline.cancel();
    boost::system::error_code ignored;
    socket->shutdown(stream::socket::shutdown_both, ignored);
    socket->close(ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<control_server::state> s) {
    while (!s->stopped) {
        auto [ec, socket] = co_await s->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (s->stopped || ec == asio::error::operation_aborted) {
            co_return;
        }
        if (ec) {
            // EMFILE and friends: log, breathe, try again rather than spin.
            logger()->warn("control socket {}: accept failed: {}", s->path.string(), ec.message());
            asio::steady_timer pause(s->acceptor.get_executor());
            pause.expires_after(std::chrono::milliseconds(200));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        asio::co_spawn(s->acceptor.get_executor(),
                       serve_one(s, std::make_shared<stream::socket>(std::move(socket))),
                       asio::detached);
    }
}

error socket_error(const std::filesystem::path& path, std::string what, int err) {
    return make_error(errc::io_failed,
                      "control socket " + path.string() + ": " + what + ": " + std::strerror(err));
}

}  // namespace

result<std::unique_ptr<control_server>> control_server::start(asio::any_io_executor executor,
                                                              std::filesystem::path socket_path,
                                                              handler on_request) {
    if (socket_path.string().size() >= sizeof(sockaddr_un::sun_path)) {
        return make_error(errc::invalid_input,
                          "control socket " + socket_path.string() +
                              ": the path is too long for a Unix socket (" +
                              std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes at most)");
    }
    struct stat st {};
    if (::lstat(socket_path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return make_error(
                errc::io_failed,
                "control socket " + socket_path.string() + ": a file that is not a socket is in the way");
        }
        // Left by a daemon that crashed: we hold the state directory's lock, so nobody listens on it.
        if (::unlink(socket_path.c_str()) != 0) {
            return socket_error(socket_path, "cannot remove the stale socket", errno);
        }
    }

    auto s = std::make_shared<state>(executor);
    s->path = socket_path;
    s->on_request = std::move(on_request);
    boost::system::error_code ec;
    s->acceptor.open(stream(), ec);
    if (ec) {
        return make_error(errc::io_failed, "control socket " + socket_path.string() + ": " + ec.message());
    }
    // Created 0600 from the start (umask), not chmod-ed afterwards: no window where others may connect.
    const mode_t old_mask = ::umask(0177);
    s->acceptor.bind(stream::endpoint(socket_path.string()), ec);
    ::umask(old_mask);
    if (ec) {
        return make_error(errc::io_failed,
                          "control socket " + socket_path.string() + ": bind: " + ec.message());
    }
    s->acceptor.listen(16, ec);
    if (ec) {
        ::unlink(socket_path.c_str());
        return make_error(errc::io_failed,
                          "control socket " + socket_path.string() + ": listen: " + ec.message());
    }
    asio::co_spawn(executor, accept_loop(s), asio::detached);
    return std::unique_ptr<control_server>(new control_server(std::move(s)));
}

control_server::~control_server() {
    stop();
}

void control_server::stop() {
    if (!state_ || state_->stopped) {
        return;
    }
    state_->stopped = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    ::unlink(state_->path.c_str());
}

const std::filesystem::path& control_server::path() const {
    return state_->path;
}

// --- client (plain blocking sockets with poll(): `run-now` is a one-shot command)

namespace {

class fd_guard {
  public:
    explicit fd_guard(int fd) : fd_(fd) {}
    ~fd_guard() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        struct pollfd p {
            fd, events, 0
        };
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r > 0) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            return false;
        }
    }
}

}  // namespace

result<control_response> send_control_request(const std::filesystem::path& socket_path,
                                              const control_request& request,
                                              std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const auto text_path = socket_path.string();
    if (text_path.size() >= sizeof(address.sun_path)) {
        return make_error(errc::invalid_input, "control socket " + text_path + ": the path is too long");
    }
    std::memcpy(address.sun_path, text_path.c_str(), text_path.size() + 1);

    fd_guard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        return socket_error(socket_path, "socket", errno);
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        const int err = errno;
        if (err == ENOENT || err == ECONNREFUSED) {
            return make_error(
                errc::not_found,
                "the daemon is not running (nothing listens on " + text_path +
                    "); start it with `systemctl start atlas-restored` or `atlas-restored run`");
        }
        if (err == EACCES || err == EPERM) {
            return make_error(errc::io_failed,
                              "control socket " + text_path +
                                  ": permission denied (run as the daemon's user or root, e.g. with sudo)");
        }
        return socket_error(socket_path, "connect", err);
    }

    const auto line = format_control_request(request);
    std::size_t sent = 0;
    while (sent < line.size()) {
        if (!wait_ready(fd.get(), POLLOUT, deadline)) {
            return make_error(
                errc::timeout,
                "control socket " + text_path + ": the daemon did not accept the request in time");
        }
        const auto n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return socket_error(socket_path, "send", errno);
        }
        sent += static_cast<std::size_t>(n);
    }

    std::string answer;
    char chunk[1024];
    while (answer.find('\n') == std::string::npos) {
        if (answer.size() > 64 * 1024) {
            return make_error(errc::bad_response,
                              "control socket " + text_path + ": the daemon's answer is too long");
        }
        if (!wait_ready(fd.get(), POLLIN, deadline)) {
            return make_error(errc::timeout,
                              "control socket " + text_path + ": no answer from the daemon in time");
        }
        const auto n = ::recv(fd.get(), chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return socket_error(socket_path, "recv", errno);
        }
        if (n == 0) {
            break;
        }
        answer.append(chunk, static_cast<std::size_t>(n));
    }
    const auto newline = answer.find('\n');
    if (newline == std::string::npos) {
        return make_error(
            errc::connection_lost,
            "control socket " + text_path + ": the daemon closed the connection without answering");
    }
    return parse_control_response(std::string_view(answer).substr(0, newline));
}

}  // namespace atlas_restored::app
