#include "plan/plan_json.h"

namespace ovl::plan {
namespace {

using nlohmann::ordered_json;
using topology::NameOf;

ordered_json JobJson(const topology::ThroughputJob& j) {
  ordered_json o;
  o["job"] = topology::NameString(topology::kJobKindNames, j.kind);
  if (topology::IsDataJob(j.kind)) {
    o["size"] = j.size;
  } else {
    o["files"] = j.files;
  }
  o["clients"] = j.clients;
  o["duration_ms"] = j.duration.count();
  return o;
}

}  // namespace

ordered_json ToJson(const Plan& plan) {
  ordered_json out;
  out["topology"] = plan.topology;
  out["seed"] = plan.seed;
  out["seed_source"] = plan.seed_from_topology ? "topology" : "command line";
  ordered_json& servers = out["servers"] = ordered_json::array();
  for (const PlannedServer& s : plan.servers) {
    ordered_json o;
    o["name"] = s.name;
    o["variant"] = topology::NameString(topology::kVariantNames, s.variant);
    o["backend"] = topology::NameString(topology::kBackendNames, s.backend);
    o["expect"] = topology::NameString(topology::kExpectNames, s.expect);
    if (s.spec.plant) o["plant"] = PlantName(*s.spec.plant);
    o["port"] = s.port ? ordered_json(*s.port) : ordered_json(nullptr);
    o["host"] = s.host;
    servers.push_back(std::move(o));
  }
  ordered_json& clients = out["clients"] = ordered_json::array();
  for (const ClientInstance& c : plan.clients) {
    clients.push_back({{"name", c.name},
                       {"client", c.client},
                       {"access", topology::NameString(topology::kAccessNames, c.access)},
                       {"backend", topology::NameString(topology::kBackendNames, c.backend)},
                       {"servers", c.servers},
                       {"host", c.host}});
  }
  ordered_json& links = out["links"] = ordered_json::array();
  for (const Link& l : plan.links) {
    links.push_back({{"server", l.server},
                     {"client", l.client},
                     {"server_port", l.server_port},
                     {"client_port", l.client_port},
                     {"host", l.host}});
  }
  ordered_json& hosts = out["hosts"] = ordered_json::array();
  for (const HostPlan& h : plan.hosts) {
    hosts.push_back({{"name", h.name},
                     {"uri", h.uri},
                     {"pool", h.pool},
                     {"pool_path", h.pool_path},
                     {"cpus", h.cpus},
                     {"expected_seconds", h.expected_seconds},
                     {"servers", h.servers},
                     {"clients", h.clients}});
  }
  ordered_json& cases = out["cases"] = ordered_json::array();
  for (const Case& c : plan.cases) {
    ordered_json o;
    o["id"] = c.id;
    o["server"] = c.server;
    o["variant"] = topology::NameString(topology::kVariantNames, c.variant);
    o["backend"] = topology::NameString(topology::kBackendNames, c.backend);
    o["scenario"] = c.scenario;
    o["fault"] = c.fault ? ordered_json(topology::NameString(topology::kFaultKindNames, *c.fault))
                         : ordered_json(nullptr);
    o["access"] = topology::NameString(topology::kAccessNames, c.access);
    if (!c.nfs_version.empty()) o["nfs_version"] = c.nfs_version;
    o["clients"] = c.clients;
    o["expect"] = topology::NameString(topology::kExpectNames, c.expect);
    o["expect_source"] = c.expect_source;
    if (!c.supported()) o["unsupported"] = c.unsupported;
    cases.push_back(std::move(o));
  }
  ordered_json& mixed = out["mixed"];
  mixed["enabled"] = plan.mixed.enabled;
  mixed["ops"] = plan.mixed.ops;
  mixed["duration_ms"] = plan.mixed.duration.count();
  mixed["clients"] = plan.mixed.clients;
  ordered_json& schedule = mixed["schedule"] = ordered_json::array();
  for (const FaultEvent& e : plan.mixed.schedule) {
    ordered_json o;
    o["kind"] = topology::NameString(topology::kFaultKindNames, e.kind);
    o["target"] = e.target;
    if (e.at_step) {
      o["step"] = e.step;
    } else {
      o["time_ms"] = e.time.count();
    }
    o["drawn"] = e.drawn;
    o["origin"] = e.origin;
    schedule.push_back(std::move(o));
  }
  ordered_json& throughput = out["throughput"] = ordered_json::array();
  for (const topology::ThroughputJob& j : plan.throughput) throughput.push_back(JobJson(j));
  return out;
}

}  // namespace ovl::plan
