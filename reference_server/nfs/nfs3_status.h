// Mapping from the union layer's error values to NFSv3 status codes.
#pragma once

#include "base/status.h"
#include "nfs/nfs3_xdr.h"

namespace ovl::nfs {

// The nfsstat3 for `status`: NFS3_OK when ok, the matching NFS3ERR_* for errno values and the
// kErr* protocol codes, NFS3ERR_IO for anything without an NFSv3 counterpart.
Nfsstat3 ToNfsstat3(const Status& status);

}  // namespace ovl::nfs
