#!/bin/sh
# Finding 19 (docs/findings.md) by hand, inside one knfsd guest: knfsd exports an overlay
# (index=on, nfs_export=on); the guest's own NFS client (NFSv3 over 127.0.0.1) holds a lower
# directory d as its working directory and writes a file in it, so that d is copied up (the
# first steps of scenario dir-handles); once knfsd's file cache has let the file go, the guest's
# caches are dropped; the held directory is then used by its handle (GETATTR, and LOOKUP of a
# name in it). Done twice: with the lower layer on the upper's filesystem (the control), then on
# a filesystem of its own (a loop-mounted ext4).
#
#   build/harness/harness guest topologies/vm-smoke.yaml knfsd docs/repro/19-nonsamefs-dir-handle.sh
#
# Any guest with knfsd and e2fsprogs will do: it needs /proc/fs/nfsd mounted, rpc.mountd and
# rpcbind running (role.sh boot in harness/backend/libvirt/guest_scripts.cc), /data a scratch ext4.
# Prints what each use of the held directory gave; exits 1 when, with the lower layer on its own
# filesystem, the held directory's handle gives another fileid after the eviction (the client
# logs "NFS: server ... error: fileid changed") while the control keeps it (the bug), 0 when both
# keep it, 2 on a setup error.
R=/data/r19
modprobe loop || exit 2

# try SETUP: prints SETUP, then what the client and the server saw, or "setup failed: STEP".
fail() { echo "setup failed: $1"; return 1; }
try() {
  mkdir -p $R/upper $R/work $R/ovl $R/mnt $R/lower
  if [ "$1" = other-fs ]; then
    truncate -s 64M $R/lower.img && mkfs.ext4 -F -q $R/lower.img &&
      mount -o loop $R/lower.img $R/lower || fail "the lower filesystem" || return
  fi
  mkdir -p $R/lower/d && echo 1 > $R/lower/d/x && echo 2 > $R/lower/d/y
  mount -t overlay overlay \
    -o lowerdir=$R/lower,upperdir=$R/upper,workdir=$R/work,index=on,nfs_export=on $R/ovl ||
    fail "mount -t overlay" || return
  echo "$R/ovl 127.0.0.1(rw,sync,no_root_squash,no_subtree_check,fsid=19)" > /etc/exports
  exportfs -ra && rpc.nfsd 2 || fail "export" || return
  mount -t nfs -o vers=3,proto=tcp,hard,actimeo=0,nolock 127.0.0.1:$R/ovl $R/mnt ||
    fail "mount -t nfs" || return
  (
    cd $R/mnt/d || exit
    echo "child copied up" > x
    echo "$1"
    echo "  d's NFS fileid: $(stat -c %i .)"
    # knfsd keeps a file it wrote open for about 2 s (its file cache), which pins d.
    sleep 5
    sync
    n=$(dmesg | grep -c 'fileid changed')
    echo 3 > /proc/sys/vm/drop_caches
    echo "  after the eviction: the held d: $(stat -c %i . 2>&1)," \
      "d on the server: $(stat -c %i $R/ovl/d)," \
      "client errors 'fileid changed': $(($(dmesg | grep -c 'fileid changed') - n))"
    echo "  lookup of y in the held d: $(stat -c %i y 2>&1)"
  )
  umount $R/mnt
  rpc.nfsd 0
  : > /etc/exports
  exportfs -ra
  umount $R/ovl
  if [ "$1" = other-fs ]; then umount $R/lower; fi
  rm -rf $R
}

same=$(try same-fs)
other=$(try other-fs)
echo "$same"
echo "$other"
uname -r
changed() { echo "$1" | grep -q "'fileid changed': [1-9]"; }
case "$same$other" in *"setup failed"*) exit 2 ;; esac
if changed "$other" && ! changed "$same"; then
  echo "REPRODUCED: only with its lower layer on another filesystem, the held directory's handle"
  echo "gives another fileid after the eviction, which the client refuses (ESTALE to"
  echo "open_by_handle_at and to the harness's agent)"
  exit 1
fi
echo "not reproduced"
exit 0
