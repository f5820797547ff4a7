#include "util/logging.hpp"

#include "util/time.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace atlas_restored {
namespace {

namespace lvl = spdlog::level;

constexpr std::string_view redacted = "<redacted>";

bool ieq(char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Case-insensitive search from `from`.
std::size_t find_ci(std::string_view text, std::string_view needle, std::size_t from) {
    if (needle.empty() || text.size() < needle.size()) {
        return std::string_view::npos;
    }
    for (std::size_t i = from; i + needle.size() <= text.size(); ++i) {
        bool match = true;
        for (std::size_t j = 0; j < needle.size() && match; ++j) {
            match = ieq(text[i + j], needle[j]);
        }
        if (match) {
            return i;
        }
    }
    return std::string_view::npos;
}

bool ends_url(char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '<' || c == '>' ||
           c == '`' || c == ')' || c == ']' || c == '}' || c == ',';
}

// "scheme://user:pass@host/path?query#frag" -> "scheme://<redacted>@host/path?<redacted>#frag".
std::string redact_urls(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    while (true) {
        const std::size_t scheme_end = text.find("://", pos);
        if (scheme_end == std::string_view::npos) {
            out.append(text.substr(pos));
            return out;
        }
        std::size_t end = scheme_end + 3;
        while (end < text.size() && !ends_url(text[end])) {
            ++end;
        }
        const std::size_t authority = scheme_end + 3;
        out.append(text.substr(pos, authority - pos));
        std::string_view url = text.substr(authority, end - authority);
        const std::size_t path_start = std::min(url.find_first_of("/?#"), url.size());
        const std::size_t at = url.substr(0, path_start).rfind('@');
        if (at != std::string_view::npos) {
            out.append(redacted);
            url.remove_prefix(at);  // keeps "@host…"
        }
        const std::size_t query = url.find('?');
        if (query == std::string_view::npos) {
            out.append(url);
        } else {
            out.append(url.substr(0, query + 1));
            out.append(redacted);
            const std::size_t fragment = url.find('#', query);
            if (fragment != std::string_view::npos) {
                out.append(url.substr(fragment));
            }
        }
        pos = end;
    }
}

// key, then an optional closing quote, spaces, ':' or '=', spaces: the value that follows is replaced.
std::string redact_key_values(std::string text) {
    static constexpr std::array<std::string_view, 9> keys = {"authValue",
                                                             "access_token",
                                                             "refresh_token",
                                                             "client_secret",
                                                             "private_key",
                                                             "privateKey",
                                                             "password",
                                                             "apiKey",
                                                             "secret"};
    for (std::string_view key : keys) {
        std::size_t pos = 0;
        while ((pos = find_ci(text, key, pos)) != std::string::npos) {
            const std::size_t key_end = pos + key.size();
            const bool starts_word = pos == 0 || !is_word_char(text[pos - 1]);
            std::size_t i = key_end;
            if (!starts_word || (i < text.size() && is_word_char(text[i]))) {
                pos = key_end;
                continue;  // part of a longer name: client_secret_file, secrets, …
            }
            if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
                ++i;
            }
            while (i < text.size() && text[i] == ' ') {
                ++i;
            }
            if (i >= text.size() || (text[i] != ':' && text[i] != '=')) {
                pos = key_end;
                continue;
            }
            ++i;
            while (i < text.size() && text[i] == ' ') {
                ++i;
            }
            std::size_t value_start = i;
            std::size_t value_end = i;
            if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
                const char quote = text[i];
                value_start = i + 1;
                value_end = value_start;
                while (value_end < text.size() && text[value_end] != quote) {
                    value_end += text[value_end] == '\\' ? 2 : 1;
                }
                value_end = std::min(value_end, text.size());
            } else {
                while (value_end < text.size() &&
                       !std::isspace(static_cast<unsigned char>(text[value_end])) && text[value_end] != ',' &&
                       text[value_end] != ';' && text[value_end] != '&' && text[value_end] != '}' &&
                       text[value_end] != ']' && text[value_end] != ')') {
                    ++value_end;
                }
            }
            if (value_end > value_start &&
                text.compare(value_start, value_end - value_start, redacted) != 0) {
                text.replace(value_start, value_end - value_start, redacted);
                value_end = value_start + redacted.size();
            }
            pos = value_end;
        }
    }
    return text;
}

