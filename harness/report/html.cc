#include "report/html.h"

#include "model/verdict.h"

namespace ovl::report {

std::string ScriptSafe(const std::string& js) {
  std::string out;
  out.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    out += js[i];
    if (js[i] == '<' && i + 1 < js.size() && js[i + 1] == '/') out += '\\';
  }
  return out;
}

std::string JsonForScript(const nlohmann::json& j) {
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  // Outside strings JSON has none of these characters, so escaping them everywhere is exact.
  for (char c : text) {
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string VerdictClass(const std::string& verdict) {
  return model::VerdictFromName(verdict) ? "v-" + verdict : "v-other";
}

}  // namespace ovl::report
