// Strict reading of YAML documents into typed values. Every read either yields a value or records
// a diagnostic naming the file position and key path, so a loader can keep going and report all
// problems at once. Unknown keys are errors unless a reader was told to ignore them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topology/diagnostics.h"
#include "topology/names.h"

namespace ovl::topology {

// Collects the diagnostics of one file.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  void Error(Pos at, std::string path, std::string message);
  const std::string& file() const { return file_; }
  bool empty() const { return diagnostics_.empty(); }
  size_t count() const { return diagnostics_.size(); }
  // The diagnostics so far, sorted by position (stable for equal positions).
  Diagnostics Take();

 private:
  std::string file_;
  Diagnostics diagnostics_;
};

// One value of the document: the node, its key path and where to point at it.
struct Field {
  YAML::Node node;   // undefined when the key is absent
  std::string path;  // "servers[1].variant"; "" for the document root
  Pos pos;           // the value's position, or its key's when the value is empty

  bool present() const { return node.IsDefined(); }
};

// The root of a document as a Field (position 1:1 when the document is empty).
Field RootField(const YAML::Node& root);

// Parses `text` as one YAML document; a syntax error is reported to `sink` at its position and
// gives nothing.
std::optional<YAML::Node> LoadDocument(std::string_view text, DiagnosticSink* sink);

// Converts a yaml-cpp mark (0-based, -1 when unknown) to a Pos, or `fallback` when unknown.
Pos ToPos(const YAML::Mark& mark, Pos fallback);

// Reads a YAML map key by key. Constructing it reports a non-map value (then it acts as an empty
// map) and duplicate keys; Finish() reports every key that was neither read nor ignored.
class MapReader {
 public:
  MapReader(const Field& map, DiagnosticSink* sink);

  bool is_map() const { return is_map_; }
  // The value under `key`; not present() when absent.
  Field Optional(std::string_view key);
  // As Optional, and reports "missing required key" (at the map) when absent.
  Field Required(std::string_view key);
  // Accepts `key` without reading it: it belongs to another reader of the same file.
  void Ignore(std::string_view key);
  // Reports the unread keys, naming the keys this map accepts.
  void Finish();

 private:
  struct Entry {
    std::string key;
    Pos key_pos;
    Field value;
    bool used = false;
  };
  Field Lookup(std::string_view key);

  Field map_;
  DiagnosticSink* sink_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;  // keys asked for, in the order asked
};

// The elements of a YAML sequence ("path[i]"); reports a non-sequence and returns nothing.
std::optional<std::vector<Field>> ReadList(const Field& f, DiagnosticSink* sink);

// Scalar readers: the value, or nullopt after reporting why not.
std::optional<std::string> ReadString(const Field& f, DiagnosticSink* sink);
std::optional<uint64_t> ReadUint(const Field& f, DiagnosticSink* sink, uint64_t min = 0,
                                 uint64_t max = UINT64_MAX);
std::optional<double> ReadNumber(const Field& f, DiagnosticSink* sink, double min, double max);
std::optional<bool> ReadBool(const Field& f, DiagnosticSink* sink);
std::optional<std::chrono::milliseconds> ReadDuration(const Field& f, DiagnosticSink* sink);
std::optional<uint64_t> ReadSize(const Field& f, DiagnosticSink* sink);
std::optional<std::vector<std::string>> ReadStringList(const Field& f, DiagnosticSink* sink);

// A name from `table`; `what` names the kind of value in the error ("unknown variant 'x'").
template <typename E, size_t N>
std::optional<E> ReadEnum(const Field& f, DiagnosticSink* sink, std::string_view what,
                          const std::array<Named<E>, N>& table) {
  std::optional<std::string> s = ReadString(f, sink);
  if (!s) return std::nullopt;
  if (std::optional<E> e = FromName(table, *s)) return e;
  sink->Error(
      f.pos, f.path,
      "unknown " + std::string(what) + " '" + *s + "' (expected one of: " + JoinNames(table) + ")");
  return std::nullopt;
}

// "90s", "1m30s", "500ms", "2h": a sum of integer amounts with units h, m, s, ms.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
// "4096", "64K", "64KiB", "1M", "2G": bytes, binary multiples.
std::optional<uint64_t> ParseSize(std::string_view text);
// A plain decimal uint64 (no sign, no spaces).
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace ovl::topology