// "Bearer abc", "Basic dXNlcjpw", "Digest username=…" and whatever follows "Authorization:".
std::string redact_auth_schemes(std::string text) {
    {
        std::size_t pos = 0;
        while ((pos = find_ci(text, "authorization", pos)) != std::string::npos) {
            std::size_t i = pos + 13;
            while (i < text.size() && (text[i] == '"' || text[i] == ' ')) {
                ++i;
            }
            if (i < text.size() && (text[i] == ':' || text[i] == '=')) {
                ++i;
                while (i < text.size() && text[i] == ' ') {
                    ++i;
                }
                // "Authorization":"…" (JSON) ends at its closing quote; a header line at its end,
                // quotes and all (Digest parameters are quoted).
                const bool quoted = i < text.size() && text[i] == '"';
                if (quoted) {
                    ++i;
                }
                std::size_t end = i;
                while (end < text.size() && text[end] != '\n' && text[end] != '\r' &&
                       !(quoted && text[end] == '"')) {
                    end += quoted && text[end] == '\\' ? 2 : 1;
                }
                end = std::min(end, text.size());
                if (end > i) {
                    text.replace(i, end - i, redacted);
                    end = i + redacted.size();
                }
                pos = end;
            } else {
                pos = i;
            }
        }
    }
    for (std::string_view scheme : {std::string_view("Bearer "), std::string_view("Basic ")}) {
        std::size_t pos = 0;
        while ((pos = find_ci(text, scheme, pos)) != std::string::npos) {
            const std::size_t start = pos + scheme.size();
            std::size_t end = start;
            while (end < text.size() &&
                   (std::isalnum(static_cast<unsigned char>(text[end])) ||
                    std::string_view("-._~+/=").find(text[end]) != std::string_view::npos)) {
                ++end;
            }
            // Words in prose ("Basic auth") are short and not credentials; tokens are long.
            if (end - start >= 12 && text.compare(start, end - start, redacted) != 0) {
                text.replace(start, end - start, redacted);
                end = start + redacted.size();
            }
            pos = end;
        }
    }
    return text;
}

void append_escaped_json(std::string& out, std::string_view text) {
    out += '"';
    for (char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[(c >> 4) & 0xf];
                    out += hex[c & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

// Text lines: one event a line, so line breaks and other control characters are escaped.
void append_escaped_text(std::string& out, std::string_view text) {
    for (char c : text) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
            out += '?';
        } else {
            out += c;
        }
    }
}

std::string_view level_name(lvl::level_enum level) {
    switch (level) {
        case lvl::trace:
            return "trace";
        case lvl::debug:
            return "debug";
        case lvl::info:
            return "info";
        case lvl::warn:
            return "warning";
        case lvl::err:
            return "error";
        case lvl::critical:
            return "critical";
        default:
            return "off";
    }
}

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;  // nowhere left to report a logging failure
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Formats, redacts and writes each event with one write(2), so lines from threads never interleave.
class line_sink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    line_sink(log_style style, int fd) : style_(style), fd_(fd) {}

    void write_event(const spdlog::details::log_msg& msg, const log_context* context) {
        const std::string text = line(msg, context);
        std::lock_guard lock(mutex_);
        write_all(fd_, text);
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override { write_all(fd_, line(msg, nullptr)); }
    void flush_() override {}  // nothing is buffered

  private:
    std::string line(const spdlog::details::log_msg& msg, const log_context* context) const {
        return format_log_line(style_,
                               msg.level,
                               std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                               redact_log_text(std::string_view(msg.payload.data(), msg.payload.size())),
                               msg.time,
                               context);
    }

    log_style style_;
    int fd_;
};

// Process-wide logging state: the current sink and levels. Loggers made before configure_logging()
// write through a default sink (text on stderr) until they are switched over.
struct logging_state {
    std::mutex mutex;
    std::shared_ptr<line_sink> sink;
    std::atomic<int> level{lvl::info};
    std::atomic<int> runs_level{lvl::info};    // run loggers: "runs=LEVEL" of $SPDLOG_LEVEL, else `level`
    std::optional<lvl::level_enum> env_level;  // from $SPDLOG_LEVEL: wins over config
    std::map<std::string, lvl::level_enum> per_logger;  // "http=trace" entries of $SPDLOG_LEVEL
    bool honour_env = true;
};

logging_state& state() {
    static logging_state s;
    return s;
}

std::shared_ptr<line_sink> current_sink() {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.sink) {
        const bool journal = is_journal_stream(std::getenv("JOURNAL_STREAM"), 2);
        s.sink = std::make_shared<line_sink>(log_style{log_format::text, journal}, 2);
    }
    return s.sink;
}

