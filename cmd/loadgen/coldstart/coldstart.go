// Package coldstart runs Lambda bootstraps as the Lambda service would: it builds them as the
// Makefile does and runs them as processes on an in-process fake Runtime API (Pool), timing
// each start to its first GET .../invocation/next (init). Sandbox and code download are not measured.
package coldstart

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// BuildFlags are the Makefile's Lambda build flags (LAMBDA_BUILD), without GOOS and GOARCH.
var BuildFlags = []string{"-trimpath", "-ldflags", "-s -w", "-tags", "lambda.norpc,production"}

// Build compiles package pkg of the module in root for goos/goarch (CGO_ENABLED=0, BuildFlags)
// to out, and returns the binary's size.
func Build(ctx context.Context, root, pkg, goos, goarch, out string) (int64, error) {
	cmd := exec.CommandContext(ctx, "go", slices.Concat([]string{"build"}, BuildFlags, []string{"-o", out, pkg})...)
	cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("coldstart: go build %s (%s/%s): %w\n%s", pkg, goos, goarch, err, bytes.TrimSpace(b))
	}
	fi, err := os.Stat(out)
	return fi.Size(), err
}

// Header names of the Lambda Runtime API, as aws-lambda-go reads them, and its path prefix.
const (
	HeaderRequestID   = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS  = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	Prefix            = "/2018-06-01/runtime"
)

// Response is what the function posted for one invocation.
type Response struct {
	RequestID string
	At        time.Time // when the POST arrived
	Body      []byte
	Error     bool // a POST to .../error (the handler failed) rather than .../response
}

// Pool is one function run as processes sharing a fake Runtime API: GET .../invocation/next
// waits for an Invoke's event; POST .../response or .../error answers it; an init error joins
// the last output a failed start reports. Processes start one after the other (no contention).
type Pool struct {
	Started   []time.Time     // when each process started
	Inits     []time.Duration // each process's start to its first GET .../invocation/next
	argv, env []string
	dir       string
	line      func(string) bool // sees each line of standard error; false: keep it for errors
	procs     []*exec.Cmd
	answered  atomic.Int64 // invocations answered: each sends its process back to GET next
	wg        sync.WaitGroup
	srv       *httptest.Server
	events    chan invocation
	arrived   chan struct{} // a GET next arrived (several arrivals before a receive: one value)
	done      chan struct{}
	once      sync.Once
	seq       atomic.Int64
	mu        sync.Mutex
	nexts     atomic.Int64 // GET next arrivals
	pending   map[string]chan Response
	tail      []string
}

type invocation struct {
	id    string
	event []byte
}

