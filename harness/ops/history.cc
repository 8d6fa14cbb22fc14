#include "ops/history.h"

#include <array>
#include <cerrno>
#include <utility>

namespace ovl::ops {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<Event::Type, const char*>, 6> kTypeNames{{
    {Event::Type::kCase, "case"},
    {Event::Type::kInvoke, "invoke"},
    {Event::Type::kComplete, "complete"},
    {Event::Type::kFault, "fault"},
    {Event::Type::kEnd, "end"},
    {Event::Type::kCheck, "check"},
}};

const char* TypeName(Event::Type type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "?";
}

}  // namespace

nlohmann::json EventToJson(const Event& e) {
  json j = json::object();
  j["type"] = TypeName(e.type);
  j["case"] = e.case_id;
  j["t"] = e.t;
  switch (e.type) {
    case Event::Type::kInvoke:
      j["op"] = e.op ? json(*e.op) : json(nullptr);
      break;
    case Event::Type::kComplete:
      j["seq"] = e.seq;
      j["result"] = e.result ? ResultToJson(*e.result, /*with_data=*/false) : json(nullptr);
      break;
    default:
      if (e.info.is_object()) {
        for (const auto& [key, value] : e.info.items()) {
          if (key != "type" && key != "case" && key != "t") j[key] = value;
        }
      }
      break;
  }
  return j;
}

std::optional<Event> EventFromJson(const nlohmann::json& j, std::string* error) {
  if (!j.is_object()) {
    *error = "event is not a JSON object";
    return std::nullopt;
  }
  Event e;
  try {
    const std::string type = j.at("type").get<std::string>();
    bool known = false;
    for (const auto& [t, name] : kTypeNames) {
      if (type == name) {
        e.type = t;
        known = true;
      }
    }
    if (!known) {
      *error = "unknown event type \"" + type + "\"";
      return std::nullopt;
    }
    e.case_id = j.at("case").get<std::string>();
    e.t = j.at("t").get<double>();
    switch (e.type) {
      case Event::Type::kInvoke:
        e.op = j.at("op").get<Op>();
        break;
      case Event::Type::kComplete:
        e.seq = j.at("seq").get<uint64_t>();
        e.result = j.at("result").get<Result>();
        break;
      default:
        e.info = json::object();
        for (const auto& [key, value] : j.items()) {
          if (key != "type" && key != "case" && key != "t") e.info[key] = value;
        }
        break;
    }
  } catch (const std::exception& ex) {
    *error = ex.what();
    return std::nullopt;
  }
  return e;
}

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
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
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