// A run's lines: forwards to the current sink with the run's context, at the current level.
class context_sink final : public spdlog::sinks::sink {
  public:
    explicit context_sink(log_context context) : context_(std::move(context)) {}
    void log(const spdlog::details::log_msg& msg) override {
        if (msg.level < state().runs_level.load()) {
            return;
        }
        current_sink()->write_event(msg, &context_);
    }
    void flush() override {}
    void set_pattern(const std::string&) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

  private:
    log_context context_;
};

lvl::level_enum effective_level(lvl::level_enum configured) {
    auto& s = state();
    return s.env_level.value_or(configured);
}

void apply_levels(lvl::level_enum level) {
    auto& s = state();
    s.level.store(level);
    const auto runs = s.per_logger.find("runs");
    s.runs_level.store(runs == s.per_logger.end() ? level : runs->second);
    spdlog::set_level(level);  // the default logger and every registered one
    for (const auto& [name, l] : s.per_logger) {
        if (auto logger = spdlog::get(name)) {
            logger->set_level(l);
        }
    }
}

// "debug" or "info,http=trace,atlas=debug": returns what it could not read.
std::vector<std::string> read_env_levels(const char* env) {
    auto& s = state();
    s.env_level.reset();
    s.per_logger.clear();
    std::vector<std::string> bad;
    if (env == nullptr) {
        return bad;
    }
    std::string_view rest(env);
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::string_view entry = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (entry.empty()) {
            continue;
        }
        const std::size_t eq = entry.find('=');
        if (eq == std::string_view::npos) {
            if (auto l = parse_log_level(entry)) {
                s.env_level = *l;
            } else {
                bad.emplace_back(entry);
            }
        } else if (auto l = parse_log_level(entry.substr(eq + 1)); l && eq > 0) {
            s.per_logger[std::string(entry.substr(0, eq))] = *l;
        } else {
            bad.emplace_back(entry);
        }
    }
    return bad;
}

}  // namespace

std::optional<log_format> parse_log_format(std::string_view text) {
    if (text == "text") {
        return log_format::text;
    }
    if (text == "json") {
        return log_format::json;
    }
    return std::nullopt;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) {
    static const std::array<std::pair<std::string_view, lvl::level_enum>, 9> names = {{
        {"trace", lvl::trace},
        {"debug", lvl::debug},
        {"info", lvl::info},
        {"warn", lvl::warn},
        {"warning", lvl::warn},
        {"error", lvl::err},
        {"err", lvl::err},
        {"critical", lvl::critical},
        {"off", lvl::off},
    }};
    for (const auto& [name, level] : names) {
        if (text.size() == name.size() && std::equal(text.begin(), text.end(), name.begin(), ieq)) {
            return level;
        }
    }
    return std::nullopt;
}

int journal_priority(spdlog::level::level_enum level) {
    switch (level) {
        case lvl::critical:
            return 2;
        case lvl::err:
            return 3;
        case lvl::warn:
            return 4;
        case lvl::info:
            return 6;
        default:
            return 7;
    }
}

