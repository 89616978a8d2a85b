package clusterlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fileStore locks with flock(2) on NAME.lock files in a shared directory
// and records claims in NAME.slot files (the slot in Unix nanoseconds and
// the owner), each written under its own lock.
type fileStore struct {
	dir   string
	owner string
}

// pollEvery is how often a waiting Lock tries again: flock cannot wait
// with a deadline.
const pollEvery = 100 * time.Millisecond

func (s *fileStore) String() string { return "file:" + s.dir }

// checkDir says plainly when the directory is missing or not one.
func (s *fileStore) checkDir() error {
	fi, err := os.Stat(s.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("lock directory %s does not exist (it must be a directory on a volume every container mounts)", s.dir)
	case err != nil:
		return fmt.Errorf("lock directory: %v", err)
	case !fi.IsDir():
		return fmt.Errorf("lock directory %s is not a directory", s.dir)
	}
	return nil
}

// Lock takes NAME.lock's flock, trying again every pollEvery until ctx
// ends; the holder writes its owner in the file, for waiters to name.
func (s *fileStore) Lock(ctx context.Context, name string, waiting func(string)) (func() error, error) {
	if err := s.checkDir(); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	told := false
	holder := ""
	for {
		err := tryLock(f)
		if err == nil {
			break
		}
		if !errors.Is(err, errWouldBlock) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %v", path, err)
		}
		if !told {
			told = true
			if b, err := os.ReadFile(path); err == nil {
				holder = strings.TrimSpace(string(b))
			}
			if waiting != nil {
				waiting(holder)
			}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, waitError(ctx, name, time.Since(start), holder)
		case <-time.After(pollEvery):
		}
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(s.owner+"\n"), 0)
	}
	return func() error {
		_ = f.Truncate(0)
		return f.Close() // drops the lock
	}, nil
}

// Claim reads NAME.slot under NAME.slot.lock and, when the slot is later
// than the one recorded, records it (a new file renamed over the old one,
// synced first, so a crash leaves the old record or the new one).
func (s *fileStore) Claim(ctx context.Context, name string, slot time.Time) (Claim, error) {
	unlock, err := s.Lock(ctx, name+".slot", nil)
	if err != nil {
		return Claim{}, err
	}
	defer unlock()
	path := filepath.Join(s.dir, name+".slot")
	last, by, err := readSlot(path)
	if err != nil {
		return Claim{}, err
	}
	if !last.IsZero() && !last.Before(slot) {
		return Claim{Slot: last, By: by}, nil
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return Claim{}, err
	}
	_, err = fmt.Fprintf(f, "%d %s\n", slot.UnixNano(), s.owner)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return Claim{}, fmt.Errorf("recording %s's slot: %v", name, err)
	}
	return Claim{Won: true, By: s.owner, Slot: slot}, nil
}

// readSlot reads a NAME.slot file (zero time when there is none).
func readSlot(path string) (time.Time, string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, "", nil
	}
	if err != nil {
		return time.Time{}, "", err
	}
	ns, owner, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%s: not a slot record: %q", path, b)
	}
	return time.Unix(0, n), owner, nil
}

// Interface guards
var _ Store = (*fileStore)(nil)
