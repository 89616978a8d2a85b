package caddydjango

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Settings discovery: the `django` app asks the project itself where its
// files are (STATIC_URL, STATIC_ROOT, MEDIA_URL, MEDIA_ROOT, the staticfiles
// storage, WHITENOISE_ROOT) by running settings_probe.py with the project's
// Python, root and environment. It runs in Start (never in Provision:
// `caddy validate` must not run Python) and on a deploy; the answer is
// cached across config reloads until the files the settings module loaded
// change. django_files handlers watch the answer (files_settings.go).

//go:embed settings_probe.py
var settingsProbe string

const (
	settingsProbeTimeout = 30 * time.Second
	settingsProbeMaxOut  = 1 << 20
)

// DjangoSettings is what the project's settings say about its files.
type DjangoSettings struct {
	SettingsModule string `json:"settings_module,omitempty"`
	// SettingsModuleFrom says where SettingsModule came from: "environment"
	// (DJANGO_SETTINGS_MODULE), or the file that sets it with
	// os.environ.setdefault: the app server's WSGI/ASGI module
	// ("config/wsgi.py"), else "manage.py".
	SettingsModuleFrom string `json:"settings_module_from,omitempty"`
	Django             string `json:"django,omitempty"`
	StaticURL          string `json:"static_url"`
	StaticRoot         string `json:"static_root"`
	MediaURL           string `json:"media_url"`
	MediaRoot          string `json:"media_root"`
	StaticStorage      string `json:"static_storage,omitempty"`
	Manifest           bool   `json:"manifest"`
	ManifestName       string `json:"manifest_name,omitempty"`
	StorageError       string `json:"storage_error,omitempty"`
	WhitenoiseRoot     string `json:"whitenoise_root,omitempty"`
	// The default storage's bucket when it is django-storages' S3 backend
	// (bucket_settings.go), or why that storage could not be read.
	MediaBucket       *MediaBucketSettings `json:"media_bucket,omitempty"`
	MediaStorageError string               `json:"media_storage_error,omitempty"`
	// Finders: where the staticfiles finders look (files_finders.go).
	Finders *StaticFinders `json:"finders,omitempty"`
}

// SettingsStatus is one reading of the settings (the admin API's JSON):
// the interpreter used, the settings, or why they could not be read.
type SettingsStatus struct {
	Python   string          `json:"python"`
	Dir      string          `json:"dir"`
	Settings *DjangoSettings `json:"settings,omitempty"`
	Error    string          `json:"error,omitempty"`
	ReadAt   time.Time       `json:"read_at"`
	Took     string          `json:"took,omitempty"`
}

// probeInput is what the answer depends on, besides the files the settings
// module loaded.
type probeInput struct {
	python    []string // the interpreter's command
	dir, user string
	env       []string
	// where the settings module is named when env does not name it: the
	// app server's WSGI/ASGI module (config.wsgi:application), manage.py
	entry, manage string
}

func (in probeInput) key() string {
	h := sha256.New()
	for _, s := range slices.Concat(in.python, []string{in.dir, in.user, in.entry, in.manage}, in.env) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileStamp identifies a version of a file the settings module loaded.
type fileStamp struct {
	path    string
	size    int64
	modTime time.Time
}

func stampFiles(paths []string) []fileStamp {
	out := make([]fileStamp, 0, len(paths))
	for _, p := range paths {
		st := fileStamp{path: p, size: -1}
		if fi, err := os.Stat(p); err == nil {
			st.size, st.modTime = fi.Size(), fi.ModTime()
		}
		out = append(out, st)
	}
	return out
}

// settingsCache keeps successful readings by probeInput key, across config
// reloads (the package-level registry of this concern).
var settingsCache = struct {
	sync.Mutex
	m map[string]cachedSettings
}{m: map[string]cachedSettings{}}

type cachedSettings struct {
	status *SettingsStatus
	files  []fileStamp
}

const settingsCacheMax = 32

// cachedSettingsFor returns the cached reading for in while none of the
// files it depends on changed.
func cachedSettingsFor(in probeInput) *SettingsStatus {
	settingsCache.Lock()
	c, ok := settingsCache.m[in.key()]
	settingsCache.Unlock()
	if !ok || !slices.Equal(stampFiles(stampPaths(c.files)), c.files) {
		return nil
	}
	return c.status
}

func stampPaths(fs []fileStamp) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.path
	}
	return out
}

