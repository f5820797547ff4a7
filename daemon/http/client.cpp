#include "http/client.hpp"

#include "util/logging.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <poll.h>
#include <stdexcept>
#include <vector>

namespace atlas_restored::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// A streamed body passes through a buffer of this size; nothing larger is ever held.
constexpr std::size_t stream_chunk_size = 64 * 1024;
constexpr std::uint32_t response_header_limit = 64 * 1024;
// Idle connections older than this are dropped instead of reused: middleboxes forget quiet
// connections without telling either side, and a request on such a connection only times out.
constexpr std::chrono::seconds max_idle_age{30};

std::shared_ptr<spdlog::logger> logger() {
    return module_logger("http");
}

struct connection {
    connection(const asio::any_io_executor& executor, asio::ssl::context& tls) : stream(executor, tls) {}
    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since;
};

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// An idle connection is only worth reusing when nothing arrived on it while it sat in the pool:
// readable means the server closed it (FIN or a close_notify alert) or sent bytes nobody asked for.
bool looks_reusable(connection& c) {
    auto& socket = beast::get_lowest_layer(c.stream).socket();
    if (!socket.is_open() || c.buffer.size() != 0 ||
        std::chrono::steady_clock::now() - c.idle_since > max_idle_age) {
        return false;
    }
    pollfd p{socket.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

// asio's host_name_verification says no without saying why; record the reason in the store
// context so the handshake error can name it.
struct verify_host_name {
    asio::ssl::host_name_verification check;
    bool ip_host;
    bool operator()(bool preverified, asio::ssl::verify_context& ctx) const {
        if (!preverified) {
            return false;
        }
        if (check(preverified, ctx)) {
            return true;
        }
        X509_STORE_CTX_set_error(ctx.native_handle(),
                                 ip_host ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH);
        return false;
    }
};

bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

bool is_safe_field_value(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool is_safe_target(std::string_view s) {
    return !s.empty() && s.front() == '/' && std::all_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
    });
}

std::string host_header(const origin& where) {
    std::string host = where.host.find(':') != std::string::npos ? "[" + where.host + "]" : where.host;
    if (where.port != 443) {
        host += ":" + std::to_string(where.port);
    }
    return host;
}

bool is_idempotent_retry_safe(const std::string& method) {
    return method == "GET" || method == "HEAD";
}

// Rejects what would let a caller's data break the message framing (header injection); the rest
// becomes a Beast request with the framing headers this client owns.
result<bhttp::request<bhttp::string_body>> build_request(const origin& where,
                                                         const request& req,
                                                         const std::string& user_agent) {
    if (!is_token(req.method)) {
        return make_error(errc::invalid_input, "invalid HTTP method");
    }
    if (!is_safe_target(req.target)) {
        return make_error(errc::invalid_input, "invalid request target (must start with '/', no spaces)");
    }
    bhttp::request<bhttp::string_body> msg;
    msg.method_string(req.method);
    msg.target(req.target);
    msg.version(11);
    for (const auto& field : req.headers) {
        if (!is_token(field.name) || !is_safe_field_value(field.value)) {
            return make_error(errc::invalid_input, "invalid request header '" + field.name + "'");
        }
        const auto known = bhttp::string_to_field(field.name);
        if (known == bhttp::field::content_length || known == bhttp::field::transfer_encoding) {
            continue;  // the framing is computed from the body below
        }
        msg.insert(field.name, field.value);
    }
    if (msg.find(bhttp::field::host) == msg.end()) {
        msg.set(bhttp::field::host, host_header(where));
    }
    if (msg.find(bhttp::field::user_agent) == msg.end()) {
        msg.set(bhttp::field::user_agent, user_agent);
    }
    msg.body() = req.body;
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
        msg.content_length(req.body.size());
    }
    return msg;
}

