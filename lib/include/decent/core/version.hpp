#pragma once
/// @file Which decent this is: version and the git commit it was configured from.
#include <string>

namespace decent {
/// The library version, e.g. "0.1.0".
std::string version();
/// Short git commit hash of the source tree at configure time ("unknown" outside a git checkout),
/// with "-dirty" when it had uncommitted changes then.
std::string git_commit();
}  // namespace decent
