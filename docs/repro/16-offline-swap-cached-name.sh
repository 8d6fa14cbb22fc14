#!/bin/sh
# Finding 16 (docs/findings.md) by hand, inside one knfsd guest: knfsd exports an overlay
# (index=on, nfs_export=on) whose lower layer has d/x and f/x; the guest's own NFS client
# (NFSv3 over 127.0.0.1, actimeo=0) reads d/x; knfsd stops, the overlay is unmounted, and the
# lower directories are swapped offline (d becomes e, f becomes d); the overlay is mounted and
# exported again; the client, still mounted, reads d/x again. The merged root's ctime did not
# change, so the client keeps its cached name d and reaches the old directory.
#
#   build/harness/harness guest topologies/vm-smoke.yaml knfsd docs/repro/16-offline-swap-cached-name.sh
#
# Needs what 19-nonsamefs-dir-handle.sh needs. Exits 1 when the client reads the old d's x after
# the swap (the bug), 0 when it reads the new d's (f's), 2 on a setup error.
R=/data/r16
O="lowerdir=$R/lower,upperdir=$R/upper,workdir=$R/work,index=on,nfs_export=on"
serve() {
  mount -t overlay overlay -o "$O" $R/ovl || return 1
  echo "$R/ovl 127.0.0.1(rw,sync,no_root_squash,no_subtree_check,fsid=16)" > /etc/exports
  exportfs -ra && rpc.nfsd 2
}
unserve() {
  rpc.nfsd 0
  : > /etc/exports
  exportfs -ra
  exportfs -f
  umount $R/ovl
}
rm -rf $R
mkdir -p $R/lower/d $R/lower/f $R/upper $R/work $R/ovl $R/mnt
echo "the first d's x" > $R/lower/d/x
echo "f's x" > $R/lower/f/x
serve || exit 2
mount -t nfs -o vers=3,proto=tcp,hard,actimeo=0,nolock 127.0.0.1:$R/ovl $R/mnt || exit 2
echo "before: d/x: $(cat $R/mnt/d/x); root ctime $(stat -c %z $R/mnt)"
unserve || exit 2
mv $R/lower/d $R/lower/e && mv $R/lower/f $R/lower/d || exit 2
serve || exit 2
after=$(cat $R/mnt/d/x 2>&1)
echo "after the offline swap: d/x: $after; root ctime $(stat -c %z $R/mnt)"
echo "the server's own view: d/x: $(cat $R/ovl/d/x); e/x: $(cat $R/ovl/e/x)"
uname -r
umount $R/mnt
unserve
case "$after" in
"the first d's x")
  echo "REPRODUCED: the client read the old d's x under the name d"
  exit 1 ;;
"f's x") echo "not reproduced" ;;
*) exit 2 ;;
esac
