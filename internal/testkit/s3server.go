//go:build linux

package testkit

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The S3 server the tests and the benchmark run for real: versitygw, an S3
// gateway over a directory (Apache-2.0) that checks SigV4 signatures (a
// wrong secret is refused with SignatureDoesNotMatch). It is built from its
// Go module once per machine, into the same cache as scripts/lib.sh's
// versitygw_path.
const (
	VersitygwVersion = "v1.8.0"
	VersitygwPackage = "github.com/versity/versitygw/cmd/versitygw@" + VersitygwVersion
	// S3ServerEnv names a versitygw binary to use instead of the cached one.
	S3ServerEnv = "CADDY_DJANGO_TEST_S3_SERVER"
)

// CacheDir is caddy-django's cache of downloaded and built test tools:
// $CADDY_DJANGO_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/caddy-django.
func CacheDir() (string, error) {
	if d := os.Getenv("CADDY_DJANGO_CACHE"); d != "" {
		return d, nil
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "caddy-django"), nil
}

// S3ServerBinary returns the path of the versitygw binary: $S3ServerEnv
// when set, else the cached build, building it first when there is none
// (`go install`, one to four minutes on 2 cores). Concurrent first calls
// (test binaries of several packages) each build and rename the result
// into place: the last one wins, with the same binary.
func S3ServerBinary() (string, error) {
	if p := os.Getenv(S3ServerEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %v", S3ServerEnv, p, err)
		}
		return p, nil
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "versitygw-"+VersitygwVersion)
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, ".build")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", VersitygwPackage)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the S3 server failed (%v): %s\nbuild it with: GOBIN=%s go install %s (or set %s to a versitygw binary)",
			err, lastLines(string(out), 10), dir, VersitygwPackage, S3ServerEnv)
	}
	if err := os.Rename(filepath.Join(tmp, "versitygw"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// S3Server is a running versitygw on loopback.
type S3Server struct {
	URL                  string // http://127.0.0.1:PORT
	Addr                 string // 127.0.0.1:PORT
	AccessKey, SecretKey string
	Region               string
	Dir                  string // buckets are its subdirectories
	AccessLog            string // one line per request the server answered
	bin                  string
	cmd                  *exec.Cmd
	exited               chan struct{}
	logf                 *os.File
}

// StartS3Server starts versitygw serving the directory dir (buckets are
// its subdirectories; created when missing) on a free loopback port with
// fresh keys, keeping connections alive, logging every request to
// dir/../<base>.access.log. It returns once the server answers.
func StartS3Server(dir string) (*S3Server, error) {
	s, err := NewS3Server(dir)
	if err != nil {
		return nil, err
	}
	return s, s.Start()
}

// NewS3Server is StartS3Server without the start: fields may be changed
// first (AccessLog "" logs no requests).
func NewS3Server(dir string) (*S3Server, error) {
	bin, err := S3ServerBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	s := &S3Server{
		Addr:      "127.0.0.1:" + strconv.Itoa(port),
		AccessKey: "AKCADDYDJANGO" + strconv.Itoa(port),
		SecretKey: "secret-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Region:    "us-east-1",
		Dir:       dir,
		AccessLog: strings.TrimSuffix(dir, "/") + ".access.log",
		bin:       bin,
	}
	s.URL = "http://" + s.Addr
	return s, nil
}

// Start starts the server again after Stop, on the same address.
func (s *S3Server) Start() error {
	logf, err := os.OpenFile(strings.TrimSuffix(s.Dir, "/")+".server.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{"--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region, "--port", s.Addr, "--keep-alive", "--quiet"}
	if s.AccessLog != "" {
		args = append(args, "--access-log", s.AccessLog)
	}
	cmd := exec.Command(s.bin, append(args, "posix", s.Dir)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %v", s.bin, err)
	}
	s.cmd, s.logf, s.exited = cmd, logf, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("the S3 server exited at start: %s", s.ServerLog())
		default:
		}
		if resp, err := http.Get(s.URL + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return errors.New("the S3 server did not answer within 30 s: " + s.ServerLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (its process group) and waits for it to exit.
func (s *S3Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	s.logf.Close()
	s.cmd = nil
	// the port is free once nothing accepts on it
	for range 100 {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// ServerLog is the end of what the server wrote to its output.
func (s *S3Server) ServerLog() string {
	data, _ := os.ReadFile(strings.TrimSuffix(s.Dir, "/") + ".server.log")
	return lastLines(string(data), 20)
}

// S3Request is one line of the access log.
type S3Request struct {
	Bucket, Operation, Key string
	Status                 int
	ErrorCode              string
}

// Requests returns the requests the server logged so far, oldest first.
func (s *S3Server) Requests() []S3Request {
	f, err := os.Open(s.AccessLog)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []S3Request
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// owner bucket [time zone] ip requester reqid op key uri status code ...
		line := sc.Text()
		end := strings.IndexByte(line, ']')
		if end < 0 {
			continue
		}
		head := strings.Fields(line[:strings.IndexByte(line, '[')])
		f := strings.Fields(line[end+1:])
		if len(head) < 2 || len(f) < 8 {
			continue
		}
		r := S3Request{Bucket: head[1], Operation: f[3], Key: f[4], ErrorCode: f[7]}
		r.Status, _ = strconv.Atoi(f[6])
		out = append(out, r)
	}
	return out
}

// CountRequests is the number of logged requests for key in bucket.
func (s *S3Server) CountRequests(bucket, key string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Bucket == bucket && r.Key == key {
			n++
		}
	}
	return n
}
