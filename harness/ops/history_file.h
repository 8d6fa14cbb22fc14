// history.jsonl on disk: the event codec of ops/history.h, one event per line. Kept apart from
// the codec so the model (harness/model), which only replays events, links no file I/O.
#pragma once

#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/history.h"

namespace ovl::ops {

// Appends events to a history file; thread-safe, flushed per event so a killed run keeps what
// happened up to the kill.
class HistoryWriter {
 public:
  // Creates (truncates) `path`; status() says whether that worked.
  explicit HistoryWriter(const std::string& path);
  bool ok() const { return status().ok(); }
  // OK while the file was opened and every append so far was written; else the first failure,
  // naming the file.
  Status status() const;
  // Appends `e` and flushes. After a failure this writes nothing more and returns that failure
  // again, so the file never has a gap in its middle.
  [[nodiscard]] Status Append(const Event& e);

 private:
  const std::string path_;
  mutable std::mutex mu_;
  std::ofstream out_;
  Status status_;
};

// Reads a whole history file; on a malformed line, returns nullopt and the line number + reason.
std::optional<std::vector<Event>> ReadHistory(const std::string& path, std::string* error);

}  // namespace ovl::ops
