// YAML -> JSON for the parts of a scenario file that have a JSON form (the fixture), with YAML's
// plain scalars typed the way the files are written: integers (0644 and 0o644 are octal, 0x1f
// hex), true/false, null/~; quoted scalars stay strings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ovl::scenario {

nlohmann::json YamlToJson(const YAML::Node& node);

// An unsigned integer written as above; nullopt when `text` is not one.
std::optional<uint64_t> ParseUnsigned(const std::string& text);

}  // namespace ovl::scenario
