#include "ops/fixture_json.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <utility>

#include "ops/fixture_gen.h"

namespace ovl::ops {
namespace {

using nlohmann::json;
using EntryKind = FixtureEntry::Kind;

constexpr std::array<std::pair<EntryKind, const char*>, 4> kKindKeys{{
    {EntryKind::kFile, "file"},
    {EntryKind::kDir, "dir"},
    {EntryKind::kHardlink, "hardlink"},
    {EntryKind::kSymlink, "symlink"},
}};

// A non-negative integer JSON field, or `fallback` when absent; false when present but not a
// non-negative integer.
bool GetU64(const json& j, const char* key, uint64_t fallback, uint64_t* out) {
  if (!j.contains(key)) {
    *out = fallback;
    return true;
  }
  const json& v = j.at(key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) return false;
  *out = j.at(key).get<uint64_t>();
  return true;
}

Status CheckKeys(const json& j, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    if (!allowed.count(key)) return FixtureError(where + ": unknown key \"" + key + "\"");
  }
  return Status::Ok();
}

ovl::Result<FixtureEntry> EntryFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return FixtureError(where + ": not a map");
  OVL_RETURN_IF_ERROR(
      CheckKeys(j, {"file", "dir", "hardlink", "symlink", "to", "size", "layer", "mode"}, where));
  FixtureEntry e;
  int kinds = 0;
  for (const auto& [kind, key] : kKindKeys) {
    if (!j.contains(key)) continue;
    if (!j.at(key).is_string()) return FixtureError(where + ": " + key + " must be a path");
    e.kind = kind;
    e.path = j.at(key).get<std::string>();
    ++kinds;
  }
  if (kinds != 1)
    return FixtureError(where + ": needs exactly one of file, dir, hardlink, symlink");
  const bool needs_to = e.kind == EntryKind::kHardlink || e.kind == EntryKind::kSymlink;
  if (needs_to != j.contains("to")) {
    return FixtureError(where + (needs_to ? ": needs `to`" : ": `to` is only for links"));
  }
  if (needs_to) {
    if (!j.at("to").is_string() || j.at("to").get<std::string>().empty()) {
      return FixtureError(where + ": `to` must be a non-empty string");
    }
    e.to = j.at("to").get<std::string>();
  }
  if (j.contains("size") && e.kind != EntryKind::kFile) {
    return FixtureError(where + ": `size` is only for files");
  }
  uint64_t layer = 0;
  uint64_t mode = DefaultMode(e.kind);
  if (!GetU64(j, "size", 0, &e.size) || !GetU64(j, "layer", 0, &layer) ||
      !GetU64(j, "mode", mode, &mode)) {
    return FixtureError(where + ": size, layer and mode must be unsigned integers");
  }
  if (mode > 07777) return FixtureError(where + ": mode out of range");
  e.layer = static_cast<int>(std::min<uint64_t>(layer, 1u << 20));
  e.mode = static_cast<uint32_t>(mode);
  return e;
}

Status GenerateFromJson(const json& j, FixtureBuilder* b) {
  if (!j.is_object()) return FixtureError("generate: not a map");
  OVL_RETURN_IF_ERROR(CheckKeys(j, {"files", "dirs", "size", "max_size", "hardlinks"}, "generate"));
  FixtureGenerate g;
  uint64_t size = 0;
  if (!GetU64(j, "files", 0, &g.files) || !GetU64(j, "dirs", 0, &g.dirs) ||
      !GetU64(j, "size", 0, &size) || !GetU64(j, "max_size", 0, &g.max_size) ||
      !GetU64(j, "hardlinks", 0, &g.hardlinks)) {
    return FixtureError("generate: values must be unsigned integers");
  }
  if (j.contains("size") && j.contains("max_size")) {
    return FixtureError("generate: give `size` or `max_size`, not both");
  }
  if (j.contains("size")) g.size = size;
  return GenerateEntries(g, b);
}

}  // namespace

ovl::Result<Fixture> FixtureFromJson(const nlohmann::json& j, uint64_t default_seed) {
  Fixture f;
  f.seed = default_seed;
  if (j.is_null()) return f;
  if (!j.is_object()) return FixtureError("not a map");
  OVL_RETURN_IF_ERROR(CheckKeys(j, {"layers", "seed", "entries", "generate"}, "fixture"));
  uint64_t layers = 1;
  if (!GetU64(j, "layers", 1, &layers) || layers < 1 || layers > 64) {
    return FixtureError("layers must be an integer in 1..64");
  }
  f.layers = static_cast<int>(layers);
  if (!GetU64(j, "seed", default_seed, &f.seed)) return FixtureError("seed must be unsigned");
  FixtureBuilder builder(&f);
  if (j.contains("entries")) {
    const json& entries = j.at("entries");
    if (!entries.is_array()) return FixtureError("entries must be a list");
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string where = "entries[" + std::to_string(i) + "]";
      OVL_ASSIGN_OR_RETURN(FixtureEntry e, EntryFromJson(entries[i], where));
      OVL_RETURN_IF_ERROR(builder.Add(std::move(e), where));
    }
  }
  if (j.contains("generate")) OVL_RETURN_IF_ERROR(GenerateFromJson(j.at("generate"), &builder));
  return f;
}

nlohmann::json FixtureToJson(const Fixture& f) {
  json entries = json::array();
  for (const FixtureEntry& e : f.entries) {
    json o;
    for (const auto& [kind, key] : kKindKeys) {
      if (kind == e.kind) o[key] = e.path;
    }
    if (e.kind == EntryKind::kHardlink || e.kind == EntryKind::kSymlink) o["to"] = e.to;
    if (e.kind == EntryKind::kFile) o["size"] = e.size;
    if (e.layer != 0) o["layer"] = e.layer;
    if (e.mode != DefaultMode(e.kind)) o["mode"] = e.mode;
    entries.push_back(std::move(o));
  }
  return {{"layers", f.layers}, {"seed", f.seed}, {"entries", std::move(entries)}};
}

}  // namespace ovl::ops
