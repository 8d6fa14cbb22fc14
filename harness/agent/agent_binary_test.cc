// The real harness-agent binary driven through pipes, as the runner drives it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/executor_test_util.h"
#include "base/fd.h"
#include "support/scratch_dir.h"

extern char** environ;

namespace ovl::agent {
namespace {

using nlohmann::json;

// harness-agent as a child with its stdin and stdout on pipes; killed and reaped at the end.
class AgentProcess {
 public:
  AgentProcess() {
    // The agent must not die of SIGPIPE from us, nor we of it.
    signal(SIGPIPE, SIG_IGN);
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    char* argv[] = {const_cast<char*>(HARNESS_AGENT_PATH), nullptr};
    if (posix_spawn(&pid_, HARNESS_AGENT_PATH, &actions, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    to_ = Fd(in[1]);
    from_ = Fd(out[0]);
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const { return pid_ > 0; }

  bool Write(const std::string& bytes) {
    return ::write(to_.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  void CloseInput() { to_.Reset(); }

  // The next response line, or "" when none comes within 10 s or the pipe closed.
  std::string ReadLine() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd pfd{from_.get(), POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = read(from_.get(), chunk, sizeof chunk);
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  json Request(const std::string& line) {
    if (!Write(line + "\n")) return json();
    std::string response = ReadLine();
    return json::parse(response, nullptr, /*allow_exceptions=*/false);
  }

  // The exit code once the child exits within 10 s; -1 otherwise.
  int Wait() {
    for (int i = 0; i < 1000; ++i) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(10000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  Fd to_;
  Fd from_;
  std::string buffer_;
};

TEST(AgentBinaryTest, MalformedLinesGetErrorsThenOpsWork) {
  Result<testsupport::ScratchDir> dir = testsupport::ScratchDir::Create("agent-binary");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(testutil::MakeTree(dir->path()).ok());
  AgentProcess agent;
  ASSERT_TRUE(agent.started());

  for (const char* line : {"", "{", "null", "\"op\"",
                           "{\"cmd\":\"op\",\"op\":{\"seq\":1,\"kind\":\"read\","
                           "\"target\":{\"raw\":\"zz\"}}}",
                           "{\"cmd\":\"connect\",\"mode\":\"libnfs\",\"nfs_port\":1e9}",
                           "{\"cmd\":\"bad\xff\xfe\"}", "{\"cmd\":\"quit\",\"now\":true}"}) {
    json r = agent.Request(line);
    ASSERT_TRUE(r.is_object()) << "no response to: " << line;
    EXPECT_EQ(r["ok"], false) << line << " -> " << r.dump();
  }

  json connect = {{"cmd", "connect"}, {"mode", "syscalls"}, {"root", dir->path()}};
  ASSERT_EQ(agent.Request(connect.dump()), json({{"ok", true}}));
  ops::Op lookup = testutil::MakeOp(ops::Kind::kLookup, testutil::Path(""), "a");
  lookup.save = "A";
  json r = agent.Request(json{{"cmd", "op"}, {"op", lookup}}.dump());
  EXPECT_EQ(r["seq"], lookup.seq);
  EXPECT_EQ(r["result"]["outcome"], "ok");
  ops::Op read = testutil::MakeOp(ops::Kind::kRead, testutil::Var("A"));
  read.count = 10;
  r = agent.Request(json{{"cmd", "op"}, {"op", read}}.dump());
  Result<ops::Result> result = ops::ResultFromJson(r["result"]);
  ASSERT_TRUE(result.ok()) << r.dump();
  EXPECT_EQ(result->data, testutil::kFileA);

  EXPECT_EQ(agent.Request(R"({"cmd":"quit"})"), json({{"ok", true}}));
  EXPECT_EQ(agent.Wait(), 0);
}

TEST(AgentBinaryTest, ExitsAtEndOfInput) {
  AgentProcess agent;
  ASSERT_TRUE(agent.started());
  EXPECT_EQ(agent.Request(R"({"cmd":"forget"})"), json({{"ok", true}}));
  agent.CloseInput();
  EXPECT_EQ(agent.Wait(), 0);
}

}  // namespace
}  // namespace ovl::agent
