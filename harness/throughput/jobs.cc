#include "throughput/jobs.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "topology/yaml_reader.h"

namespace ovl::throughput {
namespace {

namespace tp = ::ovl::topology;
using tp::DiagnosticSink;
using tp::Field;
using tp::MapReader;

constexpr std::array<tp::Named<ops::Stable>, 3> kStableNames{{
    {"unstable", ops::Stable::kUnstable},
    {"data_sync", ops::Stable::kDataSync},
    {"file_sync", ops::Stable::kFileSync},
}};
constexpr char kFaultRunFile[] = "under-faults.yaml";

std::optional<YAML::Node> Load(std::string_view text, DiagnosticSink* sink) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    sink->Error(tp::ToPos(e.mark, tp::Pos{1, 1}), "", e.msg);
    return std::nullopt;
  }
}

void ReadWorkingSet(const Field& f, DiagnosticSink* sink, JobDef* d) {
  MapReader m(f, sink);
  const bool data = tp::IsDataJob(d->kind);
  if (data) {
    Field size = m.Required("size");
    if (size.present()) d->size = tp::ReadSize(size, sink).value_or(0);
  } else {
    Field files = m.Required("files");
    if (files.present()) d->files = tp::ReadUint(files, sink, 1, 10'000'000).value_or(1);
    Field file_size = m.Optional("file_size");
    if (file_size.present()) d->size = tp::ReadSize(file_size, sink).value_or(0);
    Field symlinks = m.Optional("symlinks");
    if (symlinks.present()) d->symlinks = tp::ReadUint(symlinks, sink, 0, 10'000'000).value_or(0);
  }
  m.Finish();
}

void ReadDurations(const Field& f, DiagnosticSink* sink, JobDef* d) {
  MapReader m(f, sink);
  Field def = m.Required("default");
  if (def.present()) d->duration = tp::ReadDuration(def, sink).value_or(d->duration);
  Field min = m.Optional("min");
  if (min.present()) d->min_duration = tp::ReadDuration(min, sink).value_or(d->min_duration);
  Field max = m.Optional("max");
  if (max.present()) d->max_duration = tp::ReadDuration(max, sink).value_or(d->max_duration);
  m.Finish();
  if (d->min_duration.count() <= 0 || d->min_duration > d->max_duration ||
      d->duration < d->min_duration || d->duration > d->max_duration ||
      d->max_duration > kMaxLoadDuration) {
    sink->Error(f.pos, f.path,
                "needs 0 < min <= default <= max <= " + tp::FormatDuration(kMaxLoadDuration));
  }
}

void ReadMix(const Field& f, DiagnosticSink* sink, JobDef* d) {
  MapReader m(f, sink);
  for (const auto& named : kLoadOpNames) {
    Field w = m.Optional(named.name);
    if (!w.present()) continue;
    if (std::optional<uint64_t> weight = tp::ReadUint(w, sink, 1, 1'000'000)) {
      d->mix.push_back({named.value, static_cast<uint32_t>(*weight)});
    }
  }
  m.Finish();
}

void ReadPhases(const Field& f, DiagnosticSink* sink, JobDef* d) {
  for (const Field& item : tp::ReadList(f, sink).value_or(std::vector<Field>{})) {
    if (std::optional<LoadOp> op = tp::ReadEnum(item, sink, "operation", kLoadOpNames)) {
      d->phases.push_back(*op);
    }
  }
}

// The checks LoadRequestFromJson makes, run on a request built from the definition, so that a
// definition the agent would refuse is reported at load time, at the file.
void CheckAsRequest(const JobDef& d, const Field& root, DiagnosticSink* sink) {
  ResolvedJob job{d, d.size, d.files, d.clients, d.duration};
  Result<LoadRequest> back = LoadRequestFromJson(ToJson(RequestFor(job, 0, 1, d.duration, false)));
  if (!back.ok()) sink->Error(root.pos, root.path, back.status().message());
}

}  // namespace

std::string JobDef::name() const {
  return std::string(tp::NameOf(tp::kJobKindNames, kind));
}

const JobDef* JobCatalogue::Find(tp::JobKind kind) const {
  for (const JobDef& d : jobs) {
    if (d.kind == kind) return &d;
  }
  return nullptr;
}

