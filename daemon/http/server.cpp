#include "http/server.hpp"

#include "util/logging.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <map>
#include <vector>

namespace atlas_restored::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// A streamed reply body goes out through a buffer of this size.
constexpr std::size_t body_chunk_size = 64 * 1024;
constexpr std::uint32_t request_header_limit = 64 * 1024;
// How long a closing connection may take to say goodbye (TLS close_notify, draining the input).
constexpr std::chrono::seconds close_grace{2};

std::shared_ptr<spdlog::logger> logger() {
    return module_logger("http");
}

// Closes the TCP connection at once: no close_notify, no draining. What the faults want.
void close_abruptly(beast::tcp_stream& stream) {
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
}

void reset_connection(beast::tcp_stream& stream) {
    error_code ec;
    // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    stream.socket().set_option(asio::socket_base::linger(true, 0), ec);
    stream.close();
}

// Says goodbye properly so the peer reads everything we wrote before it sees the end: TLS sends
// close_notify; plain TCP half-closes and drains what the peer still sends, because closing with
// unread input would send RST and could destroy the reply in flight.
asio::awaitable<void> close_gracefully(beast::ssl_stream<beast::tcp_stream>& stream) {
    beast::get_lowest_layer(stream).expires_after(close_grace);
    co_await stream.async_shutdown(use_nothrow);
    beast::get_lowest_layer(stream).close();
}

asio::awaitable<void> close_gracefully(beast::tcp_stream& stream) {
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 4096> sink;
    for (;;) {
        stream.expires_after(close_grace);
        auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
        if (read_ec) {
            break;
        }
    }
    stream.close();
}

bool status_has_body(int status) {
    return !(status < 200 || status == 204 || status == 304);
}

request convert_request(bhttp::request<bhttp::string_body>&& msg) {
    request out;
    out.method = std::string(msg.method_string());
    out.target = std::string(msg.target());
    for (const auto& field : msg) {
        out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    out.body = std::move(msg.body());
    return out;
}

reply simple_reply(int status, std::string text) {
    reply r;
    r.status = status;
    r.headers.push_back({"Content-Type", "text/plain"});
    r.body = std::move(text);
    r.close = true;
    return r;
}

// Everything a server is; server::impl only names it for the header's pimpl.
struct server_state {
    server_state(asio::any_io_executor ex, server_options opts, handler h)
        : executor(std::move(ex)), options(std::move(opts)), on_request(std::move(h)), acceptor(executor) {}

    // What stop() needs to end a connection that is busy elsewhere: a cancellation signal for the
    // coroutine (it may sit in a delay or in the handler) and the socket to close.
    struct live_connection {
        asio::cancellation_signal cancel;
        beast::tcp_stream* stream = nullptr;
    };

    asio::any_io_executor executor;
    server_options options;
    handler on_request;
    tcp::acceptor acceptor;
    std::optional<asio::ssl::context> tls;
    std::uint16_t bound_port = 0;
    server_stats stats;
    bool stopped = false;
    std::uint64_t next_connection_id = 0;
    std::map<std::uint64_t, std::shared_ptr<live_connection>> live;

    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        error_code ec;
        acceptor.close(ec);
        std::vector<std::shared_ptr<live_connection>> connections;
        for (const auto& [id, entry] : live) {
            connections.push_back(entry);
        }
        for (const auto& entry : connections) {
            entry->cancel.emit(asio::cancellation_type::terminal);
            if (entry->stream != nullptr) {
                entry->stream->close();
            }
        }
    }
};

using impl_ptr = std::shared_ptr<server_state>;

