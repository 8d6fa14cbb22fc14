#include "topology/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ovl::topology {
namespace {

std::string ChildPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// "a map", "a list", "'text'", "nothing": what was found instead of the expected type.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

// Reports "expected <what>, got ..." and returns false unless `f` holds a non-empty scalar.
bool RequireScalar(const Field& f, DiagnosticSink* sink, std::string_view what) {
  if (f.node.IsScalar()) return true;
  sink->Error(f.pos, f.path, "expected " + std::string(what) + ", got " + Describe(f.node));
  return false;
}

}  // namespace

void DiagnosticSink::Error(Pos at, std::string path, std::string message) {
  diagnostics_.push_back(
      Diagnostic{file_, at.line, at.line > 0 ? at.column : 0, std::move(path), std::move(message)});
}

Diagnostics DiagnosticSink::Take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  return std::move(diagnostics_);
}

Pos ToPos(const YAML::Mark& mark, Pos fallback) {
  if (mark.line < 0 || mark.column < 0) return fallback;
  return Pos{mark.line + 1, mark.column + 1};
}

Field RootField(const YAML::Node& root) {
  return Field{root, "", ToPos(root.Mark(), Pos{1, 1})};
}

std::optional<YAML::Node> LoadDocument(std::string_view text, DiagnosticSink* sink) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    sink->Error(ToPos(e.mark, Pos{1, 1}), "", e.msg);
    return std::nullopt;
  }
}

MapReader::MapReader(const Field& map, DiagnosticSink* sink) : map_(map), sink_(sink) {
  is_map_ = map.node.IsMap();
  if (!is_map_) {
    sink_->Error(map.pos, map.path, "expected a map, got " + Describe(map.node));
    return;
  }
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    Pos key_pos = ToPos(it->first.Mark(), map.pos);
    if (!it->first.IsScalar()) {
      sink_->Error(key_pos, map.path, "map keys must be plain names");
      continue;
    }
    const std::string& key = it->first.Scalar();
    auto dup = std::find_if(entries_.begin(), entries_.end(),
                            [&](const Entry& e) { return e.key == key; });
    if (dup != entries_.end()) {
      sink_->Error(key_pos, ChildPath(map.path, key),
                   "duplicate key (first at line " + std::to_string(dup->key_pos.line) + ")");
      continue;
    }
    // An empty value has no useful position of its own (yaml-cpp points past it): use the key's.
    Pos value_pos = it->second.IsNull() ? key_pos : ToPos(it->second.Mark(), key_pos);
    entries_.push_back(Entry{key, key_pos, Field{it->second, ChildPath(map.path, key), value_pos}});
  }
}

Field MapReader::Lookup(std::string_view key) {
  known_.emplace_back(key);
  for (Entry& e : entries_) {
    if (e.key == key) {
      e.used = true;
      return e.value;
    }
  }
  return Field{YAML::Node(YAML::NodeType::Undefined), ChildPath(map_.path, key), map_.pos};
}

Field MapReader::Optional(std::string_view key) {
  return Lookup(key);
}

Field MapReader::Required(std::string_view key) {
  Field f = Lookup(key);
  if (!f.present() && is_map_) sink_->Error(map_.pos, f.path, "missing required key");
  return f;
}

void MapReader::Ignore(std::string_view key) {
  known_.emplace_back(key);
  for (Entry& e : entries_) {
    if (e.key == key) e.used = true;
  }
}

void MapReader::Finish() {
  std::string expected;
  for (const std::string& k : known_) expected += (expected.empty() ? "" : ", ") + k;
  for (const Entry& e : entries_) {
    if (!e.used) {
      sink_->Error(e.key_pos, e.value.path, "unknown key (expected one of: " + expected + ")");
    }
  }
}

std::optional<std::vector<Field>> ReadList(const Field& f, DiagnosticSink* sink) {
  if (!f.node.IsSequence()) {
    sink->Error(f.pos, f.path, "expected a list, got " + Describe(f.node));
    return std::nullopt;
  }
  std::vector<Field> out;
  for (size_t i = 0; i < f.node.size(); ++i) {
    YAML::Node item = f.node[i];
    out.push_back(Field{item, f.path + "[" + std::to_string(i) + "]", ToPos(item.Mark(), f.pos)});
  }
  return out;
}

