package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/checkout-idem/checkout/cmd/loadgen/capacity"
	"github.com/checkout-idem/checkout/cmd/loadgen/coldstart"
)

// pool is one Lambda function run as n execution environments: n processes of one command
// sharing a fake Runtime API, each handed one event at a time as the Lambda service does. The
// processes are started one after the other, so each one's init (start to its first GET
// .../invocation/next) is timed without the others competing for the CPUs. The DynamoDB
// requests they report on standard error (capacity.LinePrefix lines) are collected by
// invocation.
type pool struct {
	name  string
	api   *coldstart.RuntimeAPI
	procs []*proc
	inits []time.Duration
	// answered counts the invocations answered: each sends its process back to GET next.
	answered atomic.Int64
	argv     []string
	dir      string
	env      []string

	mu    sync.Mutex
	calls map[string][]capacity.Call // by Lambda request id
	wg    sync.WaitGroup
}

type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	rss    int64
	tail   *tailBuffer
}

// startPool starts n processes of argv in dir with env; it fails if one exits or reports an
// init error before its first GET .../invocation/next.
func startPool(ctx context.Context, name string, n int, argv []string, dir string, env []string) (*pool, error) {
	api, err := coldstart.NewRuntimeAPI()
	if err != nil {
		return nil, err
	}
	p := &pool{name: name, api: api, calls: map[string][]capacity.Call{}, argv: argv, dir: dir, env: env}
	if err := p.grow(ctx, n); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// grow starts processes until the pool has n.
func (p *pool) grow(ctx context.Context, n int) error {
	for len(p.procs) < n {
		if err := p.startOne(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

func (p *pool) startOne(ctx context.Context) error {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(slices.Clip(p.env), "AWS_LAMBDA_RUNTIME_API="+p.api.Addr(), "LAMBDA_TASK_ROOT="+p.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdout = io.Discard // the functions' own logs (CloudWatch in AWS)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	before, err := p.settle(ctx)
	if err != nil {
		return err
	}
	pr := &proc{cmd: cmd, exited: make(chan struct{}), tail: &tailBuffer{}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	p.procs = append(p.procs, pr)
	read := make(chan struct{})
	p.wg.Go(func() {
		defer close(read)
		p.read(stderr, pr.tail)
	})
	go func() {
		<-read // the pipe is read to its end before Wait closes it
		_ = cmd.Wait()
		close(pr.exited)
	}()
	for timeout := time.After(60 * time.Second); ; {
		select {
		case <-p.api.NextArrived():
			if len(p.api.Nexts()) > before {
				p.inits = append(p.inits, time.Since(start))
				return nil
			}
		case <-pr.exited:
			return fmt.Errorf("exited during init (%s); last output:\n%s", cmd.ProcessState, pr.tail.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return fmt.Errorf("no GET /invocation/next within 60 s; last output:\n%s", pr.tail.String())
		}
	}
}

// settle waits until every running process is back in GET .../invocation/next (one GET per
// process at start and one per answered invocation), so the next GET to arrive is a new
// process's, and returns how many GETs arrived so far.
func (p *pool) settle(ctx context.Context) (int, error) {
	want := len(p.procs) + int(p.answered.Load())
	for timeout := time.After(30 * time.Second); ; {
		if n := len(p.api.Nexts()); n >= want {
			return n, nil
		}
		select {
		case <-p.api.NextArrived():
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-timeout:
			return 0, fmt.Errorf("%d GET /invocation/next after 30 s, want %d", len(p.api.Nexts()), want)
		}
	}
}

// read collects the Call lines of one process until its standard error closes.
func (p *pool) read(r io.Reader, tail *tailBuffer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, capacity.LinePrefix)
		if !ok {
			tail.add(line)
			continue
		}
		var c capacity.Call
		if json.Unmarshal([]byte(rest), &c) != nil {
			continue
		}
		p.mu.Lock()
		p.calls[c.RequestID] = append(p.calls[c.RequestID], c)
		p.mu.Unlock()
	}
}

// invoke hands one event to a free process and returns its answer and how long it took.
func (p *pool) invoke(ctx context.Context, event []byte) (coldstart.Response, time.Duration, error) {
	start := time.Now()
	resp, err := p.api.Invoke(ctx, event)
	if err == nil {
		p.answered.Add(1)
	}
	return resp, time.Since(start), err
}

// stop reads each process's peak memory, kills them and waits until their output is read:
// every Call line is in p.calls afterwards.
func (p *pool) stop() {
	for _, pr := range p.procs {
		if pr.cmd.Process != nil {
			pr.rss = coldstart.PeakRSS(pr.cmd.Process.Pid)
			_ = pr.cmd.Process.Kill()
		}
	}
	p.wg.Wait()
	_ = p.api.Close()
}

// peakRSS is the largest peak resident memory of the processes (read by stop).
func (p *pool) peakRSS() int64 {
	var m int64
	for _, pr := range p.procs {
		m = max(m, pr.rss)
	}
	return m
}

// callsOf returns the DynamoDB requests of the invocations ids (after stop).
func (p *pool) callsOf(ids []string) []capacity.Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []capacity.Call
	for _, id := range ids {
		out = append(out, p.calls[id]...)
	}
	return out
}

// unattributed counts Call lines without an invocation id (a middleware that did not see it).
func (p *pool) unattributed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls[""])
}

// tailBuffer keeps the last lines a process wrote that were not Call lines, for errors.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > 8 {
		t.lines = t.lines[1:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
