#include "throughput/load_spec.h"

#include <cstdio>
#include <exception>
#include <set>

namespace ovl::throughput {
namespace {

using nlohmann::json;

constexpr std::array<topology::Named<ops::Stable>, 3> kStableNames{{
    {"unstable", ops::Stable::kUnstable},
    {"data_sync", ops::Stable::kDataSync},
    {"file_sync", ops::Stable::kFileSync},
}};

Status Invalid(const std::string& what) {
  return Status::Error(EINVAL, "load: " + what);
}

Status OnlyKeys(const json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) return Invalid(where + " must be an object");
  for (const auto& [key, value] : j.items()) {
    if (!allowed.contains(key)) return Invalid(where + ": unknown field \"" + key + "\"");
  }
  return Status::Ok();
}

// j[key] as a T; EINVAL naming the key when absent or of another type.
template <typename T>
Result<T> Get(const json& j, const std::string& key) {
  auto it = j.find(key);
  if (it == j.end()) return Invalid("missing \"" + key + "\"");
  try {
    return it->get<T>();
  } catch (const std::exception&) {
    return Invalid("\"" + key + "\" has the wrong type");
  }
}

Result<uint64_t> GetUint(const json& j, const std::string& key) {
  auto it = j.find(key);
  if (it == j.end()) return Invalid("missing \"" + key + "\"");
  if (!it->is_number_unsigned()) return Invalid("\"" + key + "\" must be an unsigned integer");
  return it->get<uint64_t>();
}

template <typename E, size_t N>
Result<E> GetEnum(const json& j, const std::string& key,
                  const std::array<topology::Named<E>, N>& table) {
  OVL_ASSIGN_OR_RETURN(std::string name, Get<std::string>(j, key));
  if (std::optional<E> e = topology::FromName(table, name)) return *e;
  return Invalid("\"" + key + "\": unknown value \"" + name +
                 "\" (expected one of: " + topology::JoinNames(table) + ")");
}

Result<std::vector<MixEntry>> GetMix(const json& j) {
  OVL_ASSIGN_OR_RETURN(json list, Get<json>(j, "mix"));
  if (!list.is_array()) return Invalid("\"mix\" must be a list");
  std::vector<MixEntry> mix;
  for (const json& e : list) {
    OVL_RETURN_IF_ERROR(OnlyKeys(e, {"op", "weight"}, "mix entry"));
    MixEntry m;
    OVL_ASSIGN_OR_RETURN(m.op, GetEnum(e, "op", kLoadOpNames));
    OVL_ASSIGN_OR_RETURN(uint64_t weight, GetUint(e, "weight"));
    if (weight == 0 || weight > 1'000'000) return Invalid("mix weights must be in [1, 1000000]");
    m.weight = static_cast<uint32_t>(weight);
    mix.push_back(m);
  }
  return mix;
}

Result<std::vector<LoadOp>> GetPhases(const json& j) {
  OVL_ASSIGN_OR_RETURN(json list, Get<json>(j, "phases"));
  if (!list.is_array()) return Invalid("\"phases\" must be a list");
  std::vector<LoadOp> phases;
  for (const json& e : list) {
    if (!e.is_string()) return Invalid("\"phases\" must list operation names");
    std::optional<LoadOp> op = topology::FromName(kLoadOpNames, e.get<std::string>());
    if (!op) return Invalid("\"phases\": unknown operation \"" + e.get<std::string>() + "\"");
    phases.push_back(*op);
  }
  return phases;
}

bool Uses(const LoadSpec& s, LoadOp op) {
  for (const MixEntry& m : s.mix) {
    if (m.op == op) return true;
  }
  return false;
}

// The cross-field rules of a spec.
Status Check(const LoadSpec& s) {
  if (s.name.empty()) return Invalid("\"name\" must not be empty");
  if (s.dir.empty() || s.dir.starts_with("/")) {
    return Invalid("\"dir\" must be a non-empty path relative to the export root");
  }
  if (s.request_size == 0 || s.request_size > kMaxRequestSize) {
    return Invalid("\"request_size\" must be in [1, " + std::to_string(kMaxRequestSize) + "]");
  }
  if (s.max_ops == 0) return Invalid("\"max_ops\" must be positive");
  switch (s.pattern) {
    case Pattern::kSequential:
    case Pattern::kRandom:
      if (s.mix.size() != 1 || (s.mix[0].op != LoadOp::kRead && s.mix[0].op != LoadOp::kWrite)) {
        return Invalid("a sequential or random job has exactly one mix entry, read or write");
      }
      if (s.file.empty()) return Invalid("a data job needs \"file\"");
      if (s.size < s.request_size) return Invalid("\"size\" is smaller than one request");
      return Status::Ok();
    case Pattern::kMix:
      if (s.mix.empty()) return Invalid("a mix job needs a non-empty \"mix\"");
      if (s.files == 0) return Invalid("a mix job needs \"files\"");
      if (Uses(s, LoadOp::kReadlink) && s.symlinks == 0) {
        return Invalid("a mix with readlink needs \"symlinks\"");
      }
      if (Uses(s, LoadOp::kCommit)) return Invalid("commit is not a mix operation");
      return Status::Ok();
    case Pattern::kPhases:
      if (s.phases.empty()) return Invalid("a phases job needs \"phases\"");
      if (s.files == 0) return Invalid("a phases job needs \"files\"");
      for (LoadOp op : s.phases) {
        if (op != LoadOp::kCreate && op != LoadOp::kLookup && op != LoadOp::kRemove) {
          return Invalid("phases are create, lookup (a stat by name) or remove");
        }
      }
      return Status::Ok();
  }
  return Invalid("unknown pattern");
}

Result<LoadSpec> SpecFromJson(const json& j) {
  OVL_RETURN_IF_ERROR(OnlyKeys(j,
                               {"name", "pattern", "dir", "file", "fresh_file", "size", "files",
                                "symlinks", "request_size", "stable", "max_ops", "mix", "phases"},
                               "\"job\""));
  LoadSpec s;
  OVL_ASSIGN_OR_RETURN(s.name, Get<std::string>(j, "name"));
  OVL_ASSIGN_OR_RETURN(s.pattern, GetEnum(j, "pattern", kPatternNames));
  OVL_ASSIGN_OR_RETURN(s.dir, Get<std::string>(j, "dir"));
  OVL_ASSIGN_OR_RETURN(s.file, Get<std::string>(j, "file"));
  OVL_ASSIGN_OR_RETURN(s.fresh_file, Get<bool>(j, "fresh_file"));
  OVL_ASSIGN_OR_RETURN(s.size, GetUint(j, "size"));
  OVL_ASSIGN_OR_RETURN(s.files, GetUint(j, "files"));
  OVL_ASSIGN_OR_RETURN(s.symlinks, GetUint(j, "symlinks"));
  OVL_ASSIGN_OR_RETURN(s.request_size, GetUint(j, "request_size"));
  OVL_ASSIGN_OR_RETURN(s.stable, GetEnum(j, "stable", kStableNames));
  OVL_ASSIGN_OR_RETURN(s.max_ops, GetUint(j, "max_ops"));
  OVL_ASSIGN_OR_RETURN(s.mix, GetMix(j));
  OVL_ASSIGN_OR_RETURN(s.phases, GetPhases(j));
  OVL_RETURN_IF_ERROR(Check(s));
  return s;
}

}  // namespace

