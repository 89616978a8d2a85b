package watch

import "os"

// RemoteFS returns the type of the filesystem that holds dir (absolute,
// symlinks resolved) when inotify misses changes there (see
// remoteFSTypes), else "".
func RemoteFS(dir string) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	if fstype := mountOf(string(data), cleanRoot(dir)); remoteFSType(fstype) {
		return fstype
	}
	return ""
}
