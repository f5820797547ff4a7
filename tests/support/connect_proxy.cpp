#include "support/connect_proxy.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace atlas_restored::testing {
namespace {

constexpr int poll_step_ms = 100;
constexpr std::size_t max_head = 16 * 1024;

bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool send_text(int fd, const std::string& text) {
    return send_all(fd, text.data(), text.size());
}

int dial_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

std::string header_value(const std::string& head, const std::string& name) {
    // Case-insensitive "\r\nName:" search.
    std::string lower_head = head;
    std::string lower_name = "\r\n" + name + ":";
    for (auto& c : lower_head) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (auto& c : lower_name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const auto at = lower_head.find(lower_name);
    if (at == std::string::npos) {
        return {};
    }
    auto begin = at + lower_name.size();
    while (begin < head.size() && head[begin] == ' ') {
        ++begin;
    }
    const auto end = head.find("\r\n", begin);
    return head.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

}  // namespace

connect_proxy::connect_proxy(connect_proxy_options options) : options_(std::move(options)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
        throw std::runtime_error("connect_proxy: socket failed");
    }
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error("connect_proxy: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

connect_proxy::~connect_proxy() {
    stop_ = true;
    if (acceptor_.joinable()) {
        acceptor_.join();
    }
    ::close(listen_fd_);
    std::vector<std::thread> workers;
    {
        std::lock_guard lock(mutex_);
        workers.swap(workers_);
    }
    for (auto& t : workers) {
        t.join();
    }
}

std::string connect_proxy::url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> connect_proxy::targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
}

std::vector<std::string> connect_proxy::request_heads() const {
    std::lock_guard lock(mutex_);
    return heads_;
}

void connect_proxy::accept_loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, poll_step_ms) <= 0) {
            continue;
        }
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        std::lock_guard lock(mutex_);
        workers_.emplace_back([this, fd] {
            serve(fd);
            ::close(fd);
        });
    }
}

void connect_proxy::serve(int client) {
    // The request head, byte by byte up to the blank line: nothing of the tunnel is read here.
    std::string head;
    while (!stop_ && head.size() < max_head && head.find("\r\n\r\n") == std::string::npos) {
        pollfd p{client, POLLIN, 0};
        const int ready = ::poll(&p, 1, poll_step_ms);
        if (ready == 0) {
            continue;
        }
        char c = 0;
        if (ready < 0 || ::recv(client, &c, 1, 0) != 1) {
            return;
        }
        head += c;
    }
    if (head.find("\r\n\r\n") == std::string::npos) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        heads_.push_back(head);
    }
    const auto line_end = head.find("\r\n");
    const std::string line = head.substr(0, line_end);
    if (line.rfind("CONNECT ", 0) != 0) {
        ++refused_;
        send_text(client,
                  "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    const auto space = line.find(' ', 8);
    const std::string target = line.substr(8, space == std::string::npos ? std::string::npos : space - 8);
    {
        std::lock_guard lock(mutex_);
        targets_.push_back(target);
    }
    if (options_.refuse_status != 0) {
        ++refused_;
        send_text(client,
                  "HTTP/1.1 " + std::to_string(options_.refuse_status) +
                      " Refused By Test Proxy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    if (!options_.required_authorization.empty() &&
        header_value(head, "Proxy-Authorization") != options_.required_authorization) {
        ++refused_;
        send_text(client,
                  "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
                  "realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    const auto colon = target.rfind(':');
    const std::string host = target.substr(0, colon);
    std::uint16_t port = 0;
    try {
        port = static_cast<std::uint16_t>(std::stoi(target.substr(colon + 1)));
    } catch (...) {
        port = 0;
    }
    if (options_.redirect_port) {
        port = *options_.redirect_port;
    } else if (colon == std::string::npos || (host != "127.0.0.1" && host != "localhost")) {
        port = 0;  // tests talk only to 127.0.0.1
    }
    const int upstream = port == 0 ? -1 : dial_loopback(port);
    if (upstream < 0) {
        ++refused_;
        send_text(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    ++tunnels_;
    if (!send_text(client, "HTTP/1.1 200 Connection established\r\n\r\n")) {
        ::close(upstream);
        return;
    }
    char buffer[16 * 1024];
    bool open = true;
    while (open && !stop_) {
        pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
        const int ready = ::poll(p, 2, poll_step_ms);
        if (ready < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < 2 && open; ++i) {
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                const int from = i == 0 ? client : upstream;
                const int to = i == 0 ? upstream : client;
                const ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
                if (n <= 0 || !send_all(to, buffer, static_cast<std::size_t>(n))) {
                    open = false;
                }
            }
        }
    }
    ::close(upstream);
}

}  // namespace atlas_restored::testing
