// Test fixture for the union layer: lower/upper/work dirs in a temp dir, helpers to populate the
// lower layers and to walk the union. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "base/temp_dir_for_test.h"
#include "union/union_fs.h"

namespace ovl {

class UnionTest : public ::testing::Test {
 protected:
  explicit UnionTest(int lowers = 2) {
    for (int i = 0; i < lowers; ++i) {
      lowers_.push_back(tmp_.path() + "/lower" + std::to_string(i));
      mkdir(lowers_.back().c_str(), 0755);
    }
    upper_ = tmp_.path() + "/upper";
    work_ = tmp_.path() + "/work";
    mkdir(upper_.c_str(), 0755);
    mkdir(work_.c_str(), 0755);
  }

  // Writes `data` to lower layer `layer` at relative `path`, creating parent dirs.
  void Lower(int layer, const std::string& path, const std::string& data) {
    MakeParents(lowers_[layer] + "/" + path);
    std::ofstream(lowers_[layer] + "/" + path, std::ios::binary) << data;
  }
  void LowerDir(int layer, const std::string& path) {
    MakeParents(lowers_[layer] + "/" + path + "/x");
  }
  void LowerLink(int layer, const std::string& existing, const std::string& path) {
    MakeParents(lowers_[layer] + "/" + path);
    ASSERT_EQ(
        0, link((lowers_[layer] + "/" + existing).c_str(), (lowers_[layer] + "/" + path).c_str()));
  }
  static std::string Slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  UnionOptions Options() const {
    UnionOptions o;
    o.lower_dirs = lowers_;
    o.upper_dir = upper_;
    o.work_dir = work_;
    return o;
  }
  // (Re)opens the union: a restart as far as the union is concerned.
  void Open(UnionOptions opts) {
    fs_.reset();
    auto u = UnionFs::Open(opts);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    fs_ = std::move(*u);
  }
  void Open() { Open(Options()); }

  // Evict, then restart: the two ways a handle loses every in-memory trace.
  template <typename Check>
  void AfterEviction(Check check) {
    fs_->DropCaches();
    check("after eviction");
    Open();
    check("after restart");
  }

  Node Root() { return *fs_->Root(); }
  // Looks up a slash-separated path from the root.
  Result<Node> Walk(const std::string& path) {
    Node cur = Root();
    size_t start = 0;
    while (start < path.size()) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      auto next = fs_->Lookup(cur, path.substr(start, slash - start));
      if (!next.ok()) return next.status();
      cur = *next;
      start = slash + 1;
    }
    return cur;
  }
  Node MustWalk(const std::string& path) {
    auto n = Walk(path);
    EXPECT_TRUE(n.ok()) << path << ": " << n.status().ToString();
    return n.ok() ? *n : Node{};
  }
  std::string ReadAll(const Node& n) {
    auto r = fs_->Read(n, 0, 1 << 20);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->data : "";
  }
  Status WriteAll(const Node& n, const std::string& data) {
    auto w = fs_->Write(n, 0, data, StableHow::kFileSync);
    return w.ok() ? Status::Ok() : w.status();
  }
  std::vector<std::string> Names(const Node& dir) {
    std::vector<std::string> out;
    uint64_t cookie = 0;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = fs_->ReadDir(dir, cookie, 64, false);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const auto& e : page->entries) {
        out.push_back(e.name);
        cookie = e.cookie;
      }
      if (page->eof) break;
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // The whole union as path -> content ("<dir>" for directories, "-> target" for symlinks,
  // "<special>" for FIFOs, sockets and devices).
  std::map<std::string, std::string> Tree(const Node& dir, const std::string& prefix = "") {
    std::map<std::string, std::string> out;
    for (const auto& name : Names(dir)) {
      Node n = *fs_->Lookup(dir, name);
      std::string p = prefix.empty() ? name : prefix + "/" + name;
      if (n.type == FileType::kDir) {
        out[p] = "<dir>";
        out.merge(Tree(n, p));
      } else if (n.type == FileType::kLnk) {
        out[p] = "-> " + *fs_->ReadLink(n);
      } else if (n.type != FileType::kReg) {
        out[p] = "<special>";
      } else {
        out[p] = ReadAll(n);
      }
    }
    return out;
  }

  static void MakeParents(const std::string& file) {
    for (size_t i = 1; i < file.size(); ++i) {
      if (file[i] == '/') mkdir(file.substr(0, i).c_str(), 0755);
    }
  }

  TempDir tmp_;
  std::vector<std::string> lowers_;
  std::string upper_, work_;
  std::unique_ptr<UnionFs> fs_;
  Cred root_cred_{};
};

inline bool IsStale(const Status& s) {
  return s.code() == ESTALE;
}

}  // namespace ovl
