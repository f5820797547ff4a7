// fake-atlas: the world (fake_atlas::world) behind the project's HTTPS server, with the real clock.
// Everything that decides an answer lives in the world; this file only reads options, makes the
// certificates, starts the server, prints the ready line and stops on SIGINT/SIGTERM.

#include "fake_atlas/options.hpp"
#include "fake_atlas/world.hpp"
#include "http/pki.hpp"
#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <openssl/rand.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace fs = std::filesystem;
using namespace atlas_restored;

namespace {

struct listen_address {
    std::string host;
    std::uint16_t port = 0;
};

result<listen_address> parse_listen(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return make_error(errc::invalid_input, "--listen: expected ADDRESS:PORT, like 127.0.0.1:0");
    }
    listen_address out;
    out.host = text.substr(0, colon);
    if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
        out.host = out.host.substr(1, out.host.size() - 2);
    }
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535) {
        return make_error(errc::invalid_input, "--listen: the port must be 0-65535");
    }
    out.port = static_cast<std::uint16_t>(std::stoul(port));
    return out;
}

struct tls_files {
    fs::path ca;
    fs::path cert;
    fs::path key;
};

// A CA and a server certificate for localhost and 127.0.0.1 (and --public-host): made when asked
// or missing, otherwise reused so a test's trust store stays valid across restarts.
result<tls_files> prepare_tls(const fs::path& dir, bool generate, const std::vector<std::string>& names) {
    tls_files f{dir / "ca.pem", dir / "server.pem", dir / "server-key.pem"};
    bool fresh_ca = false;
    if (generate || !fs::exists(f.ca) || !fs::exists(dir / "ca-key.pem")) {
        if (auto made = http::generate_ca(dir, "fake-atlas test CA"); !made) {
            return made.error();
        }
        fresh_ca = true;
    }
    if (fresh_ca || !fs::exists(f.cert) || !fs::exists(f.key)) {
        if (auto issued = http::issue_certificate(dir, f.cert, f.key, names); !issued) {
            return issued.error();
        }
    }
    return f;
}

result<void> write_port_file(const std::string& path, std::uint16_t port) {
    // Written whole, then renamed: a reader polling for the file never sees it half-written.
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        if (!out) {
            return make_error(errc::io_failed, "cannot write " + tmp);
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        return make_error(errc::io_failed, "cannot rename " + tmp + " to " + path + ": " + ec.message());
    }
    return {};
}

int fail(const std::string& message, int code) {
    std::fprintf(stderr, "fake-atlas: %s\n", message.c_str());
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    // stdout carries the one ready line; every log goes to stderr.
    spdlog::set_default_logger(spdlog::stderr_color_mt("fake-atlas"));

    auto parsed = fake_atlas::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (!parsed) {
        return fail(parsed.error().message, 2);
    }
    fake_atlas::program_options& p = *parsed;
    if (p.help) {
        std::fputs(fake_atlas::usage().c_str(), stdout);
        return 0;
    }
    if (p.version) {
        std::printf("fake-atlas %s\n", ATLAS_RESTORED_VERSION);
        return 0;
    }
    if (auto valid = fake_atlas::validate(p.world); !valid) {
        return fail(valid.error().message, 2);
    }
    if (p.tls_dir.empty()) {
        return fail("--tls-dir DIR is required (the CA and server certificate live there)", 2);
    }
    auto listen = parse_listen(p.listen);
    if (!listen) {
        return fail(listen.error().message, 2);
    }
    const std::string public_host = p.public_host.value_or(listen->host);
    std::vector<std::string> names{"localhost", "127.0.0.1"};
    if (public_host != "localhost" && public_host != "127.0.0.1") {
        names.push_back(public_host);
    }
    auto tls = prepare_tls(p.tls_dir, p.generate_ca, names);
    if (!tls) {
        return fail("TLS setup in " + p.tls_dir + " failed: " + tls.error().message, 1);
    }

    p.world.random = [](std::span<unsigned char> out) {
        if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
            throw std::runtime_error("RAND_bytes failed");
        }
    };
    fake_atlas::world world(p.world, std::chrono::system_clock::now());

    boost::asio::io_context io;
    const bool verbose = p.verbose;
    http::handler on_request = [&world, verbose](
                                   http::request req,
                                   http::connection_info info) -> boost::asio::awaitable<http::reply> {
        http::reply r =
            world.handle(req, {info.connection_id, info.request_index}, std::chrono::system_clock::now());
        if (verbose && req.target.rfind("/_fake", 0) != 0) {
            // The request log's redacted form: never the download key of a `url` path.
            if (const auto* e = world.last_request()) {
                spdlog::info("conn {} #{} {} {} -> {}",
                             info.connection_id,
                             info.request_index,
                             e->method,
                             e->target,
                             e->status == 0 ? std::string("(no reply)") : std::to_string(e->status));
            }
        }
        co_return r;
    };

    http::server_options so;
    so.address = listen->host;
    so.port = listen->port;
    so.cert_file = tls->cert.string();
    so.key_file = tls->key.string();
    auto server = http::server::start(io.get_executor(), so, on_request);
    if (!server) {
        return fail("cannot listen on " + p.listen + ": " + server.error().message, 1);
    }
    const std::uint16_t port = (*server)->port();
    world.set_base_url("https://" + public_host + ":" + std::to_string(port));

    if (p.port_file) {
        if (auto written = write_port_file(*p.port_file, port); !written) {
            return fail(written.error().message, 1);
        }
    }
    std::printf("fake-atlas listening on %s ca=%s\n",
                world.base_url().c_str(),
                fs::absolute(tls->ca).lexically_normal().string().c_str());
    std::fflush(stdout);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) {
            (*server)->stop();
            io.stop();
        }
    });
    io.run();
    return 0;
}