// NewPool starts the Runtime API of a pool of argv (in dir, with env; line, if set, sees each
// line of the processes' standard error), without processes.
func NewPool(argv []string, dir string, env []string, line func(string) bool) *Pool {
	p := &Pool{argv: argv, dir: dir, env: env, line: line, events: make(chan invocation),
		arrived: make(chan struct{}, 1), done: make(chan struct{}), pending: map[string]chan Response{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/invocation/next", p.next)
	mux.HandleFunc("POST "+Prefix+"/invocation/{id}/response", p.respond(false))
	mux.HandleFunc("POST "+Prefix+"/invocation/{id}/error", p.respond(true))
	mux.HandleFunc("POST "+Prefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.keep("init error: " + string(body))
		w.WriteHeader(http.StatusAccepted)
	})
	p.srv = httptest.NewServer(mux)
	return p
}

// StartPool starts a pool of n processes; it fails if one exits or reports an init error first.
func StartPool(ctx context.Context, n int, argv []string, dir string, env []string, line func(string) bool) (*Pool, error) {
	p := NewPool(argv, dir, env, line)
	if err := p.Grow(ctx, n); err != nil {
		p.Stop()
		return p, fmt.Errorf("%s: %w", argv[len(argv)-1], err)
	}
	return p, nil
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API: host:port, without a scheme.
func (p *Pool) Addr() string { return p.srv.Listener.Addr().String() }

// Grow starts processes until the pool has n.
func (p *Pool) Grow(ctx context.Context, n int) error {
	for len(p.procs) < n {
		if err := p.startOne(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pool) startOne(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Once every running process is back in GET next (one per process and answer), the next is the new one's.
	want := len(p.procs) + int(p.answered.Load())
	for p.Nexts() < want {
		select {
		case <-p.arrived:
		case <-ctx.Done():
			return fmt.Errorf("%d GET /invocation/next, want %d: %w", p.Nexts(), want, ctx.Err())
		}
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir, cmd.Stdout = p.dir, io.Discard // the functions' own logs (CloudWatch in AWS)
	cmd.Env = append(slices.Clip(p.env), "AWS_LAMBDA_RUNTIME_API="+p.Addr(), "LAMBDA_TASK_ROOT="+p.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	start := time.Now()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return err
	}
	p.procs, p.Started = append(p.procs, cmd), append(p.Started, start)
	exited := make(chan struct{})
	p.wg.Go(func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		for sc.Buffer(nil, 1<<20); sc.Scan(); {
			if p.line == nil || !p.line(sc.Text()) {
				p.keep(sc.Text())
			}
		}
		_ = cmd.Wait() // after the pipe is read to its end
	})
	for {
		select {
		case <-p.arrived:
			if p.Nexts() > want {
				p.Inits = append(p.Inits, time.Since(start))
				return nil
			}
		case <-exited:
			return fmt.Errorf("exited during init (%s); last output:\n%s", cmd.ProcessState, p.lastOutput())
		case <-ctx.Done():
			return fmt.Errorf("no GET /invocation/next (%w); last output:\n%s", ctx.Err(), p.lastOutput())
		}
	}
}

// keep adds a line to the last output, of which it keeps 8 lines.
func (p *Pool) keep(line string) {
	p.mu.Lock()
	p.tail = append(p.tail[max(0, len(p.tail)-7):], line)
	p.mu.Unlock()
}

func (p *Pool) lastOutput() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// Nexts returns how many GET .../invocation/next have arrived so far.
func (p *Pool) Nexts() int { return int(p.nexts.Load()) }

// Invoke hands event to the next GET .../invocation/next and waits for the answer or the end
// of ctx.
func (p *Pool) Invoke(ctx context.Context, event []byte) (Response, error) {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", p.seq.Add(1))
	ch := make(chan Response, 1)
	p.mu.Lock()
	p.pending[id] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
	}()
	select {
	case p.events <- invocation{id: id, event: event}:
	case <-ctx.Done():
		return Response{}, fmt.Errorf("coldstart: no GET /next: %w", ctx.Err())
	}
	select {
	case r := <-ch:
		p.answered.Add(1)
		return r, nil
	case <-ctx.Done():
		return Response{}, fmt.Errorf("coldstart: no answer to invocation %s: %w", id, ctx.Err())
	}
}

func (p *Pool) next(w http.ResponseWriter, r *http.Request) {
	p.nexts.Add(1)
	select {
	case p.arrived <- struct{}{}:
	default:
	}
	select {
	case inv := <-p.events:
		h := w.Header()
		h.Set(HeaderRequestID, inv.id)
		h.Set(HeaderDeadlineMS, strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set(HeaderFunctionARN, "arn:aws:lambda:us-east-1:123456789012:function:coldstart")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.event)
	case <-r.Context().Done():
	case <-p.done:
		http.Error(w, "runtime API closed", http.StatusGone)
	}
}

func (p *Pool) respond(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at, id := time.Now(), r.PathValue("id")
		body, err := io.ReadAll(r.Body)
		p.mu.Lock()
		ch, ok := p.pending[id]
		p.mu.Unlock()
		if err != nil || !ok {
			http.Error(w, fmt.Sprintf("unknown request id %s (%v)", id, err), http.StatusBadRequest)
			return
		}
		ch <- Response{RequestID: id, At: at, Body: body, Error: isError}
		w.WriteHeader(http.StatusAccepted)
	}
}

// Stop kills the processes, after reading their peak memory (VmHWM), and stops the Runtime API
// (a waiting GET next gets 410); it returns the largest peak in bytes.
func (p *Pool) Stop() (peakRSS int64) {
	for _, cmd := range p.procs {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				peakRSS = max(peakRSS, kb*1024)
			}
		}
		_ = cmd.Process.Kill()
	}
	p.procs = nil
	p.wg.Wait()
	p.once.Do(func() { close(p.done) })
	p.srv.Close()
	return peakRSS
}
