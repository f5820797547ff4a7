#include "cli/session.hpp"

namespace atlas_restored::cli {

atlas::retry_policy to_retry_policy(const config::retry_settings& retry) {
    atlas::retry_policy policy;
    policy.initial = retry.initial;
    policy.multiplier = retry.multiplier;
    policy.max = retry.max;
    policy.give_up_after = retry.give_up_after;
    return policy;
}

result<std::string> read_atlas_secret(const config::atlas_settings& settings,
                                      const config::environment& env) {
    if (settings.auth.service_account) {
        return config::read_secret(settings.auth.service_account->client_secret, env);
    }
    if (settings.auth.api_key) {
        return config::read_secret(settings.auth.api_key->private_key, env);
    }
    return make_error(errc::invalid_input, "atlas.auth: no service_account or api_key configured");
}

result<atlas::client> make_atlas_client(boost::asio::any_io_executor executor,
                                        const config::atlas_settings& settings,
                                        const config::retry_settings& retry,
                                        std::string secret,
                                        std::function<void(int status)> on_response) {
    auto base = http::parse_https_url(settings.base_url);
    if (!base) {
        auto e = base.error();
        e.message = "atlas.base_url: " + e.message;
        return e;
    }
    atlas::credentials creds;
    if (settings.auth.service_account) {
        creds.type = atlas::credentials::kind::service_account;
        creds.id = settings.auth.service_account->client_id;
    } else if (settings.auth.api_key) {
        creds.type = atlas::credentials::kind::api_key;
        creds.id = settings.auth.api_key->public_key;
    } else {
        return make_error(errc::invalid_input, "atlas.auth: no service_account or api_key configured");
    }
    creds.secret = std::move(secret);

    http::client_options transport_options;
    transport_options.ca_file = settings.ca_file;
    transport_options.request_timeout = settings.request_timeout;
    transport_options.user_agent = std::string("atlas-restored/") + ATLAS_RESTORED_VERSION;
    transport_options.on_response = std::move(on_response);
    // atlas.proxy, else $https_proxy / $no_proxy; downloads use the same transport and rule.
    std::optional<std::string> proxy_credentials;
    if (settings.proxy_credentials) {
        auto value = config::read_secret(*settings.proxy_credentials, config::environment::from_process());
        if (!value) {
            return value.error();
        }
        proxy_credentials = std::move(*value);
    }
    auto proxy = http::choose_proxy(settings.proxy, proxy_credentials, http::process_environment());
    if (!proxy) {
        return proxy.error();
    }
    transport_options.proxy = std::move(*proxy);
    auto transport = http::https_client::create(std::move(executor), transport_options);
    if (!transport) {
        return transport.error();
    }

    atlas::client_settings client_settings;
    client_settings.api = base->where;
    client_settings.api_options.api_version = settings.api_version;
    client_settings.auth = std::move(creds);
    client_settings.retry = to_retry_policy(retry);
    return atlas::client(std::move(*transport), std::move(client_settings));
}

result<atlas::client> make_atlas_client(boost::asio::any_io_executor executor,
                                        const config::atlas_settings& settings,
                                        const config::retry_settings& retry,
                                        const config::environment& env) {
    auto secret = read_atlas_secret(settings, env);
    if (!secret) {
        return secret.error();
    }
    return make_atlas_client(std::move(executor), settings, retry, std::move(*secret), {});
}

}  // namespace atlas_restored::cli
