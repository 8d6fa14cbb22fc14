#include "runner/scenario_phase.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ovl::runner {
namespace {

using ::testing::ElementsAre;

plan::Case MakeCase(const std::string& server, topology::Backend backend,
                    std::vector<std::string> clients) {
  plan::Case c;
  c.id = server + "/" + std::to_string(clients.size());
  c.server = server;
  c.backend = backend;
  c.clients = std::move(clients);
  return c;
}

constexpr auto kVm = topology::Backend::kLibvirt;
constexpr auto kLocal = topology::Backend::kLocal;

TEST(CaseLanesTest, VmServersWithTheirOwnClientsRunSideBySide) {
  plan::Plan p;
  p.cases = {MakeCase("knfsd", kVm, {"k-1"}), MakeCase("ref", kVm, {"r-1"}),
             MakeCase("knfsd", kVm, {"k-1", "k-2"}), MakeCase("ref", kVm, {"r-2"})};
  EXPECT_THAT(CaseLanes(p), ElementsAre(ElementsAre(0, 2), ElementsAre(1, 3)));
}

TEST(CaseLanesTest, AClientSharedByTwoServersJoinsTheirLanes) {
  plan::Plan p;
  p.cases = {MakeCase("knfsd", kVm, {"kclient"}), MakeCase("ref", kVm, {"kclient"}),
             MakeCase("other", kVm, {"o-1"})};
  EXPECT_THAT(CaseLanes(p), ElementsAre(ElementsAre(0, 1), ElementsAre(2)));
}

TEST(CaseLanesTest, LocalServersShareOneLane) {
  plan::Plan p;
  p.cases = {MakeCase("a", kLocal, {"c1"}), MakeCase("vm", kVm, {"v-1"}),
             MakeCase("b", kLocal, {"c2"}), MakeCase("a", kLocal, {})};
  EXPECT_THAT(CaseLanes(p), ElementsAre(ElementsAre(0, 2, 3), ElementsAre(1)));
}

}  // namespace
}  // namespace ovl::runner
