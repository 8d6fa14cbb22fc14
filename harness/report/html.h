// Escaping for report.html: every string from a run (ids, explanations, findings, logs, manifest
// values) reaches the page through one of these.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/markup.h"

namespace ovl::report {

// JavaScript source safe inside <script>...</script>: "</" becomes "<\/", which means the same
// in JS strings, regexes and comments but can never close the element.
std::string ScriptSafe(const std::string& js);

// `j` serialized for <script type="application/json">: '<', '>' and '&' become \u escapes, so
// no string in it can close the element; JSON.parse reads it back unchanged. Invalid UTF-8 is
// replaced rather than failing the page.
std::string JsonForScript(const nlohmann::json& j);

// The verdict's CSS class ("v-PASS"...), "v-other" for anything that is not a known verdict (so
// no string from results.json ever becomes markup).
std::string VerdictClass(const std::string& verdict);

}  // namespace ovl::report
