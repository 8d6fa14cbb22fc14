// libFuzzer target: the scenario loader of harness/scenario (ParseScenario, scenario.h) on
// arbitrary YAML. A scenario either parses or comes back with an error that says why.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ovl::Result<ovl::scenario::Scenario> s = ovl::scenario::ParseScenario(text, "fuzz.yaml");
  if (!s.ok() && s.status().message().empty()) {
    std::fprintf(stderr, "scenario_fuzz: a scenario refused without a message\n");
    abort();
  }
  return 0;
}
