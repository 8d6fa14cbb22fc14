// Test helpers shared by the executor and agent tests: op builders, the small tree every test
// starts from, and one walk through every operation kind whose expectations hold on every
// access path (libnfs to ovlnfsd, syscalls on a plain dir and on kernel overlayfs).
#pragma once

#include <string>

#include "agent/executor.h"
#include "base/status.h"
#include "ops/ops.h"

namespace ovl::agent::testutil {

// The tree: file "a" holding "hello", dir "d" with file "x" holding "xx".
inline constexpr char kFileA[] = "hello";
Status MakeTree(const std::string& dir);

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
