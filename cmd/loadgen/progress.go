package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a running scenario: a progress bar on a terminal, a plain line every few
// seconds otherwise (CI logs, make output piped to a file).
type progress interface {
	start(name string, total int64) // total <= 0: unknown (a duration)
	add(n int)
	finish()
}

func newProgress(w io.Writer) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w, every: 3 * time.Second}
}

// barProgress draws a schollz/progressbar bar.
type barProgress struct {
	w     io.Writer
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	name  string
	total int64
}

func (p *barProgress) start(name string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	p.name, p.total = name, total
	p.newBar()
}

func (p *barProgress) newBar() {
	max := p.total
	if max <= 0 {
		max = -1 // a spinner with the count and the rate
	}
	p.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-8s", p.name)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) add(n int) {
	p.mu.Lock()
	bar := p.bar
	p.mu.Unlock()
	if bar != nil {
		_ = bar.Add(n)
	}
}

func (p *barProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// lineProgress prints "name: n requests (r/s)" every few seconds.
type lineProgress struct {
	w     io.Writer
	every time.Duration
	n     atomic.Int64
	mu    sync.Mutex
	stop  chan struct{}
	done  chan struct{}
	began time.Time
}

func (p *lineProgress) start(name string, _ int64) {
	p.finish()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n.Store(0)
	p.began = time.Now()
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	stop, done := p.stop, p.done
	go func() {
		defer close(done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.mu.Lock()
				el := time.Since(p.began)
				p.mu.Unlock()
				n := p.n.Load()
				fmt.Fprintf(p.w, "  %s: %s, %d requests (%.0f/s)\n", name, el.Round(time.Second), n, float64(n)/el.Seconds())
			}
		}
	}()
}

func (p *lineProgress) add(n int) {
	p.n.Add(int64(n))
}

func (p *lineProgress) finish() {
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}
