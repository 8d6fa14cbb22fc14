#include "agent/protocol.h"

#include <cerrno>
#include <exception>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

namespace ovl::agent::protocol {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxTimeoutMs = 3600 * 1000;

Status Invalid(std::string what) {
  return Status::Error(EINVAL, std::move(what));
}

std::string Quoted(std::string_view key) {
  return "\"" + std::string(key) + "\"";
}

Status OnlyKeys(const json& j, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return Invalid("unknown field " + Quoted(key));
  }
  return Status::Ok();
}

// The unsigned field `key` of `j` when present; an error when it is not an integer in [lo, hi].
Result<std::optional<uint64_t>> OptUint(const json& j, const char* key, uint64_t lo, uint64_t hi) {
  auto it = j.find(key);
  if (it == j.end()) return std::optional<uint64_t>();
  if (!it->is_number_unsigned() || it->get<uint64_t>() < lo || it->get<uint64_t>() > hi) {
    return Invalid(Quoted(key) + " must be an integer in [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "]");
  }
  return std::optional<uint64_t>(it->get<uint64_t>());
}

// The field `key` of `j` when present; an error when it is not a non-empty string.
Result<std::optional<std::string>> OptString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::optional<std::string>();
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Invalid(Quoted(key) + " must be a non-empty string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

template <typename To>
std::optional<To> Narrow(const std::optional<uint64_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<To>(*v);
}

// ---- Connect and reconnect fields ----

Result<AccessFields> FieldsFromJson(const json& j) {
  OVL_RETURN_IF_ERROR(OnlyKeys(j, {"cmd", "mode", "host", "nfs_port", "mount_port", "export", "uid",
                                   "gid", "timeout_ms", "root"}));
  AccessFields f;
  OVL_ASSIGN_OR_RETURN(std::optional<std::string> mode, OptString(j, "mode"));
  if (mode) {
    if (*mode == ModeName(Mode::kLibnfs)) {
      f.mode = Mode::kLibnfs;
    } else if (*mode == ModeName(Mode::kSyscalls)) {
      f.mode = Mode::kSyscalls;
    } else {
      return Invalid("\"mode\" must be \"libnfs\" or \"syscalls\"");
    }
  }
  OVL_ASSIGN_OR_RETURN(f.host, OptString(j, "host"));
  OVL_ASSIGN_OR_RETURN(std::optional<uint64_t> nfs_port, OptUint(j, "nfs_port", 1, 65535));
  OVL_ASSIGN_OR_RETURN(std::optional<uint64_t> mount_port, OptUint(j, "mount_port", 1, 65535));
  OVL_ASSIGN_OR_RETURN(f.export_path, OptString(j, "export"));
  OVL_ASSIGN_OR_RETURN(std::optional<uint64_t> uid, OptUint(j, "uid", 0, UINT32_MAX));
  OVL_ASSIGN_OR_RETURN(std::optional<uint64_t> gid, OptUint(j, "gid", 0, UINT32_MAX));
  OVL_ASSIGN_OR_RETURN(std::optional<uint64_t> timeout_ms,
                       OptUint(j, "timeout_ms", 1, kMaxTimeoutMs));
  OVL_ASSIGN_OR_RETURN(f.root, OptString(j, "root"));
  f.nfs_port = Narrow<uint16_t>(nfs_port);
  f.mount_port = Narrow<uint16_t>(mount_port);
  f.uid = Narrow<uint32_t>(uid);
  f.gid = Narrow<uint32_t>(gid);
  if (timeout_ms) f.timeout = std::chrono::milliseconds(*timeout_ms);
  return f;
}

json FieldsToJson(const AccessFields& f) {
  json j = json::object();
  if (f.mode) j["mode"] = std::string(ModeName(*f.mode));
  if (f.host) j["host"] = *f.host;
  if (f.nfs_port) j["nfs_port"] = *f.nfs_port;
  if (f.mount_port) j["mount_port"] = *f.mount_port;
  if (f.export_path) j["export"] = *f.export_path;
  if (f.uid) j["uid"] = *f.uid;
  if (f.gid) j["gid"] = *f.gid;
  if (f.timeout) j["timeout_ms"] = static_cast<uint64_t>(f.timeout->count());
  if (f.root) j["root"] = *f.root;
  return j;
}

// The connect `f` describes, defaults filled in: every field of its mode, none of the other.
Result<Access> Resolve(const AccessFields& f) {
  if (!f.mode) return Invalid("missing \"mode\"");
  if (*f.mode == Mode::kSyscalls) {
    const std::pair<const char*, bool> libnfs_fields[] = {{"host", f.host.has_value()},
                                                          {"nfs_port", f.nfs_port.has_value()},
                                                          {"mount_port", f.mount_port.has_value()},
                                                          {"export", f.export_path.has_value()},
                                                          {"uid", f.uid.has_value()},
                                                          {"gid", f.gid.has_value()},
                                                          {"timeout_ms", f.timeout.has_value()}};
    for (const auto& [key, given] : libnfs_fields) {
      if (given) return Invalid("unknown field " + Quoted(key));
    }
    if (!f.root) return Invalid("missing \"root\"");
    return Access(SyscallsAccess{*f.root});
  }
  if (f.root) return Invalid("unknown field \"root\"");
  if (!f.nfs_port) return Invalid("missing \"nfs_port\"");
  LibnfsAccess a;
  a.host = f.host.value_or(a.host);
  a.nfs_port = *f.nfs_port;
  a.mount_port = f.mount_port;
  a.export_path = f.export_path.value_or(a.export_path);
  a.uid = f.uid.value_or(a.uid);
  a.gid = f.gid.value_or(a.gid);
  a.timeout = f.timeout;
  return Access(std::move(a));
}

// ---- Requests ----

Result<Request> DecodeRunOp(const json& j, std::optional<uint64_t>* op_seq) {
  if (j.size() != 2 || !j.contains("op")) return Invalid("\"op\" takes exactly the field \"op\"");
  const json& op_json = j["op"];
  Result<ops::Op> op = ops::OpFromJson(op_json);
  if (!op.ok()) {
    if (op_seq != nullptr && op_json.is_object()) {
      auto seq = op_json.find("seq");
      if (seq != op_json.end() && seq->is_number_unsigned()) *op_seq = seq->get<uint64_t>();
    }
    return Invalid("malformed op: " + op.status().message());
  }
  return Request(RunOp{std::move(op).value()});
}

template <typename T>
Result<Request> DecodeNoFields(const json& j) {
  if (j.size() != 1) return Invalid(Quoted(T::kCmd) + " takes no fields");
  return Request(T{});
}

Result<Request> DecodeObject(const json& j, std::optional<uint64_t>* op_seq) {
  if (!j.is_object()) return Invalid("a request must be a JSON object");
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string()) return Invalid("missing string \"cmd\"");
  const std::string& name = cmd->get_ref<const std::string&>();
  if (name == Connect::kCmd || name == Reconnect::kCmd) {
    OVL_ASSIGN_OR_RETURN(AccessFields fields, FieldsFromJson(j));
    if (name == Reconnect::kCmd) return Request(Reconnect{std::move(fields)});
    OVL_ASSIGN_OR_RETURN(Access access, Resolve(fields));
    return Request(Connect{std::move(access)});
  }
  if (name == RunOp::kCmd) return DecodeRunOp(j, op_seq);
  if (name == Load::kCmd) {
    OVL_ASSIGN_OR_RETURN(throughput::LoadRequest load, throughput::LoadRequestFromJson(j));
    return Request(Load{std::move(load)});
  }
  if (name == Start::kCmd) return DecodeNoFields<Start>(j);
  if (name == Forget::kCmd) return DecodeNoFields<Forget>(j);
  if (name == Quit::kCmd) return DecodeNoFields<Quit>(j);
  return Invalid("unknown cmd " + Quoted(name));
}

