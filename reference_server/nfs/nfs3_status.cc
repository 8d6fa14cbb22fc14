#include "nfs/nfs3_status.h"

namespace ovl::nfs {

Nfsstat3 ToNfsstat3(const Status& status) {
  switch (status.code()) {
    case 0:
      return Nfsstat3::kOk;
    case EPERM:
      return Nfsstat3::kPerm;
    case ENOENT:
      return Nfsstat3::kNoEnt;
    case EIO:
      return Nfsstat3::kIo;
    case ENXIO:
      return Nfsstat3::kNxio;
    case EACCES:
      return Nfsstat3::kAcces;
    case EEXIST:
      return Nfsstat3::kExist;
    case EXDEV:
      return Nfsstat3::kXdev;
    case ENODEV:
      return Nfsstat3::kNoDev;
    case ENOTDIR:
      return Nfsstat3::kNotDir;
    case EISDIR:
      return Nfsstat3::kIsDir;
    case EINVAL:
      return Nfsstat3::kInval;
    case EFBIG:
      return Nfsstat3::kFbig;
    case ENOSPC:
      return Nfsstat3::kNoSpc;
    case EROFS:
      return Nfsstat3::kRofs;
    case EMLINK:
      return Nfsstat3::kMlink;
    case ENAMETOOLONG:
      return Nfsstat3::kNameTooLong;
    case ENOTEMPTY:
      return Nfsstat3::kNotEmpty;
    case EDQUOT:
      return Nfsstat3::kDquot;
    case ESTALE:
      return Nfsstat3::kStale;
    case EOPNOTSUPP:
#if ENOTSUP != EOPNOTSUPP
    case ENOTSUP:
#endif
      return Nfsstat3::kNotSupp;
    case kErrBadHandle:
    case kErrNotSync:
    case kErrBadCookie:
    case kErrNotSupp:
    case kErrTooSmall:
    case kErrServerFault:
    case kErrBadType:
    case kErrJukebox:
      // The kErr* codes are numbered like their NFSv3 counterparts.
      return static_cast<Nfsstat3>(status.code());
    default:
      return Nfsstat3::kIo;
  }
}

}  // namespace ovl::nfs