// Writes the header, then the body (all of it, or the first `body_bytes` of it for a truncation)
// through a fixed buffer. False when the connection can no longer be used.
template <class Stream>
asio::awaitable<bool> write_reply(
    impl_ptr self, Stream& stream, const reply& r, bool keep_alive, bool head_only) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    const auto timeout = self->options.idle_timeout;

    bhttp::response<bhttp::empty_body> head;
    head.version(11);
    head.result(static_cast<unsigned>(r.status >= 100 && r.status <= 999 ? r.status : 500));
    for (const auto& field : r.headers) {
        const auto known = bhttp::string_to_field(field.name);
        if (known == bhttp::field::content_length || known == bhttp::field::transfer_encoding ||
            known == bhttp::field::connection) {
            continue;  // the framing is this server's
        }
        head.insert(field.name, field.value);
    }
    const std::uint64_t length = r.body_source ? r.content_length : r.body.size();
    if (status_has_body(r.status)) {
        head.content_length(length);
    }
    head.keep_alive(keep_alive);

    bhttp::response_serializer<bhttp::empty_body> serializer(head);
    tcp_layer.expires_after(timeout);
    auto [header_ec, header_n] = co_await bhttp::async_write_header(stream, serializer, use_nothrow);
    if (header_ec) {
        co_return false;
    }

    std::uint64_t to_send = (head_only || !status_has_body(r.status)) ? 0 : length;
    if (r.inject == fault::truncate_body) {
        to_send = std::min(to_send, r.truncate_after);
    }
    if (!r.body_source) {
        tcp_layer.expires_after(timeout);
        auto [body_ec, body_n] = co_await asio::async_write(
            stream, asio::buffer(r.body.data(), static_cast<std::size_t>(to_send)), use_nothrow);
        co_return !body_ec;
    }

    std::vector<char> chunk(body_chunk_size);
    std::uint64_t offset = 0;
    while (offset < to_send) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), to_send - offset));
        const std::size_t got = r.body_source(offset, std::span<char>(chunk.data(), want));
        if (got == 0 || got > want) {
            // The source ended before content_length: the reply cannot be completed honestly.
            logger()->warn(
                "reply body source ended at byte {} of {}; closing the connection", offset, length);
            co_return false;
        }
        tcp_layer.expires_after(timeout);
        auto [body_ec, body_n] =
            co_await asio::async_write(stream, asio::buffer(chunk.data(), got), use_nothrow);
        if (body_ec) {
            co_return false;
        }
        offset += got;
    }
    co_return true;
}

template <class Stream>
asio::awaitable<void> serve(impl_ptr self, Stream& stream, std::uint64_t connection_id) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    connection_info info{connection_id, 0};

    for (;;) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(request_header_limit);
        parser.body_limit(self->options.request_body_limit);
        tcp_layer.expires_after(self->options.idle_timeout);
        auto [read_ec, read_n] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
        if (self->stopped) {
            co_return;
        }
        if (read_ec == bhttp::error::body_limit) {
            const bool head_only = parser.is_header_done() && parser.get().method() == bhttp::verb::head;
            if (co_await write_reply(
                    self, stream, simple_reply(413, "request body too large\n"), false, head_only)) {
                co_await close_gracefully(stream);
            }
            co_return;
        }
        if (read_ec) {
            const bool malformed =
                read_ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                read_ec != bhttp::error::end_of_stream && read_ec != bhttp::error::partial_message;
            if (malformed &&
                co_await write_reply(self, stream, simple_reply(400, "bad request\n"), false, false)) {
                co_await close_gracefully(stream);
            }
            co_return;  // EOF, idle timeout, reset: the client is gone
        }

        ++self->stats.requests;
        ++info.request_index;
        const bool client_keep_alive = parser.get().keep_alive();
        const bool head_only = parser.get().method() == bhttp::verb::head;
        request req = convert_request(parser.release());

        reply r;
        try {
            r = co_await self->on_request(std::move(req), info);
        } catch (const std::exception& e) {
            logger()->error("request handler failed on connection {}: {}", connection_id, e.what());
            r = simple_reply(500, "internal error\n");
        }
        if (self->stopped) {
            co_return;
        }
        if (r.delay > std::chrono::milliseconds::zero()) {
            asio::steady_timer stall(self->executor);
            stall.expires_after(r.delay);
            auto [timer_ec] = co_await stall.async_wait(use_nothrow);
            if (timer_ec || self->stopped) {
                co_return;
            }
        }

        switch (r.inject) {
            case fault::close_without_reply:
                close_abruptly(tcp_layer);
                co_return;
            case fault::reset:
                reset_connection(tcp_layer);
                co_return;
            case fault::truncate_body:
                co_await write_reply(self, stream, r, false, head_only);
                close_abruptly(tcp_layer);
                co_return;
            case fault::none:
                break;
        }

        const bool keep_alive = client_keep_alive && !r.close;
        if (!co_await write_reply(self, stream, r, keep_alive, head_only)) {
            co_return;
        }
        if (!keep_alive) {
            co_await close_gracefully(stream);
            co_return;
        }
    }
}

asio::awaitable<void> run_connection(impl_ptr self,
                                     tcp::socket socket,
                                     std::uint64_t connection_id,
                                     std::shared_ptr<server_state::live_connection> entry) {
    // The stream lives in this frame; stop() must never see it after the frame is gone, even when
    // the frame is destroyed without resuming (io_context shutdown).
    struct forget_stream {
        server_state::live_connection& entry;
        ~forget_stream() { entry.stream = nullptr; }
    } forget{*entry};
    if (!self->tls) {
        beast::tcp_stream stream(std::move(socket));
        entry->stream = &stream;
        co_await serve(self, stream, connection_id);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *self->tls);
    entry->stream = &beast::get_lowest_layer(stream);
    beast::get_lowest_layer(stream).expires_after(self->options.idle_timeout);
    auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (handshake_ec) {
        // Expected when a client refuses our certificate; not the server's problem.
        logger()->debug("TLS handshake on connection {} failed: {}", connection_id, handshake_ec.message());
    } else if (!self->stopped) {
        co_await serve(self, stream, connection_id);
    }
}

