// Command reloadswap measures what a config reload of a plain Caddy costs
// clients that open a new connection per request: Caddy 2.11 binds new
// SO_REUSEPORT listeners on every reload and closes the old ones. It counts
// the requests that got no HTTP answer, by kind, with Linux's
// net.ipv4.tcp_migrate_req off and on (when this process may set it; the
// setting is restored).
//
//	go build -o /tmp/caddy ./cmd/caddy && go -C bench run ./reloadswap -caddy /tmp/caddy
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

const migrate = "/proc/sys/net/ipv4/tcp_migrate_req"

func main() {
	caddyBin := flag.String("caddy", "caddy", "Caddy binary")
	reloads := flag.Int("reloads", 60, "config reloads per measurement")
	flag.Parse()

	old, err := os.ReadFile(migrate)
	if err != nil {
		log.Printf("%s: %v; measuring the current setting only", migrate, err)
		measure(*caddyBin, *reloads, "unknown")
		return
	}
	defer os.WriteFile(migrate, old, 0o644)
	for _, v := range []string{"0", "1"} {
		if err := os.WriteFile(migrate, []byte(v), 0o644); err != nil {
			log.Printf("cannot set %s (%v); measuring the current setting only", migrate, err)
			measure(*caddyBin, *reloads, strings.TrimSpace(string(old)))
			return
		}
		measure(*caddyBin, *reloads, v)
	}
}

func config(rev int) string {
	return fmt.Sprintf("{\n\tadmin 127.0.0.1:2399\n\tpersist_config off\n}\nhttp://:18080 {\n\theader X-Rev %d\n\trespond \"ok\"\n}\n", rev)
}

func measure(caddyBin string, reloads int, setting string) {
	dir, err := os.MkdirTemp("", "reloadswap")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cf, []byte(config(0)), 0o644); err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://127.0.0.1:18080/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log.Fatalf("caddy did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	var mu sync.Mutex
	total, kinds := 0, map[string]int{}
	halt := testkit.Hammer("http://127.0.0.1:18080/", 4, func(status int, err error, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		total++
		if status == 0 && err != nil {
			k := err.Error()
			if i := strings.LastIndex(k, ": "); i >= 0 {
				k = k[i+2:]
			}
			kinds[k]++
		}
	})
	for i := 1; i <= reloads; i++ {
		resp, err := client.Post("http://127.0.0.1:2399/load", "text/caddyfile", strings.NewReader(config(i)))
		if err != nil {
			log.Fatalf("reload %d: %v", i, err)
		}
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
	halt()

	var parts []string
	n := 0
	for k, v := range kinds {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
		n += v
	}
	sort.Strings(parts)
	fmt.Printf("tcp_migrate_req=%s: %d of %d requests without an answer in %d reloads (%s)\n",
		setting, n, total, reloads, strings.Join(parts, ", "))
}
