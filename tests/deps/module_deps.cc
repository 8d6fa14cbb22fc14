#include "module_deps.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

namespace ovl::deps {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "base", "reference_server/<m>" or "harness/<m>" for a path relative to the root; "" outside.
std::string ModuleOf(const fs::path& rel) {
  auto it = rel.begin();
  if (it == rel.end()) return "";
  const std::string top = it->string();
  if (top == "base") return "base";
  if (top == "tests") return "tests";
  if (top != "reference_server" && top != "harness") return "";
  if (++it == rel.end()) return "";
  const fs::path second = *it;
  // A file directly in reference_server/ or harness/ (none today) belongs to no module.
  if (++it == rel.end()) return "";
  return top + "/" + second.string();
}

// The module an include names, or "" when it is not a file of the tree (a library's header).
std::string ModuleOfInclude(const fs::path& root, const std::string& inc) {
  for (const char* dir : {"", "reference_server", "harness", "tests"}) {
    const fs::path rel = fs::path(dir) / inc;
    std::error_code ec;
    if (fs::is_regular_file(root / rel, ec)) return ModuleOf(rel);
  }
  return "";
}

bool IsTestFile(const fs::path& file) {
  const std::string name = file.filename().string();
  return name.find("_test") != std::string::npos || name.find("for_test") != std::string::npos;
}

}  // namespace

AllowList ParseAllowList(std::string_view text) {
  AllowList allow;
  std::istringstream in{std::string(text)};
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    if (Words(line).empty()) continue;
    const size_t colon = line.find(':');
    std::vector<std::string> head = Words(line.substr(0, colon));
    if (colon == std::string::npos || head.empty() || head.size() > 2 ||
        (head.size() == 2 && head[1] != "[test]")) {
      allow.errors.push_back("modules.txt:" + std::to_string(n) + ": expected '<module>: <deps>'");
      continue;
    }
    auto& into = head.size() == 2 ? allow.test_deps[head[0]] : allow.deps[head[0]];
    for (const std::string& d : Words(line.substr(colon + 1))) into.insert(d);
  }
  return allow;
}

std::vector<std::string> FindCycles(const AllowList& allow) {
  std::vector<std::string> cycles;
  std::map<std::string, int> state;  // 0 new, 1 on the path, 2 done
  std::vector<std::string> path;
  std::function<void(const std::string&)> visit = [&](const std::string& m) {
    state[m] = 1;
    path.push_back(m);
    auto it = allow.deps.find(m);
    if (it != allow.deps.end()) {
      for (const std::string& d : it->second) {
        if (state[d] == 1) {
          std::string text;
          for (auto p = std::find(path.begin(), path.end(), d); p != path.end(); ++p) {
            text += *p + " -> ";
          }
          cycles.push_back(text + d);
        } else if (state[d] == 0) {
          visit(d);
        }
      }
    }
    path.pop_back();
    state[m] = 2;
  };
  for (const auto& [m, deps] : allow.deps) {
    if (state[m] == 0) visit(m);
  }
  return cycles;
}

std::vector<std::string> CheckTree(const fs::path& root, const AllowList& allow) {
  std::vector<std::string> problems;
  const std::regex include_re(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<fs::path> files;
  for (const char* top : {"base", "reference_server", "harness"}) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root / top, ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (it->is_regular_file() && (ext == ".h" || ext == ".cc")) files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const fs::path rel = fs::relative(file, root);
    const std::string module = ModuleOf(rel);
    if (module.empty()) continue;
    auto allowed = allow.deps.find(module);
    if (allowed == allow.deps.end()) {
      problems.push_back(rel.string() + ": module " + module + " is not in modules.txt");
      continue;
    }
    const bool test = IsTestFile(rel);
    auto extra = allow.test_deps.find(module);
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, include_re)) continue;
      const std::string dep = ModuleOfInclude(root, m[1]);
      if (dep.empty() || dep == module || allowed->second.count(dep)) continue;
      if (test &&
          (dep == "tests" || (extra != allow.test_deps.end() && extra->second.count(dep)))) {
        continue;
      }
      problems.push_back(rel.string() + ": includes \"" + m[1].str() + "\" (module " + dep +
                         "), not allowed for module " + module + (test ? " (tests)" : ""));
    }
  }
  return problems;
}

}  // namespace ovl::deps
