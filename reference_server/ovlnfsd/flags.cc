#include "ovlnfsd/flags.h"

#include <arpa/inet.h>

#include <charconv>
#include <optional>
#include <string_view>

namespace ovl::ovlnfsd {

const char kUsage[] =
    "usage: ovlnfsd --lower DIR[:DIR...] [--upper DIR] --work DIR --listen ADDR:PORT\n"
    "               [--export-path /PATH] [--allow CIDR]... [--read-only]\n"
    "               [--squash root|all|none] [--rpcbind] [--handles persistent|volatile]\n"
    "               [--no-index] [--threads N] [--max-connections N]\n"
    "               [--max-per-address N] [--idle-timeout SECONDS] [--plant NAME]...\n"
    "               [--lease-seconds N] [--grace-seconds N]\n";

namespace {

Status Usage(std::string_view flag, const std::string& what) {
  return Status::Error(EINVAL, std::string(flag) + ": " + what);
}

Status Expected(std::string_view flag, std::string_view expected, std::string_view got) {
  return Usage(flag, "expected " + std::string(expected) + ", got '" + std::string(got) + "'");
}

template <typename Int>
std::optional<Int> ParseInt(std::string_view s) {
  Int v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Parses an integer from `low` to `high` into `out`; else "expected WHAT from LOW to HIGH".
Status ParseRange(std::string_view flag, std::string_view value, int low, int high,
                  const std::string& what, int* out) {
  std::optional<int> n = ParseInt<int>(value);
  if (!n || *n < low || *n > high) {
    return Expected(flag, what + " from " + std::to_string(low) + " to " + std::to_string(high),
                    value);
  }
  *out = *n;
  return Status::Ok();
}

Status ParseListen(std::string_view value, Flags* flags) {
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return Expected("--listen", "ADDR:PORT", value);
  std::string addr(value.substr(0, colon));
  in_addr a{};
  std::optional<uint16_t> port = ParseInt<uint16_t>(value.substr(colon + 1));
  if (inet_pton(AF_INET, addr.c_str(), &a) != 1 || !port) {
    return Expected("--listen", "ADDR:PORT", value);
  }
  flags->listen_address = addr;
  flags->listen_port = *port;
  return Status::Ok();
}

Status ParseLower(std::string_view value, Flags* flags) {
  flags->lower_dirs.clear();
  for (size_t start = 0;;) {
    size_t colon = value.find(':', start);
    std::string_view dir = value.substr(start, colon - start);
    if (dir.empty()) return Expected("--lower", "DIR[:DIR...]", value);
    flags->lower_dirs.emplace_back(dir);
    if (colon == std::string_view::npos) return Status::Ok();
    start = colon + 1;
  }
}

// Applies one option that takes a value.
Status ApplyValue(std::string_view flag, std::string_view value, bool* allow_seen, Flags* flags) {
  if (flag == "--lower") return ParseLower(value, flags);
  if (flag == "--upper" || flag == "--work") {
    if (value.empty()) return Expected(flag, "DIR", value);
    (flag == "--upper" ? flags->upper_dir : flags->work_dir) = value;
    return Status::Ok();
  }
  if (flag == "--listen") return ParseListen(value, flags);
  if (flag == "--export-path") {
    if (value.empty() || value[0] != '/') return Expected(flag, "an absolute path", value);
    flags->export_options.path = value;
    return Status::Ok();
  }
  if (flag == "--allow") {
    Result<nfs::Cidr> cidr = nfs::Cidr::Parse(value);
    if (!cidr.ok()) return Usage(flag, cidr.status().message());
    // The first --allow replaces the default list; later ones add to it.
    if (!*allow_seen) flags->export_options.allow.clear();
    *allow_seen = true;
    flags->export_options.allow.push_back(*cidr);
    return Status::Ok();
  }
  if (flag == "--squash") {
    Result<nfs::Squash> squash = nfs::ParseSquash(value);
    if (!squash.ok()) return Usage(flag, squash.status().message());
    flags->export_options.squash = *squash;
    return Status::Ok();
  }
  if (flag == "--handles") {
    if (value == "persistent") {
      flags->handle_mode = UnionOptions::HandleMode::kPersistent;
    } else if (value == "volatile") {
      flags->handle_mode = UnionOptions::HandleMode::kVolatile;
    } else {
      return Expected(flag, "persistent|volatile", value);
    }
    return Status::Ok();
  }
  if (flag == "--plant") {
    std::optional<Plant> plant = PlantFromName(value);
    if (!plant) return Expected(flag, "a planted bug (docs/planted-bugs.md)", value);
    flags->plants.Add(*plant);
    return Status::Ok();
  }
  if (flag == "--threads")
    return ParseRange(flag, value, 1, 1024, "a thread count", &flags->threads);
  if (flag == "--max-connections") {
    return ParseRange(flag, value, 1, 1000000, "a connection count", &flags->max_connections);
  }
  if (flag == "--max-per-address") {
    return ParseRange(flag, value, 1, 1000000, "a connection count", &flags->max_per_address);
  }
  if (flag == "--idle-timeout") {
    return ParseRange(flag, value, 1, 86400, "seconds", &flags->idle_timeout_s);
  }
  if (flag == "--lease-seconds") {
    return ParseRange(flag, value, 1, 3600, "seconds", &flags->lease_s);
  }
  if (flag == "--grace-seconds") {
    return ParseRange(flag, value, 0, 3600, "seconds", &flags->grace_s);
  }
  return Usage(flag, "unknown argument");
}

bool TakesValue(std::string_view flag) {
  for (std::string_view f :
       {"--lower", "--upper", "--work", "--listen", "--export-path", "--allow", "--squash",
        "--handles", "--plant", "--threads", "--max-connections", "--max-per-address",
        "--idle-timeout", "--lease-seconds", "--grace-seconds"}) {
    if (flag == f) return true;
  }
  return false;
}

}  // namespace

Result<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  bool allow_seen = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      flags.help = true;
      return flags;
    }
    if (arg == "--read-only") {
      flags.export_options.read_only = true;
    } else if (arg == "--rpcbind") {
      flags.rpcbind = true;
    } else if (arg == "--no-index") {
      flags.use_index = false;
    } else if (size_t eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
      std::string_view flag = arg.substr(0, eq);
      if (!TakesValue(flag)) return Usage(flag, "unknown argument");
      OVL_RETURN_IF_ERROR(ApplyValue(flag, arg.substr(eq + 1), &allow_seen, &flags));
    } else if (TakesValue(arg)) {
      if (i + 1 == args.size()) return Usage(arg, "missing value");
      OVL_RETURN_IF_ERROR(ApplyValue(arg, args[++i], &allow_seen, &flags));
    } else {
      return Usage(arg, "unknown argument");
    }
  }
  if (flags.lower_dirs.empty()) return Usage("--lower", "required");
  // Without an upper layer nothing can change: a lower-only export is read-only.
  if (flags.upper_dir.empty()) flags.export_options.read_only = true;
  if (flags.work_dir.empty()) return Usage("--work", "required");
  if (flags.listen_address.empty()) return Usage("--listen", "required");
  return flags;
}

}  // namespace ovl::ovlnfsd
