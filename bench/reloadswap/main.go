// Command reloadswap measures what config reloads cost clients that open a
// new connection per request: Caddy 2.11 binds new SO_REUSEPORT listeners on
// every reload and closes the old ones. Two `respond` sites of one Caddy are
// hammered at the same time, one plain and one with the plugin's
// django_handoff listener wrapper. It counts the requests that got no HTTP
// answer, by kind, with Linux's net.ipv4.tcp_migrate_req off and on (when
// this process may set it; the setting is restored).
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

// sites are the measured sites: plain Caddy, and with django_handoff.
var sites = []struct{ name, url string }{
	{"plain Caddy", "http://127.0.0.1:18080/"},
	{"django_handoff", "http://127.0.0.1:18081/"},
}

func config(rev int) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:2399
	persist_config off
	servers :18081 {
		listener_wrappers {
			django_handoff
			tls
		}
	}
}
http://:18080, http://:18081 {
	header X-Rev %d
	respond "ok"
}
`, rev)
}

// tally counts one site's requests and those without an answer, by kind.
type tally struct {
	mu    sync.Mutex
	total int
	kinds map[string]int
}

func (t *tally) each(status int, err error, _ time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	if status == 0 && err != nil {
		k := err.Error()
		if i := strings.LastIndex(k, ": "); i >= 0 {
			k = k[i+2:]
		}
		t.kinds[k]++
	}
}

func (t *tally) report(site, setting string, reloads int) {
	var parts []string
	n := 0
	for k, v := range t.kinds {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
		n += v
	}
	sort.Strings(parts)
	fmt.Printf("tcp_migrate_req=%s, %s: %d of %d requests without an answer in %d reloads (%s)\n",
		setting, site, n, t.total, reloads, strings.Join(parts, ", "))
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

	var tallies []*tally
	var halts []func()
	for _, site := range sites {
		t := &tally{kinds: map[string]int{}}
		tallies = append(tallies, t)
		halts = append(halts, testkit.Hammer(site.url, 4, t.each))
	}
	for i := 1; i <= reloads; i++ {
		resp, err := client.Post("http://127.0.0.1:2399/load", "text/caddyfile", strings.NewReader(config(i)))
		if err != nil {
			log.Fatalf("reload %d: %v", i, err)
		}
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
	for _, halt := range halts {
		halt()
	}
	for i, site := range sites {
		tallies[i].report(site.name, setting, reloads)
	}
}