tp::Checked<JobDef> ParseJobDef(std::string_view text, const std::string& file) {
  DiagnosticSink sink(file);
  std::optional<YAML::Node> root = Load(text, &sink);
  if (!root) return sink.Take();
  JobDef d;
  d.file = file;
  const Field top = tp::RootField(*root);
  MapReader m(top, &sink);
  Field job = m.Required("job");
  std::optional<tp::JobKind> kind =
      job.present() ? tp::ReadEnum(job, &sink, "throughput job", tp::kJobKindNames) : std::nullopt;
  if (kind) d.kind = *kind;
  Field summary = m.Required("summary");
  if (summary.present()) d.summary = tp::ReadString(summary, &sink).value_or("");
  Field unit = m.Required("unit");
  if (unit.present()) {
    d.unit = tp::ReadString(unit, &sink).value_or("");
    if (d.unit != "MB/s" && d.unit != "ops/s") sink.Error(unit.pos, unit.path, "MB/s or ops/s");
  }
  Field pattern = m.Required("pattern");
  if (pattern.present()) {
    d.pattern = tp::ReadEnum(pattern, &sink, "pattern", kPatternNames).value_or(d.pattern);
  }
  Field request = m.Required("request_size");
  if (request.present()) d.request_size = tp::ReadSize(request, &sink).value_or(d.request_size);
  Field stable = m.Optional("stable");
  if (stable.present()) {
    d.stable = tp::ReadEnum(stable, &sink, "stability", kStableNames).value_or(d.stable);
  }
  Field fresh = m.Optional("fresh_file");
  if (fresh.present()) d.fresh_file = tp::ReadBool(fresh, &sink).value_or(false);
  Field working_set = m.Required("working_set");
  if (working_set.present() && kind) ReadWorkingSet(working_set, &sink, &d);
  Field clients = m.Required("clients");
  if (clients.present()) d.clients = tp::ReadUint(clients, &sink, 1, 64).value_or(1);
  Field duration = m.Required("duration");
  if (duration.present()) ReadDurations(duration, &sink, &d);
  Field max_ops = m.Optional("max_ops");
  if (max_ops.present()) d.max_ops = tp::ReadUint(max_ops, &sink, 1).value_or(d.max_ops);
  Field mix = m.Optional("mix");
  if (mix.present()) ReadMix(mix, &sink, &d);
  Field phases = m.Optional("phases");
  if (phases.present()) ReadPhases(phases, &sink, &d);
  m.Finish();
  if (sink.empty()) CheckAsRequest(d, top, &sink);
  if (!sink.empty()) return sink.Take();
  return d;
}

tp::Checked<FaultRunDef> ParseFaultRunDef(std::string_view text, const std::string& file) {
  DiagnosticSink sink(file);
  std::optional<YAML::Node> root = Load(text, &sink);
  if (!root) return sink.Take();
  FaultRunDef d;
  MapReader m(tp::RootField(*root), &sink);
  Field job = m.Required("job");
  if (job.present()) {
    d.job = tp::ReadEnum(job, &sink, "throughput job", tp::kJobKindNames).value_or(d.job);
  }
  Field faults = m.Required("faults");
  for (const Field& item : tp::ReadList(faults, &sink).value_or(std::vector<Field>{})) {
    std::optional<tp::FaultKind> k = tp::ReadEnum(item, &sink, "fault", tp::kFaultKindNames);
    // An upgrade needs a server with a second kernel, which a job file cannot know of.
    if (k && (tp::TargetsClient(*k) || *k == tp::FaultKind::kUpgrade)) {
      sink.Error(item.pos, item.path, "faults here strike the server: crash, reboot or evict");
    } else if (k) {
      d.faults.push_back(*k);
    }
  }
  Field timeline = m.Required("timeline");
  if (timeline.present()) {
    d.timeline = tp::ReadDuration(timeline, &sink).value_or(d.timeline);
    if (d.timeline < kMinTimelineBucket) {
      sink.Error(timeline.pos, timeline.path, "at least " + tp::FormatDuration(kMinTimelineBucket));
    }
  }
  m.Finish();
  if (!sink.empty()) return sink.Take();
  return d;
}

