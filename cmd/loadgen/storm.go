package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/cmd/loadgen/capacity"
	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/localapi"
	"github.com/checkout-idem/checkout/internal/payment"
)

// Per-partition limits of a DynamoDB table (one item lives in one partition).
const (
	partitionRCU = 3000
	partitionWCU = 1000
)

// stormReport is n concurrent duplicates of one key through the HTTP handler.
type stormReport struct {
	duplicates       int
	elapsed          time.Duration
	statuses         map[int]int
	identical        int // 201 answers byte-identical to the first 201
	retryAfter       int // 409 answers with Retry-After
	orders, charges  int
	requests         int            // DynamoDB requests in all
	byOp             map[string]int // DynamoDB requests by operation
	rcu, wcu         float64
	peakRCU, peakWCU float64 // in any one-second window
	peakReads        int     // GetItem requests in any one-second window
	p50, p99         time.Duration
	failures         []string
}

// replays is the byte-identical replays: the 201s after the first (0 when none answered 201).
func (s *stormReport) replays() int { return max(s.identical-1, 0) }

type timedCall struct {
	at time.Time
	c  capacity.Call
}

// runStorm sends n requests with one new key at the same moment (a gate opens them all) to a
// fresh checkout API on loopback, with n connections, and checks exactly one order and one
// charge, and that every other answer is the first answer byte for byte or a 409 with
// Retry-After.
func runStorm(ctx context.Context, sys *system, n int, log io.Writer) (*stormReport, error) {
	fmt.Fprintf(log, "storm: %d concurrent duplicates of one key ...\n", n)
	var mu sync.Mutex
	var calls []timedCall
	cfg := sys.cfg
	prefix := fmt.Sprintf("storm-%s", randomID())
	cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable = prefix+"-idempotency", prefix+"-orders", prefix+"-catalog"
	deps, err := app.Load(ctx, cfg, io.Discard, app.Options{
		EnsureTables: true,
		DynamoDBOptions: []func(*dynamodb.Options){capacity.Option(func(c capacity.Call) {
			mu.Lock()
			calls = append(calls, timedCall{time.Now(), c})
			mu.Unlock()
		})},
	})
	if err != nil {
		return nil, err
	}
	defer dropTables(deps.DynamoDB, cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable)
	payments := payment.NewLocal()
	deps.Payments, deps.Provider = payments, "local"
	h, err := localapi.Handler(deps, nil)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: n, MaxIdleConnsPerHost: n, DisableCompression: true}}
	defer client.CloseIdleConnections()

	key := "storm-" + randomID()
	type answer struct {
		status     int
		body       []byte
		retryAfter string
		d          time.Duration
		err        error
	}
	answers := make([]answer, n)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/checkout", strings.NewReader(checkoutBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(idem.KeyHeader, key)
			<-gate
			t := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				answers[i] = answer{err: err, d: time.Since(t)}
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers[i] = answer{status: resp.StatusCode, body: body, retryAfter: resp.Header.Get("Retry-After"), d: time.Since(t), err: err}
		})
	}
	mu.Lock()
	calls = nil // table creation is not part of the storm
	mu.Unlock()
	start := time.Now()
	close(gate)
	wg.Wait()
	r := &stormReport{duplicates: n, elapsed: time.Since(start), statuses: map[int]int{}, byOp: map[string]int{}}

	var first []byte
	lat := newSample()
	for _, a := range answers {
		if a.err != nil {
			r.failures = append(r.failures, fmt.Sprintf("storm: a request failed: %v", a.err))
			continue
		}
		_ = lat.hist.RecordValue(max(a.d.Microseconds(), 1))
		r.statuses[a.status]++
		switch {
		case a.status == http.StatusCreated && first == nil:
			first = a.body
			r.identical++
		case a.status == http.StatusCreated && bytes.Equal(a.body, first):
			r.identical++
		case a.status == http.StatusConflict && a.retryAfter != "":
			r.retryAfter++
		}
	}
	r.p50, r.p99 = lat.quantile(50), lat.quantile(99)
	if bad := n - r.identical - r.retryAfter; bad > 0 {
		r.failures = append(r.failures, fmt.Sprintf("storm: %d answers neither the first answer byte for byte nor a 409 with Retry-After (statuses %v)", bad, r.statuses))
	}
	mu.Lock()
	r.requests = len(calls)
	for _, tc := range calls {
		r.byOp[tc.c.Op]++
		rcu, wcu, _ := tc.c.Units()
		r.rcu, r.wcu = r.rcu+rcu, r.wcu+wcu
	}
	r.peakRCU, r.peakWCU, r.peakReads = peakPerSecond(calls)
	mu.Unlock() // the orders Scan below is not part of the storm
	r.charges = payments.Created()
	if r.orders, err = countItems(ctx, deps.DynamoDB, cfg.OrdersTable); err != nil {
		return nil, err
	}
	if r.orders != 1 || r.charges != 1 {
		r.failures = append(r.failures, fmt.Sprintf("storm: %d orders and %d charges for one key", r.orders, r.charges))
	}
	fmt.Fprintf(log, "  %d duplicates in %s: statuses %v, %d identical replays, %d 409 + Retry-After, orders %d, charges %d, DynamoDB requests %d (%v), peak %.0f RCU/s %.0f WCU/s\n",
		n, r.elapsed.Round(time.Millisecond), r.statuses, r.replays(), r.retryAfter, r.orders, r.charges, r.requests, r.byOp, r.peakRCU, r.peakWCU)
	return r, nil
}

// peakPerSecond is the largest read and write units, and GetItem requests, in any window of
// one second starting at a request.
func peakPerSecond(calls []timedCall) (rcu, wcu float64, reads int) {
	sort.Slice(calls, func(i, j int) bool { return calls[i].at.Before(calls[j].at) })
	for i := range calls {
		var r, w float64
		n := 0
		for j := i; j < len(calls) && calls[j].at.Sub(calls[i].at) < time.Second; j++ {
			cr, cw, _ := calls[j].c.Units()
			r, w = r+cr, w+cw
			if calls[j].c.Op == "GetItem" {
				n++
			}
		}
		rcu, wcu, reads = max(rcu, r), max(wcu, w), max(reads, n)
	}
	return rcu, wcu, reads
}
