#include "workload/baseline.h"

#include <algorithm>
#include <sstream>

namespace ovl::workload {

topology::Checked<std::vector<BaselineEntry>> ParseBaselineFile(std::string_view text,
                                                                const std::string& file,
                                                                const std::string& variant) {
  std::vector<BaselineEntry> out;
  topology::Diagnostics errors;
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    // Column: 1-based, of the offending text.
    auto bad = [&](size_t at, const std::string& why) {
      errors.push_back({file, n, static_cast<int>(at) + 1, "", why});
    };
    const size_t colon = line.find(':');
    if (colon == std::string::npos) {
      bad(start,
          "expected '<scenario>[@fault] [kernel=X] [server=S] [rule=R] [sometimes]: reason'");
      continue;
    }
    BaselineEntry e;
    e.variant = variant;
    e.line = n;
    e.reason = line.substr(colon + 1);
    e.reason.erase(0, e.reason.find_first_not_of(" \t"));
    if (e.reason.empty()) bad(colon, "a known failure needs a reason");
    const std::string head = line.substr(0, colon);
    const size_t id_end = std::min(head.find_first_of(" \t", start), head.size());
    const std::string id = head.substr(start, id_end - start);
    for (size_t q = head.find_first_not_of(" \t", id_end); q != std::string::npos;
         q = head.find_first_not_of(" \t", q)) {
      const size_t end = std::min(head.find_first_of(" \t", q), head.size());
      const std::string word = head.substr(q, end - q);
      if (word.rfind("kernel=", 0) == 0) {
        e.kernel = word.substr(7);
      } else if (word.rfind("server=", 0) == 0) {
        std::istringstream servers(word.substr(7));
        std::string s;
        while (std::getline(servers, s, ',')) e.servers.push_back(s);
      } else if (word.rfind("rule=", 0) == 0) {
        std::istringstream rules(word.substr(5));
        std::string r;
        while (std::getline(rules, r, ',')) e.rules.push_back(r);
      } else if (word == "sometimes") {
        e.sometimes = true;
      } else {
        bad(q, "unknown qualifier '" + word + "'");
      }
      q = end;
    }
    const size_t at = id.find('@');
    e.scenario = id.substr(0, at);
    if (at != std::string::npos) e.fault = id.substr(at + 1);
    if (e.scenario.empty()) bad(start, "missing scenario");
    e.column = static_cast<int>(start) + 1;
    out.push_back(std::move(e));
  }
  if (!errors.empty()) return errors;
  return out;
}

std::optional<BaselineEntry> Baselines::Find(const std::string& variant,
                                             const std::string& scenario, const std::string& fault,
                                             const std::string& kernel,
                                             const std::string& server) const {
  for (const auto& e : entries_) {
    const bool server_ok = e.servers.empty() ||
                           std::find(e.servers.begin(), e.servers.end(), server) != e.servers.end();
    if (e.variant == variant && e.scenario == scenario && (e.fault.empty() || e.fault == fault) &&
        kernel.rfind(e.kernel, 0) == 0 && server_ok) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace ovl::workload
