#pragma once
// Which run gets the next free slot (max_concurrent_runs). On-call runs (a policy's `trigger`, or
// `run-now`) go before scheduled drills: somebody is waiting for them. Within a class, first come
// first served. Pure bookkeeping: the engine says how many runs are active.

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::runs {

enum class run_class { on_call, drill };

class run_queue {
  public:
    // A run id already queued is not queued twice.
    void push(std::string run_id, run_class c);
    bool remove(std::string_view run_id);
    bool contains(std::string_view run_id) const;

    // The run to start now, removed from the queue, or nullopt when every slot is taken
    // (active >= max_active) or nothing waits. A max_active below 1 counts as 1.
    std::optional<std::string> next(int active, int max_active);

    std::size_t size() const { return on_call_.size() + drills_.size(); }
    std::size_t size(run_class c) const { return c == run_class::on_call ? on_call_.size() : drills_.size(); }
    bool empty() const { return size() == 0; }

  private:
    std::deque<std::string> on_call_;
    std::deque<std::string> drills_;
};

}  // namespace atlas_restored::runs
