#include "runs/queue.hpp"

#include <algorithm>

namespace atlas_restored::runs {

void run_queue::push(std::string run_id, run_class c) {
    if (contains(run_id)) {
        return;
    }
    (c == run_class::on_call ? on_call_ : drills_).push_back(std::move(run_id));
}

bool run_queue::remove(std::string_view run_id) {
    for (auto* q : {&on_call_, &drills_}) {
        if (auto it = std::find(q->begin(), q->end(), run_id); it != q->end()) {
            q->erase(it);
            return true;
        }
    }
    return false;
}

bool run_queue::contains(std::string_view run_id) const {
    return std::find(on_call_.begin(), on_call_.end(), run_id) != on_call_.end() ||
           std::find(drills_.begin(), drills_.end(), run_id) != drills_.end();
}

std::optional<std::string> run_queue::next(int active, int max_active) {
    if (active >= std::max(max_active, 1)) {
        return std::nullopt;
    }
    for (auto* q : {&on_call_, &drills_}) {
        if (!q->empty()) {
            std::string id = std::move(q->front());
            q->pop_front();
            return id;
        }
    }
    return std::nullopt;
}

}  // namespace atlas_restored::runs