tp::Checked<JobCatalogue> LoadJobCatalogue(const std::filesystem::path& dir) {
  JobCatalogue out;
  tp::Diagnostics errors;
  auto read = [&](const std::string& name) -> std::optional<std::string> {
    const std::filesystem::path path = dir / name;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      errors.push_back({path.string(), 0, 0, "", "cannot read the file"});
      return std::nullopt;
    }
    return std::move(text).str();
  };
  for (const auto& named : tp::kJobKindNames) {
    const std::string file = (dir / (std::string(named.name) + ".yaml")).string();
    std::optional<std::string> text = read(std::string(named.name) + ".yaml");
    if (!text) continue;
    tp::Checked<JobDef> d = ParseJobDef(*text, file);
    if (!d.ok()) {
      errors.insert(errors.end(), d.errors().begin(), d.errors().end());
    } else if (d->kind != named.value) {
      errors.push_back(
          {file, 0, 0, "job", "defines " + d->name() + ", not " + std::string(named.name)});
    } else {
      out.jobs.push_back(std::move(d).value());
    }
  }
  if (std::optional<std::string> text = read(kFaultRunFile)) {
    tp::Checked<FaultRunDef> f = ParseFaultRunDef(*text, (dir / kFaultRunFile).string());
    if (f.ok()) {
      out.under_faults = std::move(f).value();
    } else {
      errors.insert(errors.end(), f.errors().begin(), f.errors().end());
    }
  }
  if (!errors.empty()) return errors;
  return out;
}

ResolvedJob Resolve(const JobDef& def, const tp::ThroughputJob& entry) {
  const tp::ThroughputJob defaults;
  ResolvedJob r{def, def.size, def.files, def.clients, def.duration, entry.engine};
  if (tp::IsDataJob(def.kind) && entry.size != defaults.size) r.size = entry.size;
  if (!tp::IsDataJob(def.kind) && entry.files != defaults.files) r.files = entry.files;
  if (entry.clients != defaults.clients) r.clients = entry.clients;
  if (entry.duration != defaults.duration) r.duration = entry.duration;
  r.duration = std::clamp(r.duration, def.min_duration, def.max_duration);
  // A data job moves whole requests.
  if (tp::IsDataJob(def.kind)) r.size = std::max(r.size, def.request_size);
  return r;
}

std::string ClientDir(uint64_t i) {
  return "tput/c" + std::to_string(i);
}

ops::Fixture WorkingSet(const ResolvedJob& job, uint64_t seed) {
  ops::Fixture f;
  f.seed = seed;
  f.entries.push_back({ops::FixtureEntry::Kind::kDir, "tput", "", 0, 0, 0755});
  for (uint64_t c = 0; c < job.clients; ++c) {
    const std::string dir = ClientDir(c);
    f.entries.push_back({ops::FixtureEntry::Kind::kDir, dir, "", 0, 0, 0755});
    if (tp::IsDataJob(job.def.kind)) {
      if (!job.def.fresh_file) {
        f.entries.push_back({ops::FixtureEntry::Kind::kFile, dir + "/data", "", job.size, 0, 0644});
      }
      continue;
    }
    if (job.def.pattern == Pattern::kPhases) continue;
    for (uint64_t i = 0; i < job.files; ++i) {
      f.entries.push_back(
          {ops::FixtureEntry::Kind::kFile, dir + "/" + FileName(i), "", job.size, 0, 0644});
    }
    for (uint64_t i = 0; i < job.def.symlinks; ++i) {
      f.entries.push_back(
          {ops::FixtureEntry::Kind::kSymlink, dir + "/" + LinkName(i), FileName(0), 0, 0, 0777});
    }
  }
  return f;
}

LoadRequest RequestFor(const ResolvedJob& job, uint64_t i, uint64_t seed, milliseconds timeline,
                       bool ok_runs) {
  LoadRequest r;
  LoadSpec& s = r.job;
  const JobDef& d = job.def;
  s.name = d.name();
  s.pattern = d.pattern;
  s.dir = ClientDir(i);
  s.file = tp::IsDataJob(d.kind) ? "data" : "";
  s.fresh_file = d.fresh_file;
  s.size = job.size;
  s.files = tp::IsDataJob(d.kind) ? 0 : job.files;
  s.symlinks = d.symlinks;
  s.request_size = d.request_size;
  s.stable = d.stable;
  s.max_ops = d.max_ops;
  s.mix = d.mix;
  s.phases = d.phases;
  r.seed = seed + i;
  r.duration = job.duration;
  r.timeline = timeline;
  r.ok_runs = ok_runs;
  r.engine = job.engine;
  return r;
}

}  // namespace ovl::throughput
