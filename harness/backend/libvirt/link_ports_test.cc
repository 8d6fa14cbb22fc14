#include "backend/libvirt/link_ports.h"

#include <gtest/gtest.h>

namespace ovl::backend::libvirt {
namespace {

TEST(LinkPorts, UdpPortsComeFromUdpInterfacesOnly) {
  const std::string xml =
      "<domain><devices><interface type='udp'><source address='127.0.0.1' port='20002'>"
      "<local address='127.0.0.1' port='20001'/></source></interface>"
      "<graphics type='vnc' port='5900'/></devices></domain>";
  EXPECT_EQ(UdpPortsOf({xml}), (std::set<uint16_t>{20001, 20002}));
  EXPECT_TRUE(UdpPortsOf({"<domain/>"}).empty());
}

TEST(LinkPorts, OnlyUsedPortsOfTheHostMove) {
  std::vector<plan::Link> links = {{"s1", "c1", 20000, 20001, "a"},
                                   {"s2", "c2", 20002, 20003, "b"},
                                   {"s3", "c3", 29999, 20005, "a"}};
  std::vector<std::string> notes;
  auto out = AvoidPorts(links, "a", {20001, 20002, 29999, 20004}, &notes);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].server_port, 20000);
  // The next free port: 20002 and 20003 are links', 20004 is used.
  EXPECT_EQ(out[0].client_port, 20006);
  EXPECT_EQ(out[1].server_port, 20002);  // host b: left alone
  EXPECT_EQ(out[2].server_port, 20007);  // wrapped past the top of the range
  EXPECT_EQ(out[2].client_port, 20005);
  EXPECT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("port 20001 is in use on host a"), std::string::npos) << notes[0];
}

TEST(LinkPorts, NothingUsedNothingMoves) {
  std::vector<plan::Link> links = {{"s1", "c1", 21000, 21001, "a"}};
  std::vector<std::string> notes;
  auto out = AvoidPorts(links, "a", {}, &notes);
  EXPECT_EQ(out[0].server_port, 21000);
  EXPECT_EQ(out[0].client_port, 21001);
  EXPECT_TRUE(notes.empty());
}

}  // namespace
}  // namespace ovl::backend::libvirt