std::optional<std::string> ReadString(const Field& f, DiagnosticSink* sink) {
  if (!RequireScalar(f, sink, "a string")) return std::nullopt;
  return f.node.Scalar();
}

std::optional<uint64_t> ReadUint(const Field& f, DiagnosticSink* sink, uint64_t min, uint64_t max) {
  if (!RequireScalar(f, sink, "an unsigned integer")) return std::nullopt;
  std::optional<uint64_t> v = ParseUint(f.node.Scalar());
  if (!v) {
    sink->Error(f.pos, f.path, "expected an unsigned integer, got " + Describe(f.node));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    sink->Error(f.pos, f.path,
                "value " + std::to_string(*v) + " out of range " + std::to_string(min) + ".." +
                    std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> ReadNumber(const Field& f, DiagnosticSink* sink, double min, double max) {
  if (!RequireScalar(f, sink, "a number")) return std::nullopt;
  const std::string& s = f.node.Scalar();
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
    sink->Error(f.pos, f.path, "expected a number, got " + Describe(f.node));
    return std::nullopt;
  }
  if (v < min || v > max) {
    sink->Error(f.pos, f.path,
                "value " + s + " out of range " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ReadBool(const Field& f, DiagnosticSink* sink) {
  if (!RequireScalar(f, sink, "on or off")) return std::nullopt;
  const std::string& s = f.node.Scalar();
  if (s == "on" || s == "true" || s == "yes") return true;
  if (s == "off" || s == "false" || s == "no") return false;
  sink->Error(f.pos, f.path, "expected on or off, got " + Describe(f.node));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ReadDuration(const Field& f, DiagnosticSink* sink) {
  if (!RequireScalar(f, sink, "a duration")) return std::nullopt;
  std::optional<std::chrono::milliseconds> d = ParseDuration(f.node.Scalar());
  if (!d) {
    sink->Error(f.pos, f.path,
                "expected a duration such as 90s, 2m or 1m30s, got " + Describe(f.node));
  }
  return d;
}

std::optional<uint64_t> ReadSize(const Field& f, DiagnosticSink* sink) {
  if (!RequireScalar(f, sink, "a size")) return std::nullopt;
  std::optional<uint64_t> v = ParseSize(f.node.Scalar());
  if (!v)
    sink->Error(f.pos, f.path, "expected a size such as 4096, 64K or 1G, got " + Describe(f.node));
  return v;
}

std::optional<std::vector<std::string>> ReadStringList(const Field& f, DiagnosticSink* sink) {
  std::optional<std::vector<Field>> items = ReadList(f, sink);
  if (!items) return std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  for (const Field& item : *items) {
    std::optional<std::string> s = ReadString(item, sink);
    ok = ok && s.has_value();
    if (s) out.push_back(*s);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t v = 0;
  if (text.empty() || text[0] == '+') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  constexpr std::array<std::pair<std::string_view, int64_t>, 4> kUnits{
      {{"ms", 1}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}}};
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    std::optional<uint64_t> amount = ParseUint(text.substr(0, digits));
    if (!amount || *amount > 1'000'000'000) return std::nullopt;
    text.remove_prefix(digits);
    auto unit = std::find_if(kUnits.begin(), kUnits.end(),
                             [&](const auto& u) { return text.starts_with(u.first); });
    if (unit == kUnits.end()) return std::nullopt;
    text.remove_prefix(unit->first.size());
    total += static_cast<int64_t>(*amount) * unit->second;
  }
  return std::chrono::milliseconds(total);
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  constexpr std::array<std::pair<std::string_view, uint64_t>, 7> kUnits{{{"", 1},
                                                                         {"K", 1ull << 10},
                                                                         {"KiB", 1ull << 10},
                                                                         {"M", 1ull << 20},
                                                                         {"MiB", 1ull << 20},
                                                                         {"G", 1ull << 30},
                                                                         {"GiB", 1ull << 30}}};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::optional<uint64_t> amount = ParseUint(text.substr(0, digits));
  if (!amount) return std::nullopt;
  std::string_view suffix = text.substr(digits);
  for (const auto& [name, per] : kUnits) {
    if (suffix == name) {
      if (*amount > UINT64_MAX / per) return std::nullopt;
      return *amount * per;
    }
  }
  return std::nullopt;
}

}  // namespace ovl::topology