// The fields of a request besides "cmd"; the empty requests have none.
json FieldsOf(const Connect& r) {
  return FieldsToJson(ReconnectTo(r).fields);
}
json FieldsOf(const Reconnect& r) {
  return FieldsToJson(r.fields);
}
json FieldsOf(const RunOp& r) {
  return {{"op", r.op}};
}
json FieldsOf(const Load& r) {
  return throughput::ToJson(r.request);
}

// Invalid UTF-8 (in names, error texts) must not stop a line from being written.
std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- Replies ----

Result<Reply> DecodeReplyObject(const json& j) {
  if (!j.is_object()) return Invalid("not a JSON object");
  if (j.contains("result")) {
    OVL_RETURN_IF_ERROR(OnlyKeys(j, {"seq", "result"}));
    OVL_ASSIGN_OR_RETURN(std::optional<uint64_t> seq, OptUint(j, "seq", 0, UINT64_MAX));
    if (!seq) return Invalid("missing \"seq\"");
    OVL_ASSIGN_OR_RETURN(ops::Result result, ops::ResultFromJson(j["result"]));
    return Reply(OpDone{*seq, std::move(result)});
  }
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return Invalid("missing boolean \"ok\"");
  if (!ok->get<bool>()) {
    OVL_RETURN_IF_ERROR(OnlyKeys(j, {"ok", "error", "seq"}));
    auto error = j.find("error");
    if (error == j.end() || !error->is_string()) return Invalid("missing string \"error\"");
    Failure f{error->get<std::string>(), std::nullopt};
    OVL_ASSIGN_OR_RETURN(f.seq, OptUint(j, "seq", 0, UINT64_MAX));
    return Reply(std::move(f));
  }
  if (j.contains("load")) {
    OVL_RETURN_IF_ERROR(OnlyKeys(j, {"ok", "load"}));
    OVL_ASSIGN_OR_RETURN(throughput::LoadReport report, throughput::LoadReportFromJson(j["load"]));
    return Reply(LoadDone{std::move(report)});
  }
  if (j.contains("ready")) {
    OVL_RETURN_IF_ERROR(OnlyKeys(j, {"ok", "ready"}));
    if (j["ready"] != true) return Invalid("\"ready\" must be true");
    return Reply(Ready{});
  }
  OVL_RETURN_IF_ERROR(OnlyKeys(j, {"ok"}));
  return Reply(Ack{});
}