asio::awaitable<void> accept_loop(impl_ptr self) {
    while (!self->stopped) {
        auto [ec, socket] = co_await self->acceptor.async_accept(use_nothrow);
        if (self->stopped) {
            co_return;
        }
        if (ec) {
            // Out of descriptors and the like: pause instead of spinning, then keep serving.
            logger()->warn("accept on port {} failed: {}", self->bound_port, ec.message());
            asio::steady_timer pause(self->executor, std::chrono::milliseconds(100));
            co_await pause.async_wait(use_nothrow);
            continue;
        }
        ++self->stats.connections_accepted;
        // Header and body are separate writes; Nagle would delay the second until the client's
        // delayed ACK.
        socket.set_option(tcp::no_delay(true), ec);
        const std::uint64_t id = ++self->next_connection_id;
        auto entry = std::make_shared<server_state::live_connection>();
        self->live.emplace(id, entry);
        asio::co_spawn(
            self->executor,
            run_connection(self, std::move(socket), id, entry),
            asio::bind_cancellation_slot(entry->cancel.slot(), [self, entry, id](std::exception_ptr e) {
                self->live.erase(id);
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        logger()->error("connection {} ended with an exception: {}", id, ex.what());
                    }
                }
            }));
    }
}

}  // namespace

struct server::impl : server_state {
    using server_state::server_state;
};

result<std::unique_ptr<server>> server::start(boost::asio::any_io_executor executor,
                                              server_options options,
                                              handler on_request) {
    auto state = std::make_shared<impl>(std::move(executor), std::move(options), std::move(on_request));
    const auto& opts = state->options;

    if (opts.cert_file.has_value() != opts.key_file.has_value()) {
        return make_error(errc::invalid_input, "HTTPS needs both a certificate and a key file");
    }
    if (opts.cert_file) {
        state->tls.emplace(asio::ssl::context::tls_server);
        auto& ctx = *state->tls;
        if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
            return make_error(errc::tls_failed, "cannot require TLS 1.2 or newer");
        }
        ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression |
                        asio::ssl::context::single_dh_use);
        error_code ec;
        ctx.use_certificate_chain_file(*opts.cert_file, ec);
        if (ec) {
            return make_error(errc::io_failed,
                              "cannot load certificate " + *opts.cert_file + ": " + ec.message());
        }
        ctx.use_private_key_file(*opts.key_file, asio::ssl::context::pem, ec);
        if (ec) {
            return make_error(errc::io_failed,
                              "cannot load private key " + *opts.key_file + ": " + ec.message());
        }
        if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
            return make_error(
                errc::invalid_input,
                "private key " + *opts.key_file + " does not match certificate " + *opts.cert_file);
        }
    }

    error_code ec;
    const auto address = asio::ip::make_address(opts.address, ec);
    if (ec) {
        return make_error(errc::invalid_input, "invalid listen address '" + opts.address + "'");
    }
    const tcp::endpoint endpoint(address, opts.port);
    const std::string where = opts.address + ":" + std::to_string(opts.port);
    if (state->acceptor.open(endpoint.protocol(), ec); ec) {
        return make_error(errc::io_failed, "cannot open a socket for " + where + ": " + ec.message());
    }
    state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (state->acceptor.bind(endpoint, ec); ec) {
        return make_error(errc::io_failed, "cannot listen on " + where + ": " + ec.message());
    }
    if (state->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return make_error(errc::io_failed, "cannot listen on " + where + ": " + ec.message());
    }
    state->bound_port = state->acceptor.local_endpoint(ec).port();
    if (ec) {
        return make_error(errc::io_failed, "cannot read the bound port of " + where + ": " + ec.message());
    }

    asio::co_spawn(state->executor, accept_loop(state), asio::detached);
    logger()->debug(
        "listening on {}:{} ({})", opts.address, state->bound_port, state->tls ? "HTTPS" : "HTTP");
    return std::unique_ptr<server>(new server(std::move(state)));
}

server::server(std::shared_ptr<impl> impl) : impl_(std::move(impl)) {}

server::~server() {
    if (impl_) {
        impl_->stop();
    }
}

std::uint16_t server::port() const {
    return impl_->bound_port;
}

server_stats server::stats() const {
    return impl_->stats;
}

void server::stop() {
    impl_->stop();
}

}  // namespace atlas_restored::http
