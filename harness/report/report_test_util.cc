#include "report/report_test_util.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "proc/process.h"

namespace ovl::report::testing {
namespace {

using nlohmann::json;

// Flags known to work headless as root in a container without a display, GPU or network.
const std::vector<std::string> kChromiumFlags = {"--headless",
                                                 "--no-sandbox",
                                                 "--disable-gpu",
                                                 "--disable-quic",
                                                 "--no-first-run",
                                                 "--disable-background-networking",
                                                 "--disable-component-update",
                                                 "--disable-sync",
                                                 "--hide-scrollbars"};

// Runs chromium with `args` and a fresh profile; its stdout goes to `stdout_path`.
Status RunChromium(const std::vector<std::string>& args, const std::string& stdout_path,
                   const std::string& work_dir) {
  std::string profile = work_dir + "/chromium-profile.XXXXXX";
  if (!mkdtemp(profile.data())) return Status::FromErrno("mkdtemp " + profile);
  // sh -c 'exec "$@" >"$0"' OUT chromium ...: stdout to its own file, unquoted nowhere.
  std::vector<std::string> argv = {"sh", "-c", "exec \"$@\" >\"$0\"", stdout_path, "chromium"};
  argv.insert(argv.end(), kChromiumFlags.begin(), kChromiumFlags.end());
  argv.push_back("--user-data-dir=" + profile);
  argv.insert(argv.end(), args.begin(), args.end());
  OVL_ASSIGN_OR_RETURN(auto p, proc::Process::Start({argv, work_dir + "/chromium.log"}));
  auto st = p->Wait(std::chrono::seconds(120));
  if (!st.ok()) return Status::Error(st.status().code(), "chromium: " + st.status().message());
  if (!std::holds_alternative<proc::Exited>(*st) || std::get<proc::Exited>(*st).code != 0) {
    return Status::Error(EIO, "chromium " + proc::ToString(*st) + ":\n" + p->Tail(15));
  }
  return Status::Ok();
}

std::string Url(const std::string& path) {
  return "file://" + std::filesystem::absolute(path).string();
}

}  // namespace

json MakeCase(const std::string& server, const std::string& variant, const std::string& scenario,
              const std::string& fault, const std::string& verdict, const std::string& explanation,
              int repeat) {
  std::string id = server + "/libnfs/" + scenario + (fault.empty() ? "" : "@" + fault);
  if (repeat > 0) id += "#" + std::to_string(repeat);
  return {{"id", id},
          {"server", server},
          {"variant", variant},
          {"scenario", scenario},
          {"fault", fault},
          {"access", "libnfs"},
          {"verdict", verdict},
          {"model_failed", verdict == "FAIL" || verdict == "XFAIL"},
          {"explanation", explanation},
          {"findings", json::array()},
          {"log_tail", ""},
          {"seconds", 0.05},
          {"ops", 12},
          {"seed", 7}};
}

json EmptyResults(const std::string& run_id) {
  return {{"schema_version", 1},
          {"run_id", run_id},
          {"topology", "synthetic"},
          {"seed", 7},
          {"started", "2026-11-25T03:00:00Z"},
          {"seconds", 754.2},
          {"exit_code", 0},
          {"summary", json::object()},
          {"blind_controls", json::array()},
          {"cases", json::array()},
          {"matrix", json::object()},
          {"throughput", {{"phases", json::array()}}}};
}

json FullResults() {
  json r = EmptyResults("20261125T030000Z-synthetic-s7");
  r["exit_code"] = 1;
  r["blind_controls"] = {"blind-ctl"};
  auto& cases = r["cases"];
  for (const char* fault : {"crash", "reboot", "evict"}) {
    cases.push_back(MakeCase("reference", "reference", "rename-parent", fault, "PASS"));
    cases.push_back(MakeCase("volatile", "reference-volatile", "rename-parent", fault, "XFAIL",
                             "MUST handle-changed: seq 6 step 7 client A lookup: expected the "
                             "handle q always had (seed 7)"));
    cases.push_back(MakeCase("blind-ctl", "reference-noindex", "rename-parent", fault, "PASS"));
  }
  json fail = MakeCase("reference", "reference", "copyup-keeps-handle", "crash", "FAIL",
                       "MUST unexpected-error: <script>alert('x')</script> got STALE (seed 7)");
  fail["findings"] = json::array({{{"must", true},
                                   {"rule", "unexpected-error"},
                                   {"step", 5},
                                   {"client", "A"},
                                   {"op", "getattr var=<H>"},
                                   {"expected", "ok"},
                                   {"got", "STALE & <b>bold</b>"},
                                   {"text", "MUST unexpected-error"}},
                                  {{"must", false},
                                   {"rule", "mtime-changed"},
                                   {"step", 6},
                                   {"client", "A"},
                                   {"op", "read"},
                                   {"expected", "same"},
                                   {"got", "later"},
                                   {"text", "MAY mtime-changed"}}});
  fail["log_tail"] = "ovlnfsd: listening on 127.0.0.1:2049\n</pre><img src=x onerror=alert(1)>\n";
  cases.push_back(fail);
  cases.push_back(MakeCase("kernel-overlay", "kernel-overlay", "copyup-keeps-handle", "crash",
                           "XFAIL",
                           "known failure (baselines/kernel-overlay.txt:3: overlayfs bug): MUST "
                           "read-bytes"));
  cases.push_back(MakeCase("reference", "reference", "commit-durability", "crash", "UNSUPPORTED",
                           "a process kill keeps the host page cache"));
  cases.push_back(MakeCase("reference", "reference", "unlink-all", "", "UNRESOLVED",
                           "agent did not start: nfs: connection refused"));
  cases.push_back(MakeCase("kernel-overlay", "kernel-overlay", "unlink-all", "", "XPASS",
                           "listed as a known failure in baselines/kernel-overlay.txt:4 but "
                           "passed: remove that line"));
  cases.push_back(MakeCase("reference", "reference", "seed-unlink-reboot", "evict", "PASS", "", 1));
  cases.push_back(MakeCase("reference", "reference", "seed-unlink-reboot", "evict", "FAIL",
                           "MUST stale-too-early (seed 8)", 2));
  r["throughput"]["phases"] = json::array({{{"name", "scenarios:reference"},
                                            {"ops", 773},
                                            {"bytes", 3403983},
                                            {"seconds", 3.6},
                                            {"ops_per_s", 213.2},
                                            {"mb_per_s", 0.94}},
                                           {{"name", "scenarios:volatile"},
                                            {"ops", 773},
                                            {"bytes", 1193917},
                                            {"seconds", 3.8},
                                            {"ops_per_s", 204.4},
                                            {"mb_per_s", 0.32}},
                                           {{"name", "mixed:reference"},
                                            {"ops", 4000},
                                            {"bytes", 4113708},
                                            {"seconds", 20.2},
                                            {"ops_per_s", 198.2},
                                            {"mb_per_s", 0.2}}});
  json jobs = json::array();
  const std::vector<std::pair<std::string, double>> servers = {{"reference", 1.0},
                                                               {"ganesha", 0.6}};
  for (const auto& [server, f] : servers) {
    for (int rep = 0; rep < 2; ++rep) {
      jobs.push_back(
          {{"job", "metadata-mix"},
           {"server", server},
           {"variant", server},
           {"unit", "ops/s"},
           {"clients", 2},
           {"ops_per_s", 41000 * f + rep * 300},
           {"mb_per_s", 3.1},
           {"p50_us", 210 / f},
           {"p99_us", 1900 / f},
           {"by_op",
            {{"getattr", {{"ops", 900}, {"errors", 0}, {"p50_us", 150}, {"p99_us", 900}}},
             {"readdirplus",
              {{"ops", 20}, {"errors", 0}, {"p50_us", 4000 / f}, {"p99_us", 9000}}}}}});
      jobs.push_back({{"job", "seq-read"},
                      {"server", server},
                      {"variant", server},
                      {"unit", "MB/s"},
                      {"clients", 2},
                      {"ops_per_s", 2100 * f},
                      {"mb_per_s", 1050 * f - rep * 5},
                      {"p50_us", 850 / f},
                      {"p99_us", 4200 / f}});
    }
  }
  jobs.push_back({{"job", "seq-read"},
                  {"server", "physical"},
                  {"variant", "physical"},
                  {"unit", "MB/s"},
                  {"clients", 2},
                  {"ops_per_s", 0},
                  {"mb_per_s", 0},
                  {"p50_us", 0},
                  {"p99_us", 0},
                  {"error", "needs root for <the layers>"}});
  r["throughput"]["jobs"] = jobs;
  json timeline = json::array(), recovery = json::array();
  for (const auto& [server, f] : servers) {
    for (int t = 0; t <= 60; ++t) {
      const bool down = t >= 20 && t < 20 + static_cast<int>(3 / f);
      timeline.push_back({{"server", server},
                          {"job", "metadata-mix@faults"},
                          {"t", t},
                          {"ops_per_s", down ? 0.0 : 40000 * f + (t % 5) * 400}});
    }
    recovery.push_back({{"server", server},
                        {"variant", server},
                        {"job", "metadata-mix@faults"},
                        {"fault", "crash"},
                        {"t", 20},
                        {"fault_seconds", 0.4},
                        {"seconds_to_first_ok", 3 / f}});
  }
  // An eviction nothing recovered from, and a fault that could not be injected.
  recovery.push_back({{"server", "ganesha"},
                      {"variant", "ganesha"},
                      {"job", "metadata-mix@faults"},
                      {"fault", "evict"},
                      {"t", 45},
                      {"fault_seconds", 0.1},
                      {"seconds_to_first_ok", nullptr}});
  recovery.push_back({{"server", "reference"},
                      {"variant", "reference"},
                      {"job", "metadata-mix@faults"},
                      {"fault", "reboot"},
                      {"t", 50},
                      {"fault_seconds", 0},
                      {"seconds_to_first_ok", nullptr},
                      {"error", "SIGTERM: no such process"}});
  r["throughput"]["timeline"] = timeline;
  r["throughput"]["recovery"] = recovery;
  return r;
}

json Manifest() {
  return {{"run_id", "20261125T030000Z-synthetic-s7"},
          {"started", "2026-11-25T03:00:00Z"},
          {"command", "harness run topologies/synthetic.yaml --seed 7"},
          {"topology", {{"file", "topologies/synthetic.yaml"}, {"fnv1a64", "28d8b1603c5a8733"}}},
          {"seed", 7},
          {"host", {{"kernel", "6.1.0-27-amd64"}, {"machine", "x86_64"}, {"nodename", "ci<1>"}}},
          {"versions",
           {{"libvirt", "libvirtd (libvirt) 9.0.0"},
            {"qemu", "QEMU emulator version 7.2.22"},
            {"project_commit", "a0d7a821b5f9044d814580649bbe71ade6172aef-dirty"}}},
          {"libvirt", {{"accel", "kvm (auto: a probe VM booted under KVM)"}}},
          {"libvirt_hosts",
           json::array({{{"name", "a"},
                         {"uri", "qemu:///system"},
                         {"hostname", "ci<1>"},
                         {"versions", "libvirt 9.0.0, QEMU 7.2.22"},
                         {"kernel", "6.1.0-27-amd64"},
                         {"accel", "tcg (as the topology says)"},
                         {"cpus", 2},
                         {"servers", {"knfsd"}},
                         {"clients", {"kc@knfsd"}}},
                        {{"name", "b"},
                         {"uri", "qemu+ssh://root@b/system"},
                         {"hostname", "b"},
                         {"servers", {"reference"}},
                         {"clients", json::array()},
                         {"failure", "libvirt host b: connection refused"}}})}};
}

Status WriteRun(const std::string& dir, const json& results, const json& manifest) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Error(ec.value(), "create " + dir + ": " + ec.message());
  std::ofstream(dir + "/results.json") << results.dump(2);
  if (!manifest.is_null()) std::ofstream(dir + "/manifest.json") << manifest.dump(2);
  return Status::Ok();
}

std::string ChromiumUnavailable(const std::string& work_dir) {
  const std::string page = work_dir + "/probe.html";
  std::ofstream(page) << "<html><body><script>document.body.setAttribute('data-probe','1')"
                         "</script></body></html>";
  auto dom = DumpDom(page, work_dir);
  if (!dom.ok()) return dom.status().message();
  if (IntAttribute(*dom, "data-probe") != 1) return "chromium ran no script: " + *dom;
  return "";
}

Result<std::string> DumpDom(const std::string& html_path, const std::string& work_dir) {
  const std::string out = work_dir + "/dom.html";
  OVL_RETURN_IF_ERROR(RunChromium({"--dump-dom", Url(html_path)}, out, work_dir));
  std::ifstream in(out);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

Status Screenshot(const std::string& html_path, const std::string& png_path,
                  const std::string& work_dir) {
  return RunChromium({"--screenshot=" + png_path, "--window-size=1400,2000", Url(html_path)},
                     work_dir + "/screenshot.out", work_dir);
}

int IntAttribute(const std::string& dom, const std::string& attribute) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex(attribute + "=\"(-?[0-9]+)\""))) return -1;
  return std::stoi(m[1]);
}

}  // namespace ovl::report::testing