template <class Fields>
response convert_head(const bhttp::response_header<Fields>& head) {
    response out;
    out.status = static_cast<int>(head.result_int());
    for (const auto& field : head) {
        out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    return out;
}

const boost::system::error_category& beast_http_category() {
    return bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

// Turns an I/O error during an exchange into the project's error. `doing` completes "while ...".
error exchange_error(const error_code& ec,
                     std::string_view doing,
                     const origin& where,
                     const std::string& method,
                     bool request_sent,
                     std::size_t body_limit) {
    error e;
    const std::string peer = to_string(where);
    if (ec == beast::error::timeout) {
        e = make_error(errc::timeout, method + " to " + peer + " timed out while " + std::string(doing));
    } else if (ec == bhttp::error::body_limit) {
        e = make_error(errc::bad_response,
                       "response to " + method + " from " + peer + " is larger than the limit of " +
                           std::to_string(body_limit) + " bytes");
    } else if (ec == asio::error::operation_aborted) {
        e = make_error(errc::cancelled,
                       method + " to " + peer + " was cancelled while " + std::string(doing));
    } else if (ec.category() == beast_http_category() && ec != bhttp::error::end_of_stream &&
               ec != bhttp::error::partial_message) {
        e = make_error(errc::bad_response, "malformed HTTP response from " + peer + ": " + ec.message());
    } else {
        e = make_error(errc::connection_lost,
                       "connection to " + peer + " lost while " + std::string(doing) + " (" + method +
                           "): " + ec.message());
    }
    e.request_sent = request_sent;
    return e;
}

// What one attempt learnt about the connection, for the retry decision and the pool.
struct attempt_state {
    bool write_failed_clean = false;  // the write failed before any byte was accepted
    bool response_started = false;    // at least one response byte arrived
    bool keep_alive = false;          // the connection may carry another request
    int status = 0;                   // the response's status once its header was read
};

// Everything a client is; https_client::impl only names it for the header's pimpl.
struct client_state {
    client_state(asio::any_io_executor ex, client_options opts)
        : executor(std::move(ex)), options(std::move(opts)), tls(asio::ssl::context::tls_client) {}

    asio::any_io_executor executor;
    client_options options;
    asio::ssl::context tls;
    // Keyed by "host:port"; the most recently used connection is at the back.
    std::map<std::string, std::deque<std::unique_ptr<connection>>> idle;
    client_stats stats;

    std::unique_ptr<connection> take_idle(const origin& where) {
        auto it = idle.find(to_string(where));
        if (it == idle.end()) {
            return nullptr;
        }
        auto& queue = it->second;
        std::unique_ptr<connection> found;
        while (!queue.empty() && !found) {
            auto candidate = std::move(queue.back());
            queue.pop_back();
            if (looks_reusable(*candidate)) {
                found = std::move(candidate);
            }
        }
        if (queue.empty()) {
            idle.erase(it);
        }
        return found;
    }

    // --- the max_buffered_per_origin limit: a counting semaphore per origin, handed over in
    // the order the waiters came.
    struct slot_waiter {
        explicit slot_waiter(const asio::any_io_executor& ex) : wake(ex) {
            wake.expires_at(asio::steady_timer::time_point::max());
        }
        asio::steady_timer wake;
        bool granted = false;
    };
    struct origin_slots {
        std::size_t in_use = 0;
        std::deque<std::shared_ptr<slot_waiter>> waiters;
    };
    std::map<std::string, origin_slots> slots;

    void release_slot(const std::string& key) {
        auto it = slots.find(key);
        if (it == slots.end()) {
            return;
        }
        auto& s = it->second;
        if (!s.waiters.empty()) {
            auto next = std::move(s.waiters.front());  // the slot passes on: in_use stays
            s.waiters.pop_front();
            next->granted = true;
            next->wake.cancel();
            return;
        }
        if (--s.in_use == 0) {
            slots.erase(it);
        }
    }

    void put_idle(const origin& where, std::unique_ptr<connection> c) {
        if (options.max_idle_per_origin == 0) {
            return;
        }
        auto& queue = idle[to_string(where)];
        c->idle_since = std::chrono::steady_clock::now();
        // Reset the deadline: an idle connection must not be closed by a timer meant for a request.
        beast::get_lowest_layer(c->stream).expires_never();
        queue.push_back(std::move(c));
        while (queue.size() > options.max_idle_per_origin) {
            queue.pop_front();
        }
    }
};

using impl_ptr = std::shared_ptr<client_state>;

// Holds one of an origin's buffered-exchange slots until it goes out of scope.
class slot_guard {
  public:
    slot_guard() = default;
    slot_guard(impl_ptr self, std::string key) : self_(std::move(self)), key_(std::move(key)) {}
    slot_guard(slot_guard&& other) noexcept = default;
    slot_guard& operator=(slot_guard&&) = delete;
    slot_guard(const slot_guard&) = delete;
    slot_guard& operator=(const slot_guard&) = delete;
    ~slot_guard() {
        if (self_) {
            self_->release_slot(key_);
        }
    }

  private:
    impl_ptr self_;
    std::string key_;
};

// Waits for a slot when the origin has max_buffered_per_origin exchanges in flight. Cancelled
// (shutdown) while waiting: errc::cancelled, and the queue forgets the waiter.
asio::awaitable<result<slot_guard>> acquire_slot(impl_ptr self, const origin& where) {
    const auto limit = self->options.max_buffered_per_origin;
    if (limit == 0) {
        co_return slot_guard{};
    }
    const auto key = to_string(where);
    auto& s = self->slots[key];
    if (s.in_use < limit) {
        ++s.in_use;
        co_return slot_guard{self, key};
    }
    const auto waiter = std::make_shared<client_state::slot_waiter>(self->executor);
    s.waiters.push_back(waiter);
    error_code ec;
    co_await waiter->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (waiter->granted) {
        co_return slot_guard{self, key};
    }
    auto& queue = self->slots[key].waiters;
    queue.erase(std::remove(queue.begin(), queue.end(), waiter), queue.end());
    co_return make_error(errc::cancelled, "cancelled while waiting for a connection to " + key);
}

// CONNECT host:port on a fresh TCP connection to the proxy. On success the connection is a byte
// pipe to the target and the TLS handshake follows on it. Nothing the proxy sends after its
// answer's header is read: a 2xx to CONNECT has no body, and the TLS server speaks only after the
// client hello.
asio::awaitable<result<void>> open_tunnel(beast::tcp_stream& stream,
                                          const proxy_settings& proxy,
                                          const origin& target,
                                          const std::string& user_agent,
                                          std::chrono::milliseconds timeout) {
    const std::string text = connect_request(proxy, target, user_agent);
    stream.expires_after(timeout);
    auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(text), use_nothrow);
    if (write_ec) {
        co_return make_error(write_ec == beast::error::timeout ? errc::timeout : errc::connect_failed,
                             "proxy " + proxy.display + ": sending CONNECT failed: " + write_ec.message());
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::empty_body> parser;
    parser.header_limit(response_header_limit);
    parser.skip(true);  // no body after the header of a CONNECT answer
    stream.expires_after(timeout);
    auto [read_ec, read_n] = co_await bhttp::async_read_header(stream, buffer, parser, use_nothrow);
    if (read_ec) {
        co_return make_error(read_ec == beast::error::timeout ? errc::timeout : errc::connect_failed,
                             "proxy " + proxy.display + " did not answer CONNECT to " + to_string(target) +
                                 ": " + read_ec.message());
    }
    const auto& head = parser.get();
    const int status = static_cast<int>(head.result_int());
    if (status < 200 || status > 299) {
        co_return proxy_refusal(proxy, target, status, std::string(head.reason()));
    }
    if (buffer.size() != 0) {
        co_return make_error(errc::bad_response,
                             "proxy " + proxy.display + " sent data after its CONNECT answer");
    }
    logger()->debug("tunnel to {} open through proxy {}", to_string(target), proxy.display);
    co_return result<void>{};
}

asio::awaitable<result<std::unique_ptr<connection>>> open_connection(impl_ptr self, origin where) {
    const std::string peer = to_string(where);
    const auto timeout = self->options.connect_timeout;

    // Resolver operations cannot take a deadline; a timer cancels a lookup that takes too long.
    auto resolver = std::make_shared<tcp::resolver>(self->executor);
    asio::steady_timer resolve_deadline(self->executor);
    resolve_deadline.expires_after(timeout);
    resolve_deadline.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](error_code ec) {
        if (auto r = weak.lock(); r && !ec) {
            r->cancel();
        }
    });
    // Through a proxy the TCP connection goes to the proxy; the TLS session (below) still goes to,
    // and verifies, the real host.
    const proxy_settings* via = nullptr;
    if (self->options.proxy && !bypasses_proxy(self->options.proxy->no_proxy, where.host, where.port)) {
        via = &*self->options.proxy;
    }
    const std::string dial_host = via ? via->host : where.host;
    const std::uint16_t dial_port = via ? via->port : where.port;
    const std::string dial_name = via ? "proxy " + via->display : peer;
    auto [resolve_ec, endpoints] =
        co_await resolver->async_resolve(dial_host, std::to_string(dial_port), use_nothrow);
    const bool resolve_timed_out = resolve_deadline.expiry() <= std::chrono::steady_clock::now();
    resolve_deadline.cancel();
    if (resolve_ec) {
        if (resolve_ec == asio::error::operation_aborted && resolve_timed_out) {
            co_return make_error(errc::timeout, "resolving " + dial_host + " timed out");
        }
        co_return make_error(errc::connect_failed,
                             "cannot resolve " + (via ? dial_name : dial_host) + ": " + resolve_ec.message());
    }

    auto conn = std::make_unique<connection>(self->executor, self->tls);
    auto& tcp_layer = beast::get_lowest_layer(conn->stream);
    tcp_layer.expires_after(timeout);
    auto [connect_ec, endpoint] = co_await tcp_layer.async_connect(endpoints, use_nothrow);
    if (connect_ec == beast::error::timeout) {
        co_return make_error(errc::timeout, "connecting to " + dial_name + " timed out");
    }
    if (connect_ec == asio::error::operation_aborted) {
        co_return make_error(errc::cancelled, "connecting to " + dial_name + " was cancelled");
    }
    if (connect_ec) {
        co_return make_error(errc::connect_failed,
                             "cannot connect to " + dial_name + ": " + connect_ec.message());
    }
    ++self->stats.connections_opened;
    // Requests and TLS records are written whole; Nagle would only hold back their tails until the
    // peer's delayed ACK (40 ms a time on Linux).
    error_code nodelay_ec;
    tcp_layer.socket().set_option(tcp::no_delay(true), nodelay_ec);

    if (via != nullptr) {
        auto tunnel = co_await open_tunnel(tcp_layer, *via, where, self->options.user_agent, timeout);
        if (!tunnel) {
            co_return tunnel.error();
        }
    }

    SSL* ssl = conn->stream.native_handle();
    const bool ip_host = is_ip_literal(where.host);
    // SNI carries host names only (RFC 6066); an IP address is checked against the certificate's
    // IP entries by the verification below.
    if (!ip_host && SSL_set_tlsext_host_name(ssl, where.host.c_str()) != 1) {
        co_return make_error(errc::tls_failed, "cannot set the TLS server name for " + peer);
    }
    conn->stream.set_verify_mode(asio::ssl::verify_peer);
    conn->stream.set_verify_callback(
        verify_host_name{asio::ssl::host_name_verification(where.host), ip_host});

    tcp_layer.expires_after(timeout);
    auto [handshake_ec] = co_await conn->stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    if (handshake_ec) {
        const long verify_result = SSL_get_verify_result(ssl);
        if (verify_result != X509_V_OK) {
            co_return make_error(errc::tls_failed,
                                 "TLS verification of " + peer + " failed: certificate verify failed (" +
                                     X509_verify_cert_error_string(verify_result) + ")");
        }
        if (handshake_ec == beast::error::timeout) {
            co_return make_error(errc::timeout, "TLS handshake with " + peer + " timed out");
        }
        if (handshake_ec == asio::error::operation_aborted) {
            co_return make_error(errc::cancelled, "TLS handshake with " + peer + " was cancelled");
        }
        if (handshake_ec.category() == asio::error::get_ssl_category()) {
            // The peer speaks no acceptable TLS (old protocol, no shared cipher, not TLS at all):
            // a configuration problem that retrying will not fix.
            co_return make_error(errc::tls_failed,
                                 "TLS handshake with " + peer + " failed: " + handshake_ec.message());
        }
        co_return make_error(
            errc::connect_failed,
            "connection to " + peer + " lost during the TLS handshake: " + handshake_ec.message());
    }
    logger()->debug("opened TLS connection to {}", peer);
    co_return conn;
}

