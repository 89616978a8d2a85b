package watch

import "testing"

// TestMountOf: the mount with the longest mount point above a path gives
// its filesystem type; remote and FUSE types (Docker Desktop's bind mounts)
// poll, local ones do not.
func TestMountOf(t *testing.T) {
	const mountinfo = `22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l
23 22 0:5 / /proc rw - proc proc rw
40 22 0:40 /Users/ann/shop /app rw,relatime - fakeowner /run/host_mark/Users rw
41 22 0:41 / /app/node_modules rw - ext4 /dev/vda1 rw
42 22 0:42 / /mnt/my\040share rw - cifs //srv/share rw
43 22 0:43 / /srv rw - fuse.sshfs host:/srv rw
44 22 0:44 / /data rw - fuseblk /dev/sdb1 rw
`
	for path, want := range map[string]string{
		"/":                     "overlay",
		"/home/x":               "overlay",
		"/app":                  "fakeowner",
		"/app/shop/views.py":    "fakeowner",
		"/app/node_modules/x":   "ext4",
		"/application":          "overlay",
		"/mnt/my share/project": "cifs",
		"/srv/www":              "fuse.sshfs",
		"/data":                 "fuseblk",
	} {
		if got := mountOf(mountinfo, path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	for fstype, remote := range map[string]bool{"overlay": false, "ext4": false, "tmpfs": false, "fuseblk": false,
		"fakeowner": true, "virtiofs": true, "9p": true, "nfs4": true, "cifs": true, "fuse.grpcfuse": true, "fuse.sshfs": true} {
		if remoteFSType(fstype) != remote {
			t.Errorf("%s: remote %v, want %v", fstype, !remote, remote)
		}
	}
}
