// A list's items by name, letter case folded as iequals folds it: one lookup instead of a
// scan, for code that matches whole lists against each other (the pipeline file's build,
// apply and diff), where a scan per item made 20,000 services take seconds.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "depctl/names.hpp"

namespace depctl {

template <typename T>
class NameIndex {
public:
    explicit NameIndex(const std::vector<T>& items) {
        by_folded_.reserve(items.size());
        // emplace keeps the first of two equal names, the one a scan would find.
        for (const T& item : items) by_folded_.emplace(to_lower(item.name), &item);
    }

    const T* find(std::string_view name) const {
        const auto it = by_folded_.find(to_lower(name));
        return it == by_folded_.end() ? nullptr : it->second;
    }

private:
    std::unordered_map<std::string, const T*> by_folded_;
};

}  // namespace depctl
