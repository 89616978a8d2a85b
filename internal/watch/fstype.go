package watch

import (
	"path/filepath"
	"strings"
)

// Filesystems where inotify sees only the changes made through this
// machine's kernel, not those made by another machine or by the host of a
// virtual machine: a file saved in an editor on macOS or Windows and seen
// through Docker Desktop's bind mount (virtiofs, gRPC FUSE, osxfs,
// fakeowner), a WSL 2 or VirtualBox share, a network filesystem.
var remoteFSTypes = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ncpfs": true,
	"9p": true, "virtiofs": true, "fakeowner": true, "vboxsf": true, "prl_fs": true, "vmhgfs": true,
	"ceph": true, "glusterfs": true, "lustre": true, "gpfs": true, "afs": true, "fuse": true,
}

// remoteFSType reports whether a filesystem type (as /proc/self/mountinfo
// names it) is one where inotify misses changes: those of remoteFSTypes
// and every FUSE filesystem (`fuse.sshfs`, `fuse.grpcfuse`, `fuse.osxfs`)
// but fuseblk (a local disk, such as NTFS through ntfs-3g).
func remoteFSType(fstype string) bool {
	return remoteFSTypes[fstype] || strings.HasPrefix(fstype, "fuse.")
}

// mountOf returns the filesystem type of the mount that holds path
// (absolute, symlinks resolved) in mountinfo, the text of
// /proc/self/mountinfo: the mount with the longest mount point above path.
func mountOf(mountinfo, path string) string {
	best, fstype := "", ""
	for _, line := range strings.Split(mountinfo, "\n") {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 {
			continue
		}
		mp := unescapeMount(f[4])
		if !within(path, mp) || len(mp) < len(best) {
			continue
		}
		best, fstype = mp, g[0]
	}
	return fstype
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	if dir == "/" || path == dir {
		return true
	}
	return strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// unescapeMount decodes mountinfo's octal escapes (`\040` for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// cleanRoot is path as mountinfo lists mount points.
func cleanRoot(path string) string { return filepath.ToSlash(filepath.Clean(path)) }
