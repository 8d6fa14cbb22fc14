#include "ops/history.h"

#include <array>
#include <utility>

namespace ovl::ops {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<Event::Type, const char*>, 7> kTypeNames{{
    {Event::Type::kCase, "case"},
    {Event::Type::kInvoke, "invoke"},
    {Event::Type::kComplete, "complete"},
    {Event::Type::kFault, "fault"},
    {Event::Type::kEnd, "end"},
    {Event::Type::kCheck, "check"},
    {Event::Type::kKernel, "kernel"},
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

}  // namespace ovl::ops
