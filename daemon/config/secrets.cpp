#include "config/secrets.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

extern char** environ;

namespace atlas_restored::config {

namespace {

constexpr std::size_t max_secret_bytes = 64 * 1024;

}  // namespace

std::optional<std::string> environment::get(const std::string& name) const {
    auto it = variables.find(name);
    if (it == variables.end()) {
        return std::nullopt;
    }
    return it->second;
}

environment environment::from_process() {
    environment env;
    for (char** p = environ; p && *p; ++p) {
        std::string_view entry = *p;
        auto eq = entry.find('=');
        if (eq != std::string_view::npos) {
            env.variables.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
        }
    }
    return env;
}

result<std::filesystem::path> secret_path(const secret_ref& ref, const environment& env) {
    switch (ref.source) {
        case secret_source::file:
            return std::filesystem::path(ref.name);
        case secret_source::credential: {
            auto dir = env.get("CREDENTIALS_DIRECTORY");
            if (!dir || dir->empty()) {
                return make_error(
                    errc::invalid_input,
                    "'" + ref.name +
                        "' is a relative name, looked up under $CREDENTIALS_DIRECTORY, which is not set "
                        "(use an absolute path, or LoadCredential= in the systemd unit)");
            }
            return std::filesystem::path(*dir) / ref.name;
        }
        case secret_source::env:
            break;
    }
    return make_error(errc::invalid_input, "environment variable " + ref.name + " is not a file");
}

result<std::string> read_secret(const secret_ref& ref, const environment& env) {
    if (ref.source == secret_source::env) {
        auto value = env.get(ref.name);
        if (!value) {
            return make_error(errc::not_found, "environment variable " + ref.name + " is not set");
        }
        if (value->empty()) {
            return make_error(errc::invalid_input, "environment variable " + ref.name + " is empty");
        }
        return *value;
    }
    auto path = secret_path(ref, env);
    if (!path) {
        return path.error();
    }
    std::error_code ec;
    if (std::filesystem::is_directory(*path, ec)) {
        return make_error(errc::io_failed, "cannot read " + path->string() + ": it is a directory");
    }
    std::ifstream in(*path, std::ios::binary);
    if (!in) {
        int saved = errno;
        return make_error(saved == ENOENT ? errc::not_found : errc::io_failed,
                          "cannot read " + path->string() + ": " + std::strerror(saved));
    }
    std::string text;
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_secret_bytes) {
            return make_error(errc::invalid_input,
                              path->string() + " is larger than 64 KiB; is it the right file?");
        }
    }
    if (in.bad()) {
        return make_error(errc::io_failed, "cannot read " + path->string());
    }
    // Editors and `echo` add one newline; the secret itself never ends with one.
    if (text.ends_with("\r\n")) {
        text.resize(text.size() - 2);
    } else if (text.ends_with("\n")) {
        text.pop_back();
    }
    if (text.empty()) {
        return make_error(errc::invalid_input, path->string() + " is empty");
    }
    return text;
}

std::vector<const secret_ref*> secret_refs(const configuration& c) {
    std::vector<const secret_ref*> out;
    auto add_auth = [&](const auth_settings& a) {
        if (a.service_account) {
            out.push_back(&a.service_account->client_secret);
        }
        if (a.api_key) {
            out.push_back(&a.api_key->private_key);
        }
    };
    add_auth(c.atlas.auth);
    if (c.atlas.proxy_credentials) {
        out.push_back(&*c.atlas.proxy_credentials);
    }
    for (const auto& p : c.profiles) {
        add_auth(p.atlas.auth);
        if (p.atlas.proxy_credentials) {
            out.push_back(&*p.atlas.proxy_credentials);
        }
    }
    for (const auto& n : c.notify) {
        out.push_back(&n.url);
    }
    return out;
}

std::vector<config_problem> check_credentials(const configuration& c, const environment& env) {
    std::vector<config_problem> problems;
    // A profile that inherits atlas:'s credentials holds a copy of the same reference: check once.
    std::set<std::tuple<std::string, int, std::string>> seen;
    for (const secret_ref* ref : secret_refs(c)) {
        if (!seen.emplace(ref->where.file, ref->where.line, ref->field_path).second) {
            continue;
        }
        auto value = read_secret(*ref, env);
        if (!value) {
            problems.push_back({ref->where.file,
                                ref->where.line,
                                ref->where.column,
                                ref->field_path,
                                value.error().message});
        }
    }
    return problems;
}

}  // namespace atlas_restored::config
