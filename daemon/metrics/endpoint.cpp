#include "metrics/endpoint.hpp"

#include "metrics/text_format.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <charconv>
#include <exception>
#include <thread>

namespace atlas_restored::metrics {
namespace {

http::reply text_reply(int status,
                       std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8") {
    http::reply r;
    r.status = status;
    r.body = std::move(body);
    r.headers.push_back({"Content-Type", std::string(content_type)});
    // A scrape must see the state at the time of the scrape, never a cached copy.
    r.headers.push_back({"Cache-Control", "no-store"});
    return r;
}

}  // namespace

result<listen_address> parse_listen(std::string_view listen) {
    auto bad = [&](std::string why) {
        return make_error(errc::invalid_input, "metrics_listen '" + std::string(listen) + "': " + why);
    };
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == listen.size()) {
        return bad("must be HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464");
    }
    std::string_view host = listen.substr(0, colon);
    const std::string_view port_text = listen.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
        return bad("the port must be a number from 0 to 65535");
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return bad("an IPv6 address must be written in brackets, e.g. [::1]:9464");
    }
    std::string address = host == "localhost" ? "127.0.0.1" : std::string(host);
    boost::system::error_code addr_ec;
    boost::asio::ip::make_address(address, addr_ec);
    if (addr_ec) {
        return bad("the host must be an IP address (or localhost)");
    }
    return listen_address{std::move(address), static_cast<std::uint16_t>(port)};
}

http::reply handle_request(const http::request& req,
                           const scrape_function& scrape,
                           const health_check& health) {
    const std::string_view target(req.target);
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics" && path != "/healthz") {
        return text_reply(404, "not found: try /metrics or /healthz\n");
    }
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = text_reply(405, "method not allowed\n");
        r.headers.push_back({"Allow", "GET, HEAD"});
        return r;
    }
    if (path == "/metrics") {
        return text_reply(200, scrape(), text_content_type);
    }
    std::optional<std::string> problem;
    try {
        problem = health();
    } catch (const std::exception& e) {
        problem = std::string("the health check failed: ") + e.what();
    }
    if (problem) {
        return text_reply(503, *problem + "\n");
    }
    return text_reply(200, "ok\n");
}

namespace {

result<std::unique_ptr<http::server>> start_server(boost::asio::any_io_executor executor,
                                                   std::string_view listen,
                                                   scrape_function scrape,
                                                   health_check health_problem) {
    auto where = parse_listen(listen);
    if (!where) {
        return where.error();
    }
    http::server_options options;
    options.address = where->address;
    options.port = where->port;
    options.request_body_limit = 16 * 1024;  // scrapes and probes send no body
    auto handler = [scrape = std::move(scrape), health = std::move(health_problem)](
                       http::request req, http::connection_info) -> boost::asio::awaitable<http::reply> {
        co_return handle_request(req, scrape, health);
    };
    auto server = http::server::start(std::move(executor), std::move(options), std::move(handler));
    if (!server) {
        error e = server.error();
        e.message = "cannot serve metrics on " + std::string(listen) + ": " + e.message;
        return e;
    }
    return std::move(*server);
}

}  // namespace

struct endpoint::own_loop {
    boost::asio::io_context io{1};
    std::thread thread;
};

result<std::unique_ptr<endpoint>> endpoint::start(boost::asio::any_io_executor executor,
                                                  std::string_view listen,
                                                  scrape_function scrape,
                                                  health_check health_problem) {
    auto server = start_server(std::move(executor), listen, std::move(scrape), std::move(health_problem));
    if (!server) {
        return server.error();
    }
    return std::unique_ptr<endpoint>(new endpoint(nullptr, std::move(*server)));
}

result<std::unique_ptr<endpoint>> endpoint::start_threaded(std::string_view listen,
                                                           scrape_function scrape,
                                                           health_check health_problem) {
    auto loop = std::make_unique<own_loop>();
    // Bound here, before the thread runs: a busy port is reported to the caller, not to a log.
    auto server = start_server(loop->io.get_executor(), listen, std::move(scrape), std::move(health_problem));
    if (!server) {
        return server.error();
    }
    auto* io = &loop->io;
    loop->thread = std::thread([io] {
        auto guard = boost::asio::make_work_guard(*io);  // idle between scrapes, not finished
        io->run();
    });
    return std::unique_ptr<endpoint>(new endpoint(std::move(loop), std::move(*server)));
}

endpoint::endpoint(std::unique_ptr<own_loop> loop, std::unique_ptr<http::server> server)
    : loop_(std::move(loop)), server_(std::move(server)), port_(server_->port()) {}

endpoint::~endpoint() {
    stop();
    server_.reset();  // its sockets belong to loop_'s io_context: gone before it is
    loop_.reset();
}

std::uint16_t endpoint::port() const {
    return port_;
}

void endpoint::stop() {
    if (!server_) {
        return;
    }
    if (!loop_) {
        server_->stop();
        return;
    }
    if (loop_->thread.joinable()) {
        // The server is only touched on its own thread; stopping the loop there too means no
        // handler runs after this returns (unfinished ones are destroyed with the io_context).
        boost::asio::post(loop_->io, [server = server_.get(), io = &loop_->io] {
            server->stop();
            io->stop();
        });
        loop_->thread.join();
    }
}

}  // namespace atlas_restored::metrics
