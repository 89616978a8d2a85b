//go:build !linux

package watch

// RemoteFS returns "": elsewhere than on Linux, the filesystem type is not
// looked at (fsnotify's kqueue and ReadDirectoryChangesW backends; a
// failure to register falls back to polling).
func RemoteFS(dir string) string { return "" }
