#include "runner/baseline.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ovl::runner {

ovl::Result<Baselines> Baselines::Load(const std::string& dir) {
  Baselines b;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return b;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      auto bad = [&](const std::string& why) {
        return ovl::Status::Error(EINVAL, file.string() + ":" + std::to_string(n) + ": " + why);
      };
      size_t colon = line.find(':');
      if (colon == std::string::npos)
        return bad("expected '<scenario>[@fault] [kernel=X]: reason'");
      BaselineEntry e;
      e.variant = file.stem().string();
      e.line = n;
      e.reason = line.substr(colon + 1);
      e.reason.erase(0, e.reason.find_first_not_of(" \t"));
      if (e.reason.empty()) return bad("a known failure needs a reason");
      std::string head = line.substr(start, colon - start);
      size_t sp = head.find_first_of(" \t");
      std::string id = head.substr(0, sp);
      std::istringstream quals(sp == std::string::npos ? "" : head.substr(sp));
      std::string q;
      while (quals >> q) {
        if (q.rfind("kernel=", 0) == 0) {
          e.kernel = q.substr(7);
        } else if (q.rfind("rule=", 0) == 0) {
          std::istringstream rules(q.substr(5));
          std::string r;
          while (std::getline(rules, r, ',')) e.rules.push_back(r);
        } else if (q == "sometimes") {
          e.sometimes = true;
        } else {
          return bad("unknown qualifier '" + q + "'");
        }
      }
      size_t at = id.find('@');
      e.scenario = id.substr(0, at);
      if (at != std::string::npos) e.fault = id.substr(at + 1);
      if (e.scenario.empty()) return bad("missing scenario");
      b.entries_.push_back(std::move(e));
    }
  }
  return b;
}

std::optional<BaselineEntry> Baselines::Find(const std::string& variant,
                                             const std::string& scenario, const std::string& fault,
                                             const std::string& kernel) const {
  for (const auto& e : entries_) {
    if (e.variant == variant && e.scenario == scenario && (e.fault.empty() || e.fault == fault) &&
        kernel.rfind(e.kernel, 0) == 0) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace ovl::runner