std::string LoadOpName(LoadOp op) {
  return std::string(topology::NameOf(kLoadOpNames, op));
}

std::string FileName(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "f%06llu", static_cast<unsigned long long>(i));
  return buf;
}

std::string LinkName(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "l%06llu", static_cast<unsigned long long>(i));
  return buf;
}

json ToJson(const LoadRequest& r) {
  const LoadSpec& s = r.job;
  json mix = json::array();
  for (const MixEntry& m : s.mix) mix.push_back({{"op", LoadOpName(m.op)}, {"weight", m.weight}});
  json phases = json::array();
  for (LoadOp op : s.phases) phases.push_back(LoadOpName(op));
  return {{"cmd", "load"},
          {"seed", r.seed},
          {"duration_ms", static_cast<uint64_t>(r.duration.count())},
          {"timeline_ms", static_cast<uint64_t>(r.timeline.count())},
          {"ok_runs", r.ok_runs},
          {"engine", std::string(topology::NameOf(topology::kLoadEngineNames, r.engine))},
          {"hold", r.hold},
          {"job",
           {{"name", s.name},
            {"pattern", std::string(topology::NameOf(kPatternNames, s.pattern))},
            {"dir", s.dir},
            {"file", s.file},
            {"fresh_file", s.fresh_file},
            {"size", s.size},
            {"files", s.files},
            {"symlinks", s.symlinks},
            {"request_size", s.request_size},
            {"stable", std::string(topology::NameOf(kStableNames, s.stable))},
            {"max_ops", s.max_ops},
            {"mix", mix},
            {"phases", phases}}}};
}

Result<LoadRequest> LoadRequestFromJson(const json& j) {
  OVL_RETURN_IF_ERROR(
      OnlyKeys(j, {"cmd", "seed", "duration_ms", "timeline_ms", "ok_runs", "engine", "hold", "job"},
               "request"));
  LoadRequest r;
  OVL_ASSIGN_OR_RETURN(r.seed, GetUint(j, "seed"));
  OVL_ASSIGN_OR_RETURN(uint64_t duration, GetUint(j, "duration_ms"));
  if (duration == 0 || duration > static_cast<uint64_t>(kMaxLoadDuration.count())) {
    return Invalid("\"duration_ms\" must be in [1, " + std::to_string(kMaxLoadDuration.count()) +
                   "]");
  }
  r.duration = milliseconds(duration);
  if (j.contains("timeline_ms")) {
    OVL_ASSIGN_OR_RETURN(uint64_t bucket, GetUint(j, "timeline_ms"));
    if (bucket < static_cast<uint64_t>(kMinTimelineBucket.count()) ||
        bucket > static_cast<uint64_t>(kMaxLoadDuration.count())) {
      return Invalid("\"timeline_ms\" must be in [" + std::to_string(kMinTimelineBucket.count()) +
                     ", " + std::to_string(kMaxLoadDuration.count()) + "]");
    }
    r.timeline = milliseconds(bucket);
  }
  if (j.contains("ok_runs")) {
    OVL_ASSIGN_OR_RETURN(r.ok_runs, Get<bool>(j, "ok_runs"));
  }
  OVL_ASSIGN_OR_RETURN(json job, Get<json>(j, "job"));
  OVL_ASSIGN_OR_RETURN(r.job, SpecFromJson(job));
  if (j.contains("hold")) {
    OVL_ASSIGN_OR_RETURN(r.hold, Get<bool>(j, "hold"));
  }
  if (j.contains("engine")) {
    OVL_ASSIGN_OR_RETURN(r.engine, GetEnum(j, "engine", topology::kLoadEngineNames));
  }
  if (r.engine == topology::LoadEngine::kFio) {
    if (r.job.pattern != Pattern::kSequential && r.job.pattern != Pattern::kRandom) {
      return Invalid("\"engine\" fio runs sequential and random data jobs only");
    }
    if (r.ok_runs) return Invalid("\"engine\" fio cannot report \"ok_runs\"");
  }
  return r;
}

}  // namespace ovl::throughput
