#!/bin/sh
# docs/findings.md #21, the overlay half: decodes the handle of an overlay file that is kept open
# after another process renamed it (a copy-up) and removed it, as knfsd does for every NFSv4
# READ of that open file (PUTFH). Runs as root, in a guest (harness guest, below) or on any
# host. Prints "open_by_handle_at while the file is open: ok" on 6.1, 6.12 and 6.18: overlayfs
# itself decodes such a handle, so the ESTALE of the finding comes from knfsd's side.
#
#   build/harness/harness guest topologies/vm-v4.yaml knfsd-61 docs/repro/21-open-file-removed-elsewhere.sh
cd /tmp || exit 2
cat > rm21.pl <<"PERL"
use strict; use Fcntl;
my ($mnt, $mode) = (@ARGV, '');
my ($a, $a2) = ("$mnt/a", "$mnt/a2");
my $fh = pack("LL", 128, 0) . ("\0" x 128);  # struct file_handle, MAX_HANDLE_SZ bytes
my $mount_id = pack("L", 0);
syscall(303, -100, $a, $fh, $mount_id, 0) == 0 or die "name_to_handle_at: $!";  # AT_FDCWD
if ($mode eq 'copyup') { open(my $w, '>>', $a) or die "append: $!"; print $w "x"; close $w; }
open(my $o, '<', $a) or die "open: $!";
sysopen(my $root, $mnt, O_RDONLY | O_DIRECTORY) or die "open root: $!";
rename($a, $a2) or die "rename: $!";
unlink($a2) or die "unlink: $!";
my $buf; sysread($o, $buf, 64);
print "read through the open file: ", length($buf), " bytes\n";
my $fd = syscall(304, fileno($root), $fh, 0);  # open_by_handle_at, O_RDONLY
if ($fd < 0) { print "open_by_handle_at while the file is open: $!\n"; exit 1; }
print "open_by_handle_at while the file is open: ok\n";
PERL
rc=0
for mode in lower copyup; do
  rm -rf t; mkdir -p t/l t/u t/w t/m; echo lower-data > t/l/a
  mount -t overlay ovl -o lowerdir=/tmp/t/l,upperdir=/tmp/t/u,workdir=/tmp/t/w,index=on,nfs_export=on t/m || exit 2
  echo "== $mode: $(uname -r)"
  perl rm21.pl t/m $mode || rc=1
  umount t/m
done
exit $rc
