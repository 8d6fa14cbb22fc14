// The verdict of a test case, LLVM lit's result kinds: one type from the model's judgement to
// results.json and the reports. Pure: names and order only.
//
// The model (model.h) decides only PASS, FAIL and UNRESOLVED; the runner (runner/verdict.h)
// turns a model FAIL into XFAIL or a PASS into XPASS given what the topology and the baselines
// expected, and marks cases that cannot run here UNSUPPORTED.
#pragma once

#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace ovl::model {

enum class Verdict {
  kPass,         // every MUST held
  kFail,         // a MUST was violated and that was not expected
  kXFail,        // a MUST was violated, as expected (negative control, or listed in a baseline)
  kXPass,        // expected to fail, but passed
  kUnsupported,  // cannot run here; the reason says why
  kUnresolved,   // infrastructure broke or the model could not decide; never counted as a pass
};

// Every verdict, worst first (the order of the verdict tables and report badges).
inline constexpr Verdict kVerdictsBySeverity[] = {Verdict::kFail,       Verdict::kXPass,
                                                  Verdict::kUnresolved, Verdict::kXFail,
                                                  Verdict::kPass,       Verdict::kUnsupported};
inline constexpr int kVerdictCount = static_cast<int>(std::size(kVerdictsBySeverity));

// "PASS", "FAIL", "XFAIL", "XPASS", "UNSUPPORTED", "UNRESOLVED" (the names in results.json).
std::string VerdictName(Verdict v);
// The verdict VerdictName gives `name`; nullopt for any other string.
std::optional<Verdict> VerdictFromName(std::string_view name);
// The position of `v` in kVerdictsBySeverity: lower is worse.
int VerdictSeverity(Verdict v);

// A case's line in a verdict matrix cell (scenario x server): its fault, and the NFS version of
// its kernel mounts unless 3 ("crash v4.2", "v4.2"; "" for neither), so that the versions of one
// scenario on one server stay apart.
std::string MatrixLine(std::string_view fault, std::string_view nfs_version);

}  // namespace ovl::model
