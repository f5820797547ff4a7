// The YAML configuration loader on arbitrary files: every input ends as a configuration or a list
// of problems, never a crash.
#include "config/loader.hpp"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/fuzz-config-" + std::to_string(::getpid()) + ".yaml";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto loaded = atlas_restored::config::load_configuration(path);
    if (!loaded) {
        for (const auto& problem : loaded.error()) {
            (void)atlas_restored::config::format_problem(problem);
        }
    }
    return 0;
}
