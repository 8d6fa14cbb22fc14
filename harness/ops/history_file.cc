#include "ops/history_file.h"

#include <cerrno>
#include <nlohmann/json.hpp>

namespace ovl::ops {
namespace {

// The failure of a stream operation on `path`: the errno the failing call left, or EIO.
Status StreamError(const std::string& what) {
  return Status::Error(errno != 0 ? errno : EIO, what);
}

}  // namespace

HistoryWriter::HistoryWriter(const std::string& path) : path_(path) {
  errno = 0;
  out_.open(path, std::ios::out | std::ios::trunc);
  if (!out_.good()) status_ = StreamError("create " + path);
}

Status HistoryWriter::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

Status HistoryWriter::Append(const Event& e) {
  const std::string line = EventToJson(e).dump() + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  if (!status_.ok()) return status_;
  errno = 0;
  out_ << line;
  out_.flush();
  if (!out_.good()) status_ = StreamError("write " + path_);
  return status_;
}

std::optional<std::vector<Event>> ReadHistory(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return std::nullopt;
  }
  std::vector<Event> events;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      *error = path + ":" + std::to_string(number) + ": not valid JSON";
      return std::nullopt;
    }
    std::string why;
    std::optional<Event> e = EventFromJson(j, &why);
    if (!e) {
      *error = path + ":" + std::to_string(number) + ": " + why;
      return std::nullopt;
    }
    events.push_back(std::move(*e));
  }
  return events;
}

}  // namespace ovl::ops
