#include "ops/offline.h"

#include <array>
#include <utility>

namespace ovl::ops {
namespace {

using Kind = OfflineEdit::Kind;

constexpr std::array<std::pair<Kind, std::string_view>, 6> kNames{{
    {Kind::kRemoveUpper, "remove-upper"},
    {Kind::kRenameLower, "rename-lower"},
    {Kind::kRemoveLower, "remove-lower"},
    {Kind::kLinkLower, "link-lower"},
    {Kind::kCopyLayers, "copy-layers"},
    {Kind::kCopyUpUnindexed, "copy-up-unindexed"},
}};

}  // namespace

std::string_view OfflineKindName(Kind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "?";
}

std::optional<Kind> OfflineKindFromName(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::string OfflineKindNames() {
  std::string out;
  for (const auto& [k, name] : kNames) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

bool OfflineNeedsPath(Kind kind) {
  return kind != Kind::kCopyLayers;
}

bool OfflineNeedsPath2(Kind kind) {
  return kind == Kind::kRenameLower || kind == Kind::kLinkLower;
}

bool OfflineChangesLower(Kind kind) {
  return kind == Kind::kRenameLower || kind == Kind::kRemoveLower || kind == Kind::kLinkLower;
}

nlohmann::json OfflineEditToJson(const OfflineEdit& edit) {
  return {{"edit", OfflineKindName(edit.kind)},
          {"path", edit.path},
          {"path2", edit.path2},
          {"stop", edit.crash ? "crash" : "clean"}};
}

ovl::Result<OfflineEdit> OfflineEditFromJson(const nlohmann::json& j) {
  auto string_at = [&](const char* key) -> std::optional<std::string> {
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_string()) return std::nullopt;
    return j.at(key).get<std::string>();
  };
  OfflineEdit edit;
  const std::optional<std::string> kind = string_at("edit");
  const std::optional<Kind> k = kind ? OfflineKindFromName(*kind) : std::nullopt;
  if (!k)
    return Status::Error(EINVAL, "offline edit: \"edit\" must be one of " + OfflineKindNames());
  edit.kind = *k;
  edit.path = string_at("path").value_or("");
  edit.path2 = string_at("path2").value_or("");
  const std::string stop = string_at("stop").value_or("");
  if (stop != "crash" && stop != "clean") {
    return Status::Error(EINVAL, "offline edit: \"stop\" must be crash or clean");
  }
  edit.crash = stop == "crash";
  if (OfflineNeedsPath(edit.kind) && edit.path.empty()) {
    return Status::Error(
        EINVAL, "offline edit: " + std::string(OfflineKindName(edit.kind)) + " needs a path");
  }
  if (OfflineNeedsPath2(edit.kind) && edit.path2.empty()) {
    return Status::Error(
        EINVAL, "offline edit: " + std::string(OfflineKindName(edit.kind)) + " needs a path2");
  }
  return edit;
}

std::string DescribeOfflineEdit(const OfflineEdit& edit) {
  std::string out(OfflineKindName(edit.kind));
  if (!edit.path.empty()) out += " " + edit.path;
  if (!edit.path2.empty()) out += " -> " + edit.path2;
  return out + (edit.crash ? " (crash)" : " (clean stop)");
}

}  // namespace ovl::ops