func cacheSettings(in probeInput, st *SettingsStatus, files []string) {
	settingsCache.Lock()
	defer settingsCache.Unlock()
	if len(settingsCache.m) >= settingsCacheMax {
		clear(settingsCache.m)
	}
	settingsCache.m[in.key()] = cachedSettings{status: st, files: stampFiles(files)}
}

// probeOutput is settings_probe.py's JSON.
type probeOutput struct {
	DjangoSettings
	Error string   `json:"error"`
	Files []string `json:"files"`
	// never reported: kept unexported in MediaBucket
	MediaBucketCredentials *bucketCredentials `json:"media_bucket_credentials"`
}

// readSettings runs the probe for in (bounded by settingsProbeTimeout) and
// returns its reading (Error set when it failed) and the files the settings
// module loaded.
func readSettings(ctx context.Context, in probeInput, log *zap.Logger) (*SettingsStatus, []string) {
	start := time.Now()
	st := &SettingsStatus{Python: strings.Join(in.python, " "), Dir: in.dir, ReadAt: start}
	out, err := runProbe(ctx, in, log)
	st.Took = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		st.Error = err.Error()
		return st, nil
	}
	st.take(out)
	return st, out.Files
}

// take sets the reading from the probe's answer: its settings, or the
// error it reported.
func (st *SettingsStatus) take(out *probeOutput) {
	if out.Error != "" {
		st.Error = out.Error
		return
	}
	st.Settings = &out.DjangoSettings
	if b := st.Settings.MediaBucket; b != nil && out.MediaBucketCredentials != nil {
		b.creds = *out.MediaBucketCredentials
	}
}

// runProbe runs settings_probe.py with in's interpreter, directory, user
// and environment, and decodes what it prints; what it writes to stderr
// is logged.
func runProbe(ctx context.Context, in probeInput, log *zap.Logger) (*probeOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, settingsProbeTimeout)
	defer cancel()
	argv := append(slices.Clone(in.python), "-c", settingsProbe, in.entry, in.manage)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = in.dir, in.env
	if err := configureCmd(cmd, in.user); err != nil {
		return nil, err
	}
	// pipes of our own rather than exec's copying goroutines: with the
	// PID 1 reaper on, the exit status comes from waitCmd, not cmd.Wait
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = startCmd(cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("cannot run %s: %v", in.python[0], err)
	}
	stderr := &tailWriter{max: 4096, log: log}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(stderr, errR)
		errR.Close()
		close(copied)
	}()
	read := make(chan []byte, 1)
	go func() {
		data, _ := io.ReadAll(io.LimitReader(outR, settingsProbeMaxOut))
		_, _ = io.Copy(io.Discard, outR)
		outR.Close()
		read <- data
	}()
	st := waitOrKill(ctx, cmd, settingsProbeTimeout)
	data := <-read
	<-copied
	stderr.flush()
	if st.code != 0 || st.err != nil {
		return nil, fmt.Errorf("%s: %s: %s", strings.Join(in.python, " "), st, lastLine(stderr.String()))
	}
	out, err := decodeProbeOutput(data)
	if err != nil {
		return nil, fmt.Errorf("unreadable answer from %s: %v", in.python[0], err)
	}
	return out, nil
}

// decodeProbeOutput reads settings_probe.py's JSON.
func decodeProbeOutput(data []byte) (*probeOutput, error) {
	var out probeOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// pythonLauncher matches an interpreter's file name: python, python3,
// python3.11.
var pythonLauncher = regexp.MustCompile(`^python[0-9.]*$`)

// envRunners run a program in a project's environment: `uv run gunicorn`
// is read with `uv run python`.
var envRunners = []string{"uv", "poetry", "pipenv", "pdm", "hatch", "rye"}

// pythonCommand returns the command that runs the Python of an app
// server's launcher: the launcher itself when it is an interpreter
// (`/usr/bin/python3 -m uvicorn`), the interpreter on its `#!` line
// (directly or through `env`: `gunicorn`), or the same environment runner
// with python as the program (`uv run --no-sync gunicorn`); nil otherwise.
func pythonCommand(launcher, env []string) []string {
	if len(launcher) == 0 {
		return nil
	}
	prog := findProgram(launcher[0], env)
	if pythonLauncher.MatchString(filepath.Base(prog)) {
		return []string{prog}
	}
	words := shebang(prog)
	if len(words) > 0 && filepath.Base(words[0]) == "env" {
		words = slices.DeleteFunc(words[1:], func(w string) bool { return strings.HasPrefix(w, "-") })
		if len(words) > 0 {
			words[0] = findProgram(words[0], env)
		}
	}
	if len(words) > 0 && pythonLauncher.MatchString(filepath.Base(words[0])) {
		return words[:1]
	}
	if len(launcher) > 1 && slices.Contains(envRunners, filepath.Base(launcher[0])) {
		return append(slices.Clone(launcher[:len(launcher)-1]), "python")
	}
	return nil
}

// shebang returns the words of path's `#!` line, or nil.
func shebang(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 256).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil
	}
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return nil
	}
	return strings.Fields(rest)
}

