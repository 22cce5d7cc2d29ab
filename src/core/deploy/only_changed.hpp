// `deploy --only-changed` (DESIGN §9 "Only what changed"): a service is left out when its
// fingerprint, its version plus its definition, equals the one of its last successful
// deployment and it still runs it (status DEPLOYED).
#pragma once

#include <map>
#include <string>

#include "depctl/model.hpp"
#include "depctl/store.hpp"

namespace depctl {

struct ChangeVerdicts {
    std::map<std::string, std::string> unchanged;  // service id -> why it is left out
    std::map<std::string, std::string> changed;    // service id -> what makes it deploy
};

// Every service of `env` judged against the deployment its current status came from (one
// history look-up per such deployment). `own_versions` holds the services' own versions
// (git-tree), the others deploy `version`. Secret values are not part of the fingerprint:
// depctl never keeps them, so rotating a secret needs a deploy without --only-changed.
ChangeVerdicts compare_with_deployed(StateStore& store, const Environment& env,
                                     const std::map<std::string, std::string>& own_versions,
                                     const std::string& version);

}  // namespace depctl