// One request and its response on an open connection. The references stay valid: do_send awaits
// this directly and owns all of them.
asio::awaitable<result<response>> exchange(impl_ptr self,
                                           connection& c,
                                           origin where,
                                           bhttp::request<bhttp::string_body>& msg,
                                           std::chrono::milliseconds timeout,
                                           body_sink* sink,
                                           attempt_state& state) {
    const std::string method(msg.method_string());
    const std::size_t body_limit = self->options.body_limit;
    auto& tcp_layer = beast::get_lowest_layer(c.stream);

    // A buffered exchange has one deadline for writing and reading; a streamed one bounds each
    // step separately so a long download is not cut off while it makes progress.
    tcp_layer.expires_after(timeout);
    auto [write_ec, written] = co_await bhttp::async_write(c.stream, msg, use_nothrow);
    if (write_ec) {
        state.write_failed_clean = written == 0 && write_ec != beast::error::timeout;
        co_return exchange_error(write_ec, "sending the request", where, method, true, body_limit);
    }

    if (sink == nullptr) {
        bhttp::response_parser<bhttp::string_body> parser;
        parser.header_limit(response_header_limit);
        parser.body_limit(body_limit);
        if (msg.method() == bhttp::verb::head) {
            parser.skip(true);
        }
        auto [read_ec, read_n] = co_await bhttp::async_read(c.stream, c.buffer, parser, use_nothrow);
        state.response_started = parser.got_some() || c.buffer.size() != 0;
        if (parser.is_header_done()) {
            state.status = static_cast<int>(parser.get().result_int());
        }
        if (read_ec) {
            co_return exchange_error(read_ec, "reading the response", where, method, true, body_limit);
        }
        state.keep_alive = parser.keep_alive();
        response out = convert_head(parser.get().base());
        out.body = std::move(parser.get().body());
        co_return out;
    }

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(response_header_limit);
    parser.body_limit(boost::none);  // streamed bodies may be any size; only the sink keeps them
    if (msg.method() == bhttp::verb::head) {
        parser.skip(true);
    }
    auto [head_ec, head_n] = co_await bhttp::async_read_header(c.stream, c.buffer, parser, use_nothrow);
    state.response_started = parser.got_some() || c.buffer.size() != 0;
    if (head_ec) {
        co_return exchange_error(head_ec, "reading the response header", where, method, true, body_limit);
    }
    response head = convert_head(parser.get().base());
    state.status = head.status;
    if (auto r = sink->on_head(head); !r) {
        error e = r.error();
        e.request_sent = true;
        co_return e;
    }

    std::vector<char> chunk(stream_chunk_size);
    // Beast reads at most the read buffer's free capacity (at least 512 bytes) per read_some. Left
    // at what the header needed, a 1 GiB body arrived in two million 512-byte pieces, each its own
    // sink call, pwrite and reactor round (bench/run download: a quarter of curl's speed). With
    // room for a chunk, a read takes whatever TLS has decrypted (a whole record, up to 16 KiB).
    c.buffer.reserve(stream_chunk_size);
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        tcp_layer.expires_after(timeout);
        auto [read_ec, read_n] = co_await bhttp::async_read_some(c.stream, c.buffer, parser, use_nothrow);
        if (read_ec == bhttp::error::need_buffer) {
            read_ec = {};
        }
        if (read_ec) {
            co_return exchange_error(read_ec, "reading the response body", where, method, true, body_limit);
        }
        const std::size_t got = chunk.size() - parser.get().body().size;
        if (got != 0) {
            if (auto r = sink->on_data(std::span<const char>(chunk.data(), got)); !r) {
                error e = r.error();
                e.request_sent = true;
                co_return e;
            }
        }
    }
    state.keep_alive = parser.keep_alive();
    co_return head;
}