json ReplyToJson(const Ack&) {
  return {{"ok", true}};
}
json ReplyToJson(const Failure& r) {
  json j = {{"ok", false}, {"error", r.error}};
  if (r.seq) j["seq"] = *r.seq;
  return j;
}
json ReplyToJson(const Ready&) {
  return {{"ok", true}, {"ready", true}};
}
json ReplyToJson(const LoadDone& r) {
  return {{"ok", true}, {"load", throughput::ToJson(r.report)}};
}
json ReplyToJson(const OpDone& r) {
  return {{"seq", r.seq}, {"result", ops::ResultToJson(r.result, /*with_data=*/true)}};
}

}  // namespace

std::string_view ModeName(Mode mode) {
  return mode == Mode::kLibnfs ? "libnfs" : "syscalls";
}

Mode ModeOf(const Access& access) {
  return std::holds_alternative<LibnfsAccess>(access) ? Mode::kLibnfs : Mode::kSyscalls;
}

std::string_view CmdOf(const Request& request) {
  return std::visit([](const auto& r) { return r.kCmd; }, request);
}

std::chrono::milliseconds ReplyTimeout(const Request& request,
                                       std::chrono::milliseconds op_timeout) {
  const ReplyWait wait = std::visit([](const auto& r) { return r.kReplyWait; }, request);
  return wait == ReplyWait::kLoad ? kLoadReplyTimeout : op_timeout;
}

Reconnect ReconnectTo(const Connect& connect) {
  AccessFields f;
  f.mode = ModeOf(connect.access);
  if (const auto* s = std::get_if<SyscallsAccess>(&connect.access)) {
    f.root = s->root;
    return Reconnect{std::move(f)};
  }
  const auto& l = std::get<LibnfsAccess>(connect.access);
  f.host = l.host;
  f.nfs_port = l.nfs_port;
  f.mount_port = l.mount_port;
  f.export_path = l.export_path;
  f.uid = l.uid;
  f.gid = l.gid;
  f.timeout = l.timeout;
  return Reconnect{std::move(f)};
}

Result<Connect> Apply(const Connect& connect, const AccessFields& fields) {
  AccessFields merged = ReconnectTo(connect).fields;
  if (fields.mode && fields.mode != merged.mode) return Invalid("reconnect cannot change \"mode\"");
  auto over = [](auto& to, const auto& from) {
    if (from) to = from;
  };
  over(merged.host, fields.host);
  over(merged.nfs_port, fields.nfs_port);
  over(merged.mount_port, fields.mount_port);
  over(merged.export_path, fields.export_path);
  over(merged.uid, fields.uid);
  over(merged.gid, fields.gid);
  over(merged.timeout, fields.timeout);
  over(merged.root, fields.root);
  OVL_ASSIGN_OR_RETURN(Access access, Resolve(merged));
  return Connect{std::move(access)};
}

std::string EncodeRequest(const Request& request) {
  return Dump(std::visit(
      [](const auto& r) {
        json j = json::object();
        if constexpr (!std::is_empty_v<std::decay_t<decltype(r)>>) j = FieldsOf(r);
        j["cmd"] = std::string(r.kCmd);
        return j;
      },
      request));
}

Result<Request> DecodeRequest(std::string_view line, std::optional<uint64_t>* op_seq) {
  try {
    return DecodeObject(json::parse(line), op_seq);
  } catch (const std::exception& e) {
    // The JSON edge: a request that is no JSON is the runner's bug, told back to it.
    return Invalid(std::string("malformed request: ") + e.what());
  }
}

std::string EncodeReply(const Reply& reply) {
  return Dump(std::visit([](const auto& r) { return ReplyToJson(r); }, reply));
}

Result<Reply> DecodeReply(std::string_view line) {
  Result<Reply> reply = [&]() -> Result<Reply> {
    try {
      return DecodeReplyObject(json::parse(line));
    } catch (const std::exception& e) {
      return Invalid(std::string("not JSON: ") + e.what());
    }
  }();
  if (reply.ok()) return reply;
  return Status::Error(EPROTO, "bad reply: " + reply.status().message());
}

}  // namespace ovl::agent::protocol
