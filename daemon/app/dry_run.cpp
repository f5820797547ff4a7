#include "app/dry_run.hpp"

#include "atlas/protocol.hpp"
#include "atlas/redact.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "config/secrets.hpp"
#include "download/disk.hpp"
#include "runs/batch.hpp"
#include "runs/plan.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <ostream>

namespace atlas_restored::app {

namespace json = boost::json;

boost::json::object dry_run_document(const dry_run_facts& f) {
    json::object request;
    request["method"] = f.method;
    request["url"] = f.url;
    request["headers"] = f.headers;
    request["body"] = f.body;
    json::object doc;
    doc["dry_run"] = true;
    doc["policy"] = f.policy;
    doc["request"] = std::move(request);
    doc["snapshot_id"] = f.snapshot_id ? json::value(*f.snapshot_id) : json::value(nullptr);
    doc["snapshot_time"] = f.snapshot_time ? json::value(*f.snapshot_time) : json::value(nullptr);
    doc["expected_bytes"] = f.expected_bytes;
    doc["download_dir_free_bytes"] = f.free_bytes ? json::value(*f.free_bytes) : json::value(nullptr);
    return doc;
}

int run_dry_run(const config::configuration& c,
                const std::string& policy_name,
                std::ostream& out,
                std::ostream& err) {
    const auto* policy = config::find_policy(c, policy_name);
    if (policy == nullptr) {
        err << "run-now --dry-run: unknown policy '" << policy_name << "' in " << c.main_file.string()
            << "\n";
        return cli::exit_failure;
    }
    const auto* settings = config::settings_for(c, *policy);
    if (settings == nullptr) {
        err << "run-now --dry-run: policy " << policy_name << " names an unknown profile\n";
        return cli::exit_failure;
    }
    boost::asio::io_context io;
    auto client =
        cli::make_atlas_client(io.get_executor(), *settings, c.retry, config::environment::from_process());
    if (!client) {
        err << "run-now --dry-run: " << to_string(client.error()) << "\n";
        return cli::exit_failure;
    }
    // The one call the pre-flight makes: read-only.
    std::optional<result<std::vector<atlas::snapshot>>> snapshots;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            snapshots = co_await client->list_snapshots(policy->group_id, policy->cluster);
        },
        boost::asio::detached);
    io.run_for(std::chrono::minutes(5));
    if (!snapshots) {
        err << "run-now --dry-run: Atlas did not answer in time\n";
        return cli::exit_failure;
    }
    if (!*snapshots) {
        err << "preflight_failed: " << to_string(snapshots->error()) << "\n";
        return cli::exit_failure;
    }
    auto plan = runs::plan_submission(*policy, **snapshots, std::chrono::system_clock::now());
    if (!plan) {
        err << "preflight_failed: " << plan.error().message << "\n";
        return cli::exit_failure;
    }
    dry_run_facts facts;
    facts.policy = policy->name;
    facts.snapshot_id = plan->snapshot_id;
    facts.snapshot_time = plan->snapshot_time;
    facts.expected_bytes = plan->expected_bytes;
    if (runs::needs_download(policy->delivery.method)) {
        const auto dir = c.download_dir / policy->name;
        auto free = download::free_bytes(dir);
        if (!free) {
            err << "preflight_failed: " << free.error().message << "\n";
            return cli::exit_failure;
        }
        facts.free_bytes = *free;
        if (auto problem = runs::free_space_problem(plan->expected_bytes, *free, dir.string())) {
            err << "preflight_failed: " << *problem << "\n";
            return cli::exit_failure;
        }
    }
    const auto& api = client->settings();
    const auto request =
        atlas::build_create_restore_job(api.api_options, policy->group_id, policy->cluster, plan->request);
    facts.method = request.method;
    facts.url = "https://" + http::to_string(api.api) + request.target;
    for (const auto& h : request.headers) {
        facts.headers[h.name] = h.value;
    }
    boost::system::error_code ec;
    facts.body = json::parse(request.body, ec);
    if (ec) {
        facts.body = request.body;
    }
    atlas::redact_secrets(facts.body);  // nothing secret belongs in a create body; make sure
    out << cli::to_json_text(dry_run_document(facts), true) << "\n";
    err << "policy " << policy->name << ": pre-flight passed; nothing was sent (dry run)\n";
    return cli::exit_ok;
}

}  // namespace atlas_restored::app
