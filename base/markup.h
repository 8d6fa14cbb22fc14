// Escaping text for XML and HTML (JUnit reports, libvirt domain XML, report.html).
#pragma once

#include <string>
#include <string_view>

namespace ovl {

// `text` with & < > " ' escaped, safe in element content and in quoted attributes of both XML
// and HTML. Control characters other than newline and tab, which XML 1.0 forbids even escaped,
// become '?'.
std::string EscapeMarkup(std::string_view text);

}  // namespace ovl
