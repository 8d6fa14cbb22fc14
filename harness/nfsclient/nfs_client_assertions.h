// gtest assertions for the tests that drive NfsClient (its own test and the ovlnfsd integration
// tests): on the Status and Result of a call, and on the nfsstat3 a reply carries.
#pragma once

#include <gtest/gtest.h>

#include "base/status.h"
#include "nfsclient/nfs_client.h"

// Fails the test (fatally) unless the Status `expr` is ok, naming the expression and the error.
#define ASSERT_OK(expr)                                     \
  do {                                                      \
    ::ovl::Status _s = (expr);                              \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

// Declares `var` from a Result, failing the test on a transport error.
#define ASSERT_RESULT(var, expr) \
  auto var = (expr);             \
  ASSERT_TRUE(var.ok()) << #expr << ": " << var.status().ToString()

// Checks an nfsstat3, naming both values on failure.
#define EXPECT_NFS(status_value, want)                                              \
  EXPECT_EQ((status_value), (want)) << ::ovl::nfsclient::Nfsstat3Name(status_value) \
                                    << " != " << ::ovl::nfsclient::Nfsstat3Name(want)
#define ASSERT_NFS(status_value, want)                                              \
  ASSERT_EQ((status_value), (want)) << ::ovl::nfsclient::Nfsstat3Name(status_value) \
                                    << " != " << ::ovl::nfsclient::Nfsstat3Name(want)
