// The module-dependency check of tests/deps/modules.txt: which modules each module of base/,
// reference_server/ and harness/ may include, that every #include "..." keeps to it, and that
// the allowed graph has no cycle. A library so the check's own tests can run it on planted trees.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ovl::deps {

struct AllowList {
  std::map<std::string, std::set<std::string>> deps;       // module -> modules it may include
  std::map<std::string, std::set<std::string>> test_deps;  // extra, for its tests
  std::vector<std::string> errors;                         // lines that do not parse
};

// Parses modules.txt's text: "<module>: <dep> <dep>..." and "<module> [test]: <dep>...", '#'
// comments.
AllowList ParseAllowList(std::string_view text);

// Every module whose allowed dependencies lead back to it, as "a -> b -> a".
std::vector<std::string> FindCycles(const AllowList& allow);

// Checks every .h and .cc file under <root>/base, <root>/reference_server and <root>/harness:
// each belongs to a listed module, and each quoted include that resolves to a file of another
// module (searched as <root>/<inc>, <root>/reference_server/<inc>, <root>/harness/<inc>) is
// allowed; test files (*_test*, *for_test*) may also include their test extras and tests/.
// Returns one line per problem, "file: includes "x" (module m), not allowed for module n".
std::vector<std::string> CheckTree(const std::filesystem::path& root, const AllowList& allow);

}  // namespace ovl::deps
