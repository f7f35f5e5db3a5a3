// Package coldstart runs Lambda bootstraps on this machine as the Lambda service would: it
// builds a function as the Makefile does, starts it as processes whose AWS_LAMBDA_RUNTIME_API is
// an in-process fake (RuntimeAPI), hands them events and times each process start to its first
// GET .../invocation/next (init). The sandbox and the download of the code are not measured.
package coldstart

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
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

// Build compiles the main package pkg (e.g. ./functions/checkout) of the module in root for
// goos/goarch with CGO_ENABLED=0 and BuildFlags, to out; it returns the size of the binary.
func Build(ctx context.Context, root, pkg, goos, goarch, out string) (int64, error) {
	cmd := exec.CommandContext(ctx, "go", slices.Concat([]string{"build"}, BuildFlags, []string{"-o", out, pkg})...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("coldstart: go build %s (%s/%s): %w\n%s", pkg, goos, goarch, err, bytes.TrimSpace(b))
	}
	fi, err := os.Stat(out)
	return fi.Size(), err
}

// Pool is one Lambda function run as execution environments: processes of one command sharing
// a RuntimeAPI, each handed one event at a time. The processes are started one after the other,
// so each one's init is timed without the others competing for the CPUs.
type Pool struct {
	API     *RuntimeAPI
	Started []time.Time     // when each process started
	Inits   []time.Duration // each process's start to its first GET .../invocation/next
	argv    []string
	dir     string
	env     []string
	line    func(string) bool // sees each line of standard error; false: keep it for errors
	procs   []*exec.Cmd
	// answered counts the invocations answered: each sends its process back to GET next.
	answered atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	tail     []string
}

// StartPool starts n processes of argv in dir with env; it fails if one exits or reports an
// init error before its first GET .../invocation/next. line (nil: none) sees every line the
// processes write to standard error.
func StartPool(ctx context.Context, n int, argv []string, dir string, env []string, line func(string) bool) (*Pool, error) {
	api, err := NewRuntimeAPI()
	if err != nil {
		return nil, err
	}
	p := &Pool{API: api, argv: argv, dir: dir, env: env, line: line}
	if err := p.Grow(ctx, n); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: %w", argv[len(argv)-1], err)
	}
	return p, nil
}

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
	// Every running process is back in GET next (one per process and per answer), so the next
	// GET to arrive is the new process's.
	want := len(p.procs) + int(p.answered.Load())
	for len(p.API.Nexts()) < want {
		select {
		case <-p.API.NextArrived():
		case <-ctx.Done():
			return fmt.Errorf("%d GET /invocation/next, want %d: %w", len(p.API.Nexts()), want, ctx.Err())
		}
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir, cmd.Stdout = p.dir, io.Discard // the functions' own logs (CloudWatch in AWS)
	cmd.Env = append(slices.Clip(p.env), "AWS_LAMBDA_RUNTIME_API="+p.API.Addr(), "LAMBDA_TASK_ROOT="+p.dir)
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
				p.mu.Lock()
				p.tail = append(p.tail[max(0, len(p.tail)-7):], sc.Text())
				p.mu.Unlock()
			}
		}
		_ = cmd.Wait() // after the pipe is read to its end
	})
	for {
		select {
		case <-p.API.NextArrived():
			if len(p.API.Nexts()) > want {
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

func (p *Pool) lastOutput() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// Invoke hands event to a free process and returns its answer.
func (p *Pool) Invoke(ctx context.Context, event []byte) (Response, error) {
	r, err := p.API.Invoke(ctx, event)
	if err == nil {
		p.answered.Add(1)
	}
	return r, err
}

// Stop reads the processes' peak memory, kills them and waits until their output is read; it
// returns the largest peak resident memory (bytes).
func (p *Pool) Stop() (peakRSS int64) {
	for _, cmd := range p.procs {
		if cmd.Process != nil {
			peakRSS = max(peakRSS, PeakRSS(cmd.Process.Pid))
			_ = cmd.Process.Kill()
		}
	}
	p.procs = nil
	p.wg.Wait()
	_ = p.API.Close()
	return peakRSS
}

// PeakRSS reads VmHWM (peak resident memory, bytes) of a Linux process (0: unknown).
func PeakRSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
