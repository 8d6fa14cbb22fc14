// libFuzzer target: the scenario parser of harness/scenario (ParseScenario, scenario.h) on
// arbitrary YAML. A scenario either parses or comes back with diagnostics that say why.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ovl::topology::Checked<ovl::scenario::Scenario> s =
      ovl::scenario::ParseScenario(text, "fuzz.yaml", "fuzz");
  if (!s.ok() && s.errors().empty()) {
    std::fprintf(stderr, "scenario_fuzz: a scenario refused without a message\n");
    abort();
  }
  return 0;
}