asio::awaitable<result<response>> do_send(impl_ptr self,
                                          origin where,
                                          request req,
                                          std::shared_ptr<body_sink> sink) {
    auto msg = build_request(where, req, self->options.user_agent);
    if (!msg) {
        co_return msg.error();
    }
    const auto timeout = req.timeout.value_or(self->options.request_timeout);
    const bool idempotent = is_idempotent_retry_safe(req.method);
    ++self->stats.requests;
    const auto report = [&self](int status) {
        if (self->options.on_response) {
            self->options.on_response(status);
        }
    };

    // Streams are not limited (see client_options::max_buffered_per_origin).
    std::optional<slot_guard> slot;
    if (!sink) {
        auto acquired = co_await acquire_slot(self, where);
        if (!acquired) {
            co_return acquired.error();
        }
        slot.emplace(std::move(*acquired));
    }

    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<connection> conn = attempt == 0 ? self->take_idle(where) : nullptr;
        const bool reused = conn != nullptr;
        if (!conn) {
            auto fresh = co_await open_connection(self, where);
            if (!fresh) {
                report(0);
                co_return fresh.error();
            }
            conn = std::move(*fresh);
        }

        attempt_state state;
        auto r = co_await exchange(self, *conn, where, *msg, timeout, sink.get(), state);
        if (r) {
            if (state.keep_alive) {
                self->put_idle(where, std::move(conn));
            }
            report(r->status);
            co_return r;
        }
        // A failed exchange leaves the connection in an unknown state: it is closed, not pooled.
        conn.reset();

        // A reused connection the server had already given up on fails before any answer. Trying
        // again on a fresh one is safe when the request cannot have reached a live server (the
        // write itself failed) or when repeating it cannot change anything (GET, HEAD).
        const bool stale = reused && r.error().code == errc::connection_lost && !state.response_started;
        if (attempt == 0 && stale && (idempotent || state.write_failed_clean)) {
            logger()->debug("reused connection to {} was closed by the server; retrying {} on a new one",
                            to_string(where),
                            req.method);
            continue;
        }
        report(state.status);
        co_return r;
    }
}

}  // namespace

