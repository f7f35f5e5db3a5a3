package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/checkout-idem/checkout/internal/idem"
)

// checkoutBody is the purchase every request makes: one tee-black-m at the price benchCatalog
// gives it (eur 2300, sent as the total the buyer was shown, so the price check runs), with a
// card the local provider charges.
const checkoutBody = `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur","payment_method":"pm_card_visa"}`

// pendingBody is checkoutBody without a card: the order stays pending until a webhook.
const pendingBody = `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2300,"currency":"eur"}`

// sample is what one client measured; samples of all clients are merged.
type sample struct {
	hist     *hdrhistogram.Histogram // microseconds
	status   map[int]int64
	errors   int64
	firstErr string
}

func newSample() *sample {
	return &sample{hist: hdrhistogram.New(1, (60 * time.Second).Microseconds(), 3), status: map[int]int64{}}
}

func (s *sample) merge(o *sample) {
	s.hist.Merge(o.hist)
	for k, v := range o.status {
		s.status[k] += v
	}
	s.errors += o.errors
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

func (s *sample) requests() int64 { return s.hist.TotalCount() }

func (s *sample) quantile(q float64) time.Duration {
	return time.Duration(s.hist.ValueAtQuantile(q)) * time.Microsecond
}

// loader sends checkouts from many clients over one keep-alive http.Client.
type loader struct {
	url     string
	client  *http.Client
	clients int
}

// post sends one checkout with key and records its latency (body read included) and status.
func (l *loader) post(ctx context.Context, key string, s *sample) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url+"/checkout", strings.NewReader(checkoutBody))
	if err != nil {
		panic(err) // the URL was parsed before
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(idem.KeyHeader, key)
	l.measure(ctx, req, s)
}

// get sends a GET of path and records its latency and status (not counted as progress).
func (l *loader) get(ctx context.Context, path string, s *sample) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url+path, nil)
	if err != nil {
		panic(err) // the URL was parsed before
	}
	l.measure(ctx, req, s)
}

// measure sends req and records in s its latency (body read included) and its status or
// error; it reports false when ctx was interrupted, which is not a measurement.
func (l *loader) measure(ctx context.Context, req *http.Request, s *sample) bool {
	start := time.Now()
	resp, err := l.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return false
	}
	_ = s.hist.RecordValue(max(elapsed.Microseconds(), 1))
	if err != nil {
		s.errors++
		if s.firstErr == "" {
			s.firstErr = err.Error()
		}
		return true
	}
	s.status[resp.StatusCode]++
	return true
}

// limit says when a scenario stops: after n requests in all, or at a deadline.
type limit struct {
	n        int64
	deadline time.Time
	sent     atomic.Int64
}

// take returns the number of the next request, or false when the scenario is over.
func (lim *limit) take() (int64, bool) {
	i := lim.sent.Add(1) - 1
	if lim.n > 0 {
		return i, i < lim.n
	}
	return i, time.Now().Before(lim.deadline)
}

// loop runs every client until lim says stop; request number i uses key(i).
func (l *loader) loop(ctx context.Context, lim *limit, key func(i int64) string) (*sample, time.Duration) {
	samples := make([]*sample, l.clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range samples {
		samples[c] = newSample()
		wg.Go(func() {
			for ctx.Err() == nil {
				i, ok := lim.take()
				if !ok {
					return
				}
				l.post(ctx, key(i), samples[c])
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := newSample()
	for _, s := range samples {
		total.merge(s)
	}
	return total, elapsed
}

// storm sends each key from every client at the same moment, one key after the other.
func (l *loader) storm(ctx context.Context, keys []string) (*sample, time.Duration) {
	samples := make([]*sample, l.clients)
	for c := range samples {
		samples[c] = newSample()
	}
	start := time.Now()
	for _, key := range keys {
		if ctx.Err() != nil {
			break
		}
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for c := range samples {
			wg.Go(func() {
				<-gate
				l.post(ctx, key, samples[c])
			})
		}
		close(gate)
		wg.Wait()
	}
	elapsed := time.Since(start)
	total := newSample()
	for _, s := range samples {
		total.merge(s)
	}
	return total, elapsed
}

// scenario is one kind of load. run returns the measured sample, how long it took and how many
// distinct keys it used (keys prepared beforehand included).
type scenario struct {
	about string
	// run calls begin when the measured requests start (after any preparation).
	run func(ctx context.Context, l *loader, o options, runID string, begin func()) (s *sample, elapsed time.Duration, keys int64)
}

func (o options) limit() *limit {
	return &limit{n: int64(o.requests), deadline: time.Now().Add(o.duration)}
}

var scenarios = map[string]scenario{
	"unique": {
		about: "every request a new key: the first-time path (claim, order, charge, completion)",
		run: func(ctx context.Context, l *loader, o options, runID string, begin func()) (*sample, time.Duration, int64) {
			begin()
			s, elapsed := l.loop(ctx, o.limit(), func(i int64) string { return fmt.Sprintf("%s-unique-%d", runID, i) })
			return s, elapsed, s.requests()
		},
	},
	"replay": {
		about: "keys completed beforehand, sent again: the stored response is replayed",
		run: func(ctx context.Context, l *loader, o options, runID string, begin func()) (*sample, time.Duration, int64) {
			keys := int64(o.replayKeys)
			key := func(i int64) string { return fmt.Sprintf("%s-replay-%d", runID, i%keys) }
			prep, _ := l.loop(ctx, &limit{n: keys}, key) // not measured
			if bad := prep.requests() - prep.status[http.StatusCreated]; bad > 0 {
				return prep, 0, keys // the orders check reports it
			}
			begin()
			s, elapsed := l.loop(ctx, o.limit(), key)
			return s, elapsed, keys
		},
	},
	"storm": {
		about: "every client sends the same key at the same moment, key after key: one wins, the others wait and replay",
		run: func(ctx context.Context, l *loader, o options, runID string, begin func()) (*sample, time.Duration, int64) {
			n := o.stormKeys
			if o.requests > 0 {
				n = max(1, o.requests/l.clients)
			}
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("%s-storm-%d", runID, i)
			}
			begin()
			s, elapsed := l.storm(ctx, keys)
			return s, elapsed, int64(n)
		},
	},
}
