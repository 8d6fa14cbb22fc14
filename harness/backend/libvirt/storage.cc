#include "backend/libvirt/storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/libvirt/hypervisor_impl.h"
#include "base/fd.h"
#include "base/markup.h"

namespace ovl::backend::libvirt {
namespace {

struct PoolDeleter {
  void operator()(virStoragePoolPtr p) const { virStoragePoolFree(p); }
};
using PoolRef = std::unique_ptr<virStoragePool, PoolDeleter>;
struct VolDeleter {
  void operator()(virStorageVolPtr v) const { virStorageVolFree(v); }
};
using VolRef = std::unique_ptr<virStorageVol, VolDeleter>;

// virStreamSparseSendAll's callbacks over a local file: data from read(), holes from
// SEEK_DATA/SEEK_HOLE (as virsh vol-upload --sparse does).
int ReadSource(virStreamPtr, char* data, size_t n, void* opaque) {
  return static_cast<int>(::read(*static_cast<int*>(opaque), data, n));
}

int HoleSource(virStreamPtr, int* in_data, long long* length, void* opaque) {
  const int fd = *static_cast<int*>(opaque);
  const off_t cur = ::lseek(fd, 0, SEEK_CUR);
  if (cur < 0) return -1;
  const off_t data = ::lseek(fd, cur, SEEK_DATA);
  if (data < 0) {
    if (errno != ENXIO) return -1;
    // In the trailing hole, or at the end (a zero-length hole ends the transfer).
    const off_t end = ::lseek(fd, 0, SEEK_END);
    *in_data = 0;
    *length = end - cur;
  } else if (data > cur) {
    *in_data = 0;
    *length = data - cur;
  } else {
    *in_data = 1;
    *length = ::lseek(fd, cur, SEEK_HOLE) - cur;
  }
  return ::lseek(fd, cur, SEEK_SET) < 0 ? -1 : 0;
}

int SkipSource(virStreamPtr, long long length, void* opaque) {
  return ::lseek(*static_cast<int*>(opaque), length, SEEK_CUR) < 0 ? -1 : 0;
}

struct Sink {
  std::string* out;
  size_t max;
};

int SinkInto(virStreamPtr, const char* data, size_t n, void* opaque) {
  auto* s = static_cast<Sink*>(opaque);
  if (s->out->size() + n > s->max) return -1;
  s->out->append(data, n);
  return static_cast<int>(n);
}

std::string VolumeXml(const std::string& name, uint64_t bytes, const std::string& format,
                      const std::string& backing) {
  std::string x = "<volume><name>" + EscapeMarkup(name) + "</name><capacity unit='bytes'>" +
                  std::to_string(bytes) + "</capacity><allocation>0</allocation>" +
                  "<target><format type='" + format + "'/></target>";
  if (!backing.empty()) {
    x += "<backingStore><path>" + EscapeMarkup(backing) +
         "</path><format type='raw'/></backingStore>";
  }
  return x + "</volume>";
}

Result<PoolRef> LookupPool(virConnectPtr conn, const std::string& pool) {
  PoolRef p(virStoragePoolLookupByName(conn, pool.c_str()));
  if (!p) return LibvirtError(EIO, "look up storage pool " + pool);
  return p;
}

// Volume `volume` of `pool`; ENOENT when there is none.
Result<VolRef> LookupVolume(virConnectPtr conn, const std::string& pool,
                            const std::string& volume) {
  OVL_ASSIGN_OR_RETURN(PoolRef p, LookupPool(conn, pool));
  VolRef vol(virStorageVolLookupByName(p.get(), volume.c_str()));
  if (!vol) return Status::Error(ENOENT, "no volume " + volume + " in pool " + pool);
  return vol;
}

Result<VolRef> CreateVolume(virConnectPtr conn, const std::string& pool, const std::string& volume,
                            const std::string& xml) {
  OVL_ASSIGN_OR_RETURN(PoolRef p, LookupPool(conn, pool));
  VolRef vol(virStorageVolCreateXML(p.get(), xml.c_str(), 0));
  if (!vol) return LibvirtError(EIO, "create volume " + volume + " in pool " + pool);
  return vol;
}

Result<std::string> PathOf(virStorageVolPtr vol, const std::string& volume) {
  std::string path = Take(virStorageVolGetPath(vol));
  if (path.empty()) return LibvirtError(EIO, "path of volume " + volume);
  return path;
}

}  // namespace

Result<StoragePool> StoragePool::Ensure(Hypervisor* hv, const std::string& name,
                                        const std::string& path) {
  virConnectPtr conn = hv->impl_->conn;
  PoolRef pool(virStoragePoolLookupByName(conn, name.c_str()));
  if (!pool) {
    const std::string xml = "<pool type='dir'><name>" + EscapeMarkup(name) +
                            "</name><target><path>" + EscapeMarkup(path) +
                            "</path></target></pool>";
    pool.reset(virStoragePoolDefineXML(conn, xml.c_str(), 0));
    if (!pool) return LibvirtError(EIO, "define storage pool " + name + " at " + path);
    if (virStoragePoolBuild(pool.get(), 0) != 0) {
      return LibvirtError(EIO, "build storage pool " + name + " at " + path);
    }
  }
  if (virStoragePoolIsActive(pool.get()) != 1 && virStoragePoolCreate(pool.get(), 0) != 0) {
    return LibvirtError(EIO, "start storage pool " + name);
  }
  // Volumes another run added are seen only after a refresh.
  if (virStoragePoolRefresh(pool.get(), 0) != 0) {
    return LibvirtError(EIO, "refresh storage pool " + name);
  }
  return StoragePool(hv, name);
}

Result<std::string> StoragePool::Path(const std::string& volume) {
  OVL_ASSIGN_OR_RETURN(VolRef vol, LookupVolume(hv_->impl_->conn, name_, volume));
  return PathOf(vol.get(), volume);
}

Result<std::string> StoragePool::CreateOverlay(const std::string& volume,
                                               const std::string& backing, uint64_t bytes) {
  OVL_ASSIGN_OR_RETURN(VolRef vol, CreateVolume(hv_->impl_->conn, name_, volume,
                                                VolumeXml(volume, bytes, "qcow2", backing)));
  return PathOf(vol.get(), volume);
}

Result<std::string> StoragePool::Upload(const std::string& volume, const std::string& local_path) {
  Fd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("open " + local_path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + local_path);
  const auto bytes = static_cast<uint64_t>(st.st_size);
  OVL_ASSIGN_OR_RETURN(VolRef vol, CreateVolume(hv_->impl_->conn, name_, volume,
                                                VolumeXml(volume, bytes, "raw", "")));
  OVL_ASSIGN_OR_RETURN(auto stream, hv_->NewStream("upload of " + local_path, true));
  if (virStorageVolUpload(vol.get(), stream->get(), 0, 0, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) !=
      0) {
    return LibvirtError(EIO, "upload " + local_path + " to volume " + volume);
  }
  int raw = fd.get();
  if (virStreamSparseSendAll(stream->get(), ReadSource, HoleSource, SkipSource, &raw) != 0) {
    return LibvirtError(EIO, "send " + local_path + " to volume " + volume);
  }
  OVL_RETURN_IF_ERROR(stream->Finish());
  return PathOf(vol.get(), volume);
}

Result<std::string> StoragePool::Download(const std::string& volume, size_t max_bytes) {
  OVL_ASSIGN_OR_RETURN(VolRef vol, LookupVolume(hv_->impl_->conn, name_, volume));
  OVL_ASSIGN_OR_RETURN(auto stream, hv_->NewStream("download of " + volume, true));
  if (virStorageVolDownload(vol.get(), stream->get(), 0, 0, 0) != 0) {
    return LibvirtError(EIO, "download volume " + volume);
  }
  std::string out;
  Sink sink{&out, max_bytes};
  if (virStreamRecvAll(stream->get(), SinkInto, &sink) != 0) {
    return LibvirtError(EFBIG, "receive volume " + volume);
  }
  OVL_RETURN_IF_ERROR(stream->Finish());
  return out;
}

Status StoragePool::Delete(const std::string& volume) {
  Result<VolRef> vol = LookupVolume(hv_->impl_->conn, name_, volume);
  if (!vol.ok()) return vol.status().code() == ENOENT ? Status::Ok() : vol.status();
  if (virStorageVolDelete(vol->get(), 0) != 0) return LibvirtError(EIO, "delete volume " + volume);
  return Status::Ok();
}

Result<std::vector<std::string>> StoragePool::List(const std::string& prefix) {
  OVL_ASSIGN_OR_RETURN(PoolRef pool, LookupPool(hv_->impl_->conn, name_));
  if (virStoragePoolRefresh(pool.get(), 0) != 0) {
    return LibvirtError(EIO, "refresh storage pool " + name_);
  }
  virStorageVolPtr* vols = nullptr;
  const int n = virStoragePoolListAllVolumes(pool.get(), &vols, 0);
  if (n < 0) return LibvirtError(EIO, "list volumes of pool " + name_);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    const char* name = virStorageVolGetName(vols[i]);
    if (name && std::string(name).rfind(prefix, 0) == 0) names.emplace_back(name);
    virStorageVolFree(vols[i]);
  }
  free(vols);
  return names;
}

}  // namespace ovl::backend::libvirt
