#include "report/explore_html.h"

#include <sstream>

#include "base/markup.h"
#include "report/html.h"
#include "report/run_data.h"

namespace ovl::report {
namespace {

using nlohmann::json;

std::string Text(const json& j, const char* key) {
  return EscapeMarkup(FieldText(j, key));
}

std::string Secs(const json& j, const char* key) {
  std::ostringstream s;
  s.precision(3);
  s << FieldNumber(j, key) << " s";
  return s.str();
}

void Shrunk(const json& shrunk, std::ostringstream& h) {
  if (shrunk.empty()) {
    h << "<p>No generated case failed.</p>\n";
    return;
  }
  h << "<table><tr><th>server</th><th>rule</th><th>found in</th><th>time to find</th><th>steps"
       "</th><th>time to shrink</th><th>replay</th></tr>\n";
  for (const json& s : shrunk) {
    const bool early = s.value("stopped_early", false);
    h << "<tr><td>" << Text(s, "server") << " (" << Text(s, "variant") << ")</td><td>"
      << Text(s, "rule") << "</td><td><code>" << Text(s, "case") << "</code> (case "
      << Text(s, "generated_before") << ")</td><td class=\"num\">" << Secs(s, "found_after_seconds")
      << "</td><td class=\"num\">" << Text(s, "steps_before") << " &rarr; "
      << Text(s, "steps_after") << "</td><td class=\"num\">" << Secs(s, "shrink_seconds") << " ("
      << Text(s, "candidates") << " candidates" << (early ? ", stopped early" : "")
      << ")</td><td><span class=\"badge " << VerdictClass(FieldText(s, "replay_verdict")) << "\">"
      << Text(s, "replay_verdict") << "</span> " << Text(s, "replay_rule") << "</td></tr>\n";
  }
  h << "</table>\n";
  for (const json& s : shrunk) {
    h << "<details><summary><code>" << Text(s, "file") << "</code>: " << Text(s, "server") << ", "
      << Text(s, "rule") << "</summary>\n<p>" << Text(s, "finding") << "</p>\n<pre>"
      << Text(s, "scenario") << "</pre>\n<p>Replay: <code>" << Text(s, "replay")
      << "</code></p></details>\n";
  }
}

void Disagreements(const json& list, std::ostringstream& h) {
  h << "<h3>Where the servers answered differently</h3>\n";
  if (list.empty()) {
    h << "<p>Every server answered every step of the generated cases alike.</p>\n";
    return;
  }
  h << "<p class=\"note\">Steps of one generated case on which the servers' answers differ: "
       "where the model allows several outcomes (MAY), this is the only place the difference "
       "shows; where it does not, the case also failed. At most 200 are kept.</p>\n";
  h << "<table><tr><th>case</th><th>step</th><th>operation</th><th>answers</th></tr>\n";
  for (const json& d : list) {
    const json by_server = d.value("answers", json::object());  // items() must not outlive it
    std::string answers;
    for (const auto& [server, a] : by_server.items()) {
      answers +=
          (answers.empty() ? "" : "; ") + server + ": " + FieldText(by_server, server.c_str());
    }
    h << "<tr><td><code>" << Text(d, "scenario") << "</code></td><td class=\"num\">"
      << Text(d, "step") << "</td><td><code>" << Text(d, "op") << "</code></td><td>"
      << EscapeMarkup(answers) << "</td></tr>\n";
  }
  h << "</table>\n";
}

}  // namespace

std::string ExploreHtml(const json& results) {
  const json e = results.value("explore", json());
  if (!e.is_object()) return "";
  std::ostringstream h;
  h << "<h2 id=\"explore\">Generated cases</h2>\n<p>" << Text(e, "generated")
    << " generated cases (seed " << Text(e, "seed") << ") ran in " << Secs(e, "generating_seconds")
    << " of a budget of " << Secs(e, "budget_seconds")
    << " on every server explored; the first failure of each server and rule was shrunk, "
       "each candidate run again on that server (docs/explore.md).</p>\n";
  Shrunk(e.value("shrunk", json::array()), h);
  Disagreements(e.value("disagreements", json::array()), h);
  return h.str();
}

}  // namespace ovl::report
