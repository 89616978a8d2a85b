package testkit

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Goroutines is the number of goroutines of the Caddy whose admin API
// listens on 127.0.0.1:admin (expvar has no count; the pprof index has
// it), or -1 when it cannot be read.
func Goroutines(admin int) int {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/goroutine?debug=1", admin))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n') // "goroutine profile: total 123"
	n, err := strconv.Atoi(strings.TrimSpace(line[strings.LastIndexByte(line, ' ')+1:]))
	if err != nil {
		return -1
	}
	return n
}
