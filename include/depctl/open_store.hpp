// Opens the store a location names: `etcd://...` (EtcdStore) or a file path (FileStore).
// Its own module, above both backends, so that the store interface does not include the
// backends that implement it (an include cycle otherwise).
#pragma once

#include <memory>
#include <string>

#include "depctl/store.hpp"

namespace depctl {

std::unique_ptr<StateStore> open_store(const std::string& location, const StoreOptions& options);

}  // namespace depctl
