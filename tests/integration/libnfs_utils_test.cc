// Debian's libnfs-utils (nfs-ls, nfs-cat, nfs-cp; libnfs 4.0) against an unchanged ovlnfsd,
// with URLs nfs://127.0.0.1/export?version=3&nfsport=P&mountport=P (both programs share the
// port, so no portmapper is needed). The server runs with its default flags.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "integration/overlay_fixture.h"
#include "support/scratch_dir.h"

namespace ovl::integration {
namespace {

constexpr auto kToolTimeout = std::chrono::seconds(10);

// Bytes no text-mode tool would pass through unchanged: every byte value, NULs, CR LF.
std::string BinaryContent() {
  std::string data;
  for (int round = 0; round < 300; ++round) {
    for (int b = 0; b < 256; ++b) data += static_cast<char>((b + round) & 0xff);
  }
  return data + std::string("\r\n\0end", 6);
}

class LibnfsUtilsTest : public OverlayTest {
 protected:
  void SetUp() override {
    for (const char* tool : {"/usr/bin/nfs-ls", "/usr/bin/nfs-cat", "/usr/bin/nfs-cp"}) {
      if (access(tool, X_OK) != 0) GTEST_SKIP() << tool << " missing (package libnfs-utils)";
    }
    auto scratch = testsupport::ScratchDir::Create("libnfs-utils");
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    local_ = std::move(scratch).value();
    testsupport::ServerOptions options = BaseOptions();
    options.squash.clear();  // the server's defaults throughout
    options.lower_count = 2;
    ASSERT_NO_FATAL_FAILURE(CreateServer(options));
    ASSERT_NO_FATAL_FAILURE(WriteLower("binary", BinaryContent()));
    ASSERT_NO_FATAL_FAILURE(MkdirLower("subdir"));
    WriteLocalFile(server_->lower_dirs()[1] + "/bottom", "from the bottom layer\n");
    // The tools run as root, squashed to nobody: let nobody create at the export root.
    ASSERT_EQ(chmod(server_->upper_dir().c_str(), 0777), 0);
    ASSERT_NO_FATAL_FAILURE(StartAndMount());
  }

  std::string Url(const std::string& path) const {
    const std::string port = std::to_string(server_->port());
    return "nfs://127.0.0.1/export" + path + "?version=3&nfsport=" + port + "&mountport=" + port;
  }

  ToolRun Run(const std::vector<std::string>& argv) {
    Result<ToolRun> run = RunTool(argv, kToolTimeout);
    if (!run.ok()) {
      ADD_FAILURE() << argv[0] << ": " << run.status().ToString();
      return {};
    }
    return *std::move(run);
  }

  testsupport::ScratchDir local_;
};

TEST_F(LibnfsUtilsTest, NfsLsListsTheMergedRoot) {
  ToolRun run = Run({"nfs-ls", Url("")});
  ASSERT_EQ(run.exit_status, 0) << run.output;
  for (const char* name : {"binary", "subdir", "bottom"}) {
    EXPECT_NE(run.output.find(" " + std::string(name) + "\n"), std::string::npos)
        << name << " missing from:\n"
        << run.output;
  }
}

TEST_F(LibnfsUtilsTest, NfsCatPrintsLowerFileBytes) {
  ToolRun run = Run({"nfs-cat", Url("/binary")});
  ASSERT_EQ(run.exit_status, 0);
  EXPECT_TRUE(run.output == BinaryContent()) << "nfs-cat output differs (" << run.output.size()
                                             << " bytes, want " << BinaryContent().size() << ")";
  run = Run({"nfs-cat", Url("/bottom")});
  ASSERT_EQ(run.exit_status, 0) << run.output;
  EXPECT_EQ(run.output, "from the bottom layer\n");
}

TEST_F(LibnfsUtilsTest, NfsCpCopiesInAndOut) {
  const std::string in = local_.path() + "/in";
  WriteLocalFile(in, BinaryContent());
  ToolRun run = Run({"nfs-cp", in, Url("/copied")});
  ASSERT_EQ(run.exit_status, 0) << run.output;
  // Through the union, and on disk in the upper layer only.
  EXPECT_TRUE(ReadAll(Lookup(root_, "copied")) == BinaryContent()) << "copied-in file differs";
  Result<std::string> upper = testsupport::ReadFile(server_->upper_dir() + "/copied");
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  EXPECT_TRUE(*upper == BinaryContent());

  for (const char* name : {"copied", "binary"}) {
    const std::string out = local_.path() + "/out-" + name;
    run = Run({"nfs-cp", Url(std::string("/") + name), out});
    ASSERT_EQ(run.exit_status, 0) << run.output;
    Result<std::string> bytes = testsupport::ReadFile(out);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_TRUE(*bytes == BinaryContent()) << name << " copied out differs";
  }
}

}  // namespace
}  // namespace ovl::integration
