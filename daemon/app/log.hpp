#pragma once
// The app module's named logger ("app", util/logging.hpp): the shared sink, so the style chosen by
// configure_logging() (journald prefixes, JSON lines) and reloads of log_level apply to it.

#include <spdlog/logger.h>

#include <memory>

namespace atlas_restored::app {

std::shared_ptr<spdlog::logger> logger();

}  // namespace atlas_restored::app