struct https_client::impl : client_state {
    using client_state::client_state;
};

result<https_client> https_client::create(boost::asio::any_io_executor executor, client_options options) {
    auto state = std::make_shared<impl>(std::move(executor), std::move(options));
    SSL_CTX* ctx = state->tls.native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        return make_error(errc::tls_failed, "cannot require TLS 1.2 or newer");
    }
    state->tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
    state->tls.set_verify_mode(asio::ssl::verify_peer);
    error_code ec;
    if (state->options.ca_file) {
        state->tls.load_verify_file(*state->options.ca_file, ec);
        if (ec) {
            return make_error(
                errc::io_failed,
                "cannot load CA certificates from " + *state->options.ca_file + ": " + ec.message());
        }
    } else {
        state->tls.set_default_verify_paths(ec);
        if (ec) {
            return make_error(errc::io_failed, "cannot load the system CA certificates: " + ec.message());
        }
    }
    return https_client(std::move(state));
}

https_client::https_client(std::shared_ptr<impl> impl) : impl_(std::move(impl)) {}

boost::asio::awaitable<result<response>> https_client::send(origin where, request req) {
    return do_send(impl_, std::move(where), std::move(req), nullptr);
}

boost::asio::awaitable<result<response>> https_client::send_streaming(origin where,
                                                                      request req,
                                                                      std::shared_ptr<body_sink> sink) {
    if (!sink) {
        throw std::invalid_argument("https_client::send_streaming needs a sink");
    }
    return do_send(impl_, std::move(where), std::move(req), std::move(sink));
}

client_stats https_client::stats() const {
    return impl_->stats;
}

void https_client::close_idle_connections() {
    impl_->idle.clear();
}

}  // namespace atlas_restored::http