// findProgram is prog as the process would find it in env's PATH, or
// prog unchanged when it is not there.
func findProgram(prog string, env []string) string {
	if p, err := lookPathIn(prog, envValue(env, "PATH")); err == nil {
		return p
	}
	return prog
}

// settingsState is a config's settings discovery: the current reading and
// the django_files handlers that use it.
type settingsState struct {
	mu       sync.Mutex
	cur      *SettingsStatus
	handlers []*DjangoFiles
	// run serialises readings (boot, deploys) and their delivery
	run sync.Mutex
}

// watchSettings makes h get every reading of the settings (see
// DjangoFiles.applySettings); called in h's Provision.
func (a *App) watchSettings(h *DjangoFiles) {
	a.settings.mu.Lock()
	defer a.settings.mu.Unlock()
	a.settings.handlers = append(a.settings.handlers, h)
}

// settingsHandlers returns the handlers that watch the settings.
func (a *App) settingsHandlers() []*DjangoFiles {
	a.settings.mu.Lock()
	defer a.settings.mu.Unlock()
	return slices.Clone(a.settings.handlers)
}

// SettingsStatus returns the current reading of the settings, or nil.
func (a *App) SettingsStatus() *SettingsStatus {
	a.settings.mu.Lock()
	defer a.settings.mu.Unlock()
	return a.settings.cur
}

// probeInput is how this config reads its settings: the interpreter (the
// `python` option, else the first app server's when its command is a
// Python launcher, else python3), that app server's directory, user and
// environment (else the root and the app's environment), and where the
// project names its settings module when the environment does not: that
// app server's WSGI/ASGI module, then the root's manage.py.
func (a *App) probeInput() probeInput {
	in := probeInput{dir: a.Root, env: a.env, manage: filepath.Join(a.Root, "manage.py")}
	if a.Python != "" {
		in.python = []string{a.Python}
	}
	if s := a.appServerSpec(""); s != nil {
		in.dir, in.env, in.user = s.Dir, s.Env, s.User
		in.entry = s.app
		if in.python == nil {
			in.python = pythonCommand(s.launcher, s.Env)
		}
	}
	if in.python == nil {
		in.python = []string{findProgram("python3", in.env)}
	}
	return in
}

// discoverSettings reads the settings (from the cache unless fresh) when
// a django_files handler uses them, and hands the reading to every such
// handler. A failed reading after a good one keeps the good one's values
// (its error is shown); a failed first reading leaves the defaults.
func (a *App) discoverSettings(ctx context.Context, fresh bool) {
	handlers := a.settingsHandlers()
	if len(handlers) == 0 {
		return
	}
	a.settings.run.Lock()
	defer a.settings.run.Unlock()
	in := a.probeInput()
	log := a.logger.Named("settings")
	st := (*SettingsStatus)(nil)
	if !fresh {
		st = cachedSettingsFor(in)
	}
	if st == nil {
		var files []string
		st, files = readSettings(ctx, in, log)
		if st.Error == "" {
			cacheSettings(in, st, files)
			log.Info("read the project's settings", zap.Strings("python", in.python),
				zap.String("settings_module", st.Settings.SettingsModule),
				zap.String("settings_module_from", st.Settings.SettingsModuleFrom), zap.String("django", st.Settings.Django),
				zap.String("took", st.Took))
		}
	}
	if st.Error != "" {
		prev := a.SettingsStatus()
		fallback := "the defaults"
		if prev != nil && prev.Settings != nil {
			keep := *st
			keep.Settings, fallback = prev.Settings, "the previous reading"
			st = &keep
		}
		log.Warn("cannot read the project's settings; django_files uses "+fallback,
			zap.Strings("python", in.python), zap.String("dir", in.dir), zap.String("error", st.Error))
	}
	a.settings.mu.Lock()
	a.settings.cur = st
	a.settings.mu.Unlock()
	for _, h := range handlers {
		h.applySettings(st)
	}
}
