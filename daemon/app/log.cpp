#include "app/log.hpp"

#include "util/logging.hpp"

namespace atlas_restored::app {

std::shared_ptr<spdlog::logger> logger() {
    static const auto named = module_logger("app");
    return named;
}

}  // namespace atlas_restored::app
