#include "model/verdict.h"

namespace ovl::model {

std::string VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kFail:
      return "FAIL";
    case Verdict::kXFail:
      return "XFAIL";
    case Verdict::kXPass:
      return "XPASS";
    case Verdict::kUnsupported:
      return "UNSUPPORTED";
    case Verdict::kUnresolved:
      return "UNRESOLVED";
  }
  return "UNRESOLVED";
}

std::optional<Verdict> VerdictFromName(std::string_view name) {
  for (Verdict v : kVerdictsBySeverity) {
    if (VerdictName(v) == name) return v;
  }
  return std::nullopt;
}

int VerdictSeverity(Verdict v) {
  for (int i = 0; i < kVerdictCount; ++i) {
    if (kVerdictsBySeverity[i] == v) return i;
  }
  return kVerdictCount;
}

std::string MatrixLine(std::string_view fault, std::string_view nfs_version) {
  std::string out(fault);
  if (!nfs_version.empty() && nfs_version != "3") {
    out += (out.empty() ? "v" : " v") + std::string(nfs_version);
  }
  return out;
}

}  // namespace ovl::model
