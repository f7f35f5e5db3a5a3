// Package coldstart measures the cold start of a Lambda bootstrap on this machine: it builds the
// function as the Makefile does (for the host's architecture), starts it as a process whose
// AWS_LAMBDA_RUNTIME_API is an in-process fake (RuntimeAPI), hands it one event and times the
// process start to its first GET .../invocation/next (init) and to its first answer.
//
// It measures the process, not the Lambda service: the sandbox, the download of the code and
// the network to DynamoDB are not in these figures.
package coldstart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// BuildFlags are the Makefile's Lambda build flags (LAMBDA_BUILD), without GOOS and GOARCH.
var BuildFlags = []string{"-trimpath", "-ldflags", "-s -w", "-tags", "lambda.norpc,production"}

// Build compiles the main package pkg (e.g. ./functions/checkout) of the module in root for
// goos/goarch with CGO_ENABLED=0 and BuildFlags, to out; it returns the size of the binary.
func Build(ctx context.Context, root, pkg, goos, goarch, out string) (int64, error) {
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("coldstart: go build %s (%s/%s): %w\n%s", pkg, goos, goarch, err, bytes.TrimSpace(b))
	}
	fi, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Sample is one cold start.
type Sample struct {
	// Init is the time from the process start to its first GET .../invocation/next.
	Init time.Duration
	// FirstResponse is the time from the process start to its answer to the first event.
	FirstResponse time.Duration
	// Status is the statusCode of the API Gateway response the function returned (0 if none).
	Status int
	// Error is set when the function posted to .../error instead of .../response.
	Error string
	// MaxRSS is the process's peak resident memory after the answer, in bytes (0 if unknown).
	MaxRSS int64
	// Body is what the function answered (for an HTTP API, the payload 2.0 response).
	Body []byte
}

// Run starts bin with env (and AWS_LAMBDA_RUNTIME_API pointing at a fresh RuntimeAPI), invokes
// it once with event, then kills it. Output of the process goes to log (nil: discarded).
func Run(ctx context.Context, bin string, env []string, event []byte, log *bytes.Buffer) (Sample, error) {
	api, err := NewRuntimeAPI()
	if err != nil {
		return Sample{}, err
	}
	defer api.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	cmd := exec.Command(bin)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(slices.Clip(env), "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "LAMBDA_TASK_ROOT="+filepath.Dir(bin))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if log != nil {
		cmd.Stdout, cmd.Stderr = log, log
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Sample{}, fmt.Errorf("coldstart: start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	go func() {
		select {
		case <-exited:
			cancel() // a process that died will not answer
		case <-ctx.Done():
		}
	}()

	resp, err := api.Invoke(ctx, event)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("coldstart: %s exited before answering (%s)", filepath.Base(bin), cmd.ProcessState)
		}
		return Sample{}, err
	}
	s := Sample{FirstResponse: resp.At.Sub(start), MaxRSS: PeakRSS(cmd.Process.Pid), Body: resp.Body}
	if nexts := api.Nexts(); len(nexts) > 0 {
		s.Init = nexts[0].Sub(start)
	}
	if resp.Error {
		s.Error = string(bytes.TrimSpace(resp.Body))
		return s, nil
	}
	var out struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(resp.Body, &out) == nil {
		s.Status = out.StatusCode
	}
	return s, nil
}

// PeakRSS reads VmHWM (peak resident memory, bytes) of a Linux process; 0 where /proc is not
// available.
func PeakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// Summary is the median and maximum of a series of samples.
type Summary struct {
	Runs                        int
	InitMedian, InitMax         time.Duration
	ResponseMedian, ResponseMax time.Duration
	MaxRSS                      int64
	Statuses                    map[int]int
	Errors                      int
}

// Summarize returns the median and maximum of samples.
func Summarize(samples []Sample) Summary {
	s := Summary{Runs: len(samples), Statuses: map[int]int{}}
	var init, resp []time.Duration
	for _, x := range samples {
		init, resp = append(init, x.Init), append(resp, x.FirstResponse)
		s.MaxRSS = max(s.MaxRSS, x.MaxRSS)
		if x.Error != "" {
			s.Errors++
		} else {
			s.Statuses[x.Status]++
		}
	}
	s.InitMedian, s.InitMax = MedianMax(init)
	s.ResponseMedian, s.ResponseMax = MedianMax(resp)
	return s
}

// MedianMax returns the median and the maximum of d (0, 0 when it is empty); d is left as it is.
func MedianMax(d []time.Duration) (median, maximum time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	n := len(d)
	if n%2 == 1 {
		median = d[n/2]
	} else {
		median = (d[n/2-1] + d[n/2]) / 2
	}
	return median, d[n-1]
}
