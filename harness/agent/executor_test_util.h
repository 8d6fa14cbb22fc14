// Test helpers shared by the executor and agent tests: op builders, the small tree every test
// starts from, requests to an in-process Agent, and one walk through every operation kind whose
// expectations hold on every access path (libnfs to ovlnfsd, syscalls on a plain dir and on
// kernel overlayfs).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "agent/agent.h"
#include "agent/executor.h"
#include "base/status.h"
#include "ops/ops.h"
#include "support/scratch_dir.h"

namespace ovl::agent::testutil {

// The tree: file "a" holding "hello", dir "d" with file "x" holding "xx".
inline constexpr char kFileA[] = "hello";
Status MakeTree(const std::string& dir);

// A fixture whose `dir_` is a fresh scratch dir (named after `prefix`) holding the MakeTree
// tree; SetUp fails the test when it cannot be made.
class TreeDirTest : public ::testing::Test {
 protected:
  explicit TreeDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override;

  testsupport::ScratchDir dir_;

 private:
  std::string prefix_;
};

// The executor (or other object) `r` holds, or nullptr after a failed expectation naming the
// error.
template <typename T>
std::unique_ptr<T> ValueOrNull(Result<std::unique_ptr<T>> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// Passes one request line to `agent` in process and returns its parsed response.
nlohmann::json AgentRequest(Agent& agent, const std::string& line);
// Sends `op` through `agent` and returns the response's result, expecting the response to echo
// op.seq; a response without a well-formed result fails the test and gives an empty result.
ops::Result AgentOp(Agent& agent, const ops::Op& op);

ops::Target Path(std::string path);
ops::Target Var(std::string var);
ops::Target Raw(std::string bytes);
// An op of `kind` on `target` with `name`; seq counts up from 1 across calls.
ops::Op MakeOp(ops::Kind kind, ops::Target target, std::string name = "");

// Runs each ops::Kind at least once on a fresh MakeTree() tree, checking results with gtest
// expectations, and leaves the tree as it found it apart from "a" (rewritten, same content,
// mode 0600) and "d/x" (removed). Includes a held handle of a removed file turning STALE, a
// malformed raw handle (BADHANDLE), an unset variable (NOVAR) and paged kReaddir with resume.
void ExpectEveryKind(Executor& executor);

}  // namespace ovl::agent::testutil