bool is_journal_stream(const char* env, int fd) {
    if (env == nullptr || *env == '\0') {
        return false;
    }
    const std::string_view value(env);
    const std::size_t colon = value.find(':');
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (colon == std::string_view::npos) {
        return true;  // not the documented form: trust that it is set
    }
    const auto d = std::from_chars(value.data(), value.data() + colon, dev);
    const auto i = std::from_chars(value.data() + colon + 1, value.data() + value.size(), ino);
    if (d.ec != std::errc() || d.ptr != value.data() + colon || i.ec != std::errc() ||
        i.ptr != value.data() + value.size()) {
        return true;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return false;
    }
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

std::string format_log_line(const log_style& style,
                            spdlog::level::level_enum level,
                            std::string_view logger,
                            std::string_view msg,
                            std::chrono::system_clock::time_point at,
                            const log_context* context) {
    std::string out;
    out.reserve(msg.size() + 96);
    if (style.journal) {
        out += '<';
        out += static_cast<char>('0' + journal_priority(level));
        out += '>';
    }
    if (style.format == log_format::json) {
        out += "{\"ts\":";
        append_escaped_json(out, format_iso8601(at, true));
        out += ",\"level\":";
        append_escaped_json(out, level_name(level));
        out += ",\"logger\":";
        append_escaped_json(out, logger);
        out += ",\"msg\":";
        append_escaped_json(out, msg);
        if (context) {
            out += ",\"policy\":";
            append_escaped_json(out, context->policy);
            out += ",\"run_id\":";
            append_escaped_json(out, context->run_id);
        }
        out += "}\n";
        return out;
    }
    if (!style.journal) {  // the journal stamps every entry itself
        out += format_iso8601(at, true);
        out += ' ';
        out += level_name(level);
        out += ' ';
    }
    append_escaped_text(out, logger);
    out += ": ";
    if (context) {
        out += "policy=";
        append_escaped_text(out, context->policy);
        out += " run_id=";
        append_escaped_text(out, context->run_id);
        out += ": ";
    }
    append_escaped_text(out, msg);
    out += '\n';
    return out;
}

std::string redact_log_text(std::string_view text) {
    return redact_auth_schemes(redact_key_values(redact_urls(text)));
}

result<void> configure_logging(const log_options& options) {
    const auto configured = parse_log_level(options.level);
    if (!configured) {
        return make_error(
            errc::invalid_input,
            "unknown log level '" + options.level + "' (trace, debug, info, warn, error, critical or off)");
    }
    auto& s = state();
    const bool journal =
        options.journal.value_or(is_journal_stream(std::getenv("JOURNAL_STREAM"), options.fd));
    auto sink = std::make_shared<line_sink>(log_style{options.format, journal}, options.fd);
    std::vector<std::string> bad_env;
    {
        std::lock_guard lock(s.mutex);
        s.sink = sink;
        s.honour_env = options.honour_env;
        if (options.honour_env) {
            bad_env = read_env_levels(std::getenv("SPDLOG_LEVEL"));
        } else {
            s.env_level.reset();
            s.per_logger.clear();
        }
    }
    // Switch every logger made so far over to the new sink, then make the default logger ours.
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) { logger->sinks() = {sink}; });
    auto main_logger = std::make_shared<spdlog::logger>("atlas-restored", sink);
    spdlog::set_default_logger(main_logger);
    apply_levels(effective_level(*configured));
    for (const auto& entry : bad_env) {
        main_logger->warn(
            "ignoring SPDLOG_LEVEL entry '{}': not a level (trace, debug, info, warn, error, "
            "critical, off) or NAME=LEVEL",
            entry);
    }
    return {};
}

result<void> set_log_level(std::string_view level) {
    const auto configured = parse_log_level(level);
    if (!configured) {
        return make_error(errc::invalid_input, "unknown log level '" + std::string(level) + "'");
    }
    apply_levels(effective_level(*configured));
    return {};
}

std::shared_ptr<spdlog::logger> module_logger(const std::string& name) {
    auto& s = state();
    std::lock_guard lock(s.mutex);  // get-or-create must not race two creators of one name
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    if (!s.sink) {
        const bool journal = is_journal_stream(std::getenv("JOURNAL_STREAM"), 2);
        s.sink = std::make_shared<line_sink>(log_style{log_format::text, journal}, 2);
    }
    auto logger = std::make_shared<spdlog::logger>(name, s.sink);
    logger->set_level(static_cast<lvl::level_enum>(s.level.load()));
    if (auto it = s.per_logger.find(name); it != s.per_logger.end()) {
        logger->set_level(it->second);
    }
    try {
        spdlog::register_logger(logger);
    } catch (const spdlog::spdlog_ex&) {
        // Registered meanwhile by code that bypasses module_logger() (a clone of the default
        // logger): use that one, it writes through the same sink once configured.
        if (auto existing = spdlog::get(name)) {
            return existing;
        }
    }
    return logger;
}

std::shared_ptr<spdlog::logger> run_logger(std::string_view policy, std::string_view run_id) {
    auto logger = std::make_shared<spdlog::logger>(
        "runs", std::make_shared<context_sink>(log_context{std::string(policy), std::string(run_id)}));
    logger->set_level(lvl::trace);  // context_sink applies the current level, which may change
    return logger;
}

}  // namespace atlas_restored
