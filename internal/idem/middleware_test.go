package idem_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// outcomes counts the Outcome of every "idempotency" line of logs.
func outcomes(t *testing.T, logs *testenv.LogBuffer) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == "idempotency" {
			n[m["Outcome"].(string)]++
		}
	}
	return n
}

// countingStore wraps a store to count claims and signal when n claims were made.
type countingStore struct {
	idem.Store
	claims  atomic.Int32
	target  int32
	reached chan struct{}
	once    sync.Once
	last    atomic.Pointer[idem.Record]
}

func (s *countingStore) Claim(ctx context.Context, rec idem.Record, now time.Time, g ...idem.Write) (*idem.Record, error) {
	s.last.Store(&rec)
	if s.claims.Add(1) == s.target {
		s.once.Do(func() { close(s.reached) })
	}
	return s.Store.Claim(ctx, rec, now, g...)
}

// env is a middleware under test with its handler's call count.
type env struct {
	store *countingStore
	logs  *testenv.LogBuffer
	calls atomic.Int32
	h     http.Handler
	fix   fixture
}

func newEnv(t *testing.T, fix fixture, cfg idem.Config, handler http.HandlerFunc) *env {
	e := &env{logs: &testenv.LogBuffer{}, fix: fix}
	e.store = &countingStore{Store: fix.store, target: -1, reached: make(chan struct{})}
	cfg.Store = e.store
	cfg.Logger = slog.New(slog.NewJSONHandler(e.logs, nil))
	if cfg.Scope == "" {
		cfg.Scope = "POST /checkout"
	}
	e.h = idem.Middleware(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		handler(w, r)
	}))
	return e
}

func (e *env) do(key, body string, mods ...func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(body))
	if key != "" {
		r.Header.Set(idem.KeyHeader, key)
	}
	for _, m := range mods {
		m(r)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func created(w http.ResponseWriter, r *http.Request) {
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(r.Body)
	info, _ := idem.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"order_id":%q,"echo":%q,"nonce":%q}`, info.ScopedKey[:16], body.String(), info.Owner)
}

func TestMiddleware(t *testing.T) {
	for name, newFixture := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("64 concurrent requests with one key run the handler once and get identical answers", func(t *testing.T) {
				const n = 64
				var e *env
				e = newEnv(t, newFixture(t), idem.Config{Wait: 20 * time.Second}, func(w http.ResponseWriter, r *http.Request) {
					<-e.store.reached // hold the claim until every request has tried to claim
					created(w, r)
				})
				e.store.target = n
				answers := make([]*httptest.ResponseRecorder, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { answers[i] = e.do("storm-1", `{"cart_id":"c1"}`) })
				}
				wg.Wait()
				if c := e.calls.Load(); c != 1 {
					t.Fatalf("handler ran %d times, want 1", c)
				}
				replayed := 0
				for _, a := range answers {
					if a.Code != http.StatusCreated || a.Body.String() != answers[0].Body.String() ||
						a.Header().Get("Content-Type") != "application/json" {
						t.Fatalf("answer %d %s differs from %d %s", a.Code, a.Body, answers[0].Code, answers[0].Body)
					}
					if a.Header().Get(idem.ReplayedHeader) == "true" {
						replayed++
					}
				}
				if replayed != n-1 {
					t.Fatalf("%d replays, want %d", replayed, n-1)
				}
				if got := outcomes(t, e.logs); got["executed"] != 1 || got["replayed"] != n-1 {
					t.Fatalf("logged outcomes %v", got)
				}
			})
			t.Run("a replay repeats status, headers and body byte for byte", func(t *testing.T) {
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/problem+json")
					w.Header().Set("X-Decline", "card_declined")
					w.WriteHeader(http.StatusPaymentRequired)
					fmt.Fprint(w, `{"type":"/problems/payment-declined"}`+"\n")
				})
				first := e.do("k", `{}`)
				second := e.do("k", `{}`)
				if first.Code != 402 || second.Code != 402 || first.Body.String() != second.Body.String() ||
					second.Header().Get("X-Decline") != "card_declined" || second.Header().Get("Content-Type") != "application/problem+json" {
					t.Fatalf("first %d %v %q, second %d %v %q", first.Code, first.Header(), first.Body, second.Code, second.Header(), second.Body)
				}
				if first.Header().Get(idem.ReplayedHeader) != "" || second.Header().Get(idem.ReplayedHeader) != "true" {
					t.Fatal("Idempotent-Replayed must mark replays only")
				}
				if e.calls.Load() != 1 {
					t.Fatalf("handler ran %d times", e.calls.Load())
				}
			})
			t.Run("a bare key and its quoted structured-field form are the same key", func(t *testing.T) {
				e := newEnv(t, newFixture(t), idem.Config{}, created)
				a, b := e.do("order-42", `{}`), e.do(`"order-42"`, `{}`)
				if a.Body.String() != b.Body.String() || b.Header().Get(idem.ReplayedHeader) != "true" {
					t.Fatalf("quoted key not normalised: %s / %s", a.Body, b.Body)
				}
			})
			t.Run("a missing or malformed key answers 400 and stores nothing", func(t *testing.T) {
				e := newEnv(t, newFixture(t), idem.Config{}, created)
				testenv.AssertProblem(t, e.do("", `{}`), 400, problem.KeyMissing)
				testenv.AssertProblem(t, e.do(strings.Repeat("k", 256), `{}`), 400, problem.KeyInvalid)
				testenv.AssertProblem(t, e.do(`"unterminated`, `{}`), 400, problem.KeyInvalid)
				if e.calls.Load() != 0 || e.store.claims.Load() != 0 {
					t.Fatalf("calls %d, claims %d; want none", e.calls.Load(), e.store.claims.Load())
				}
			})
			t.Run("a body over the cap answers 413 unclaimed", func(t *testing.T) {
				e := newEnv(t, newFixture(t), idem.Config{MaxBody: 10}, created)
				testenv.AssertProblem(t, e.do("k", strings.Repeat("x", 11)), 413, problem.BodyTooLarge)
				if e.store.claims.Load() != 0 {
					t.Fatal("claimed an oversized request")
				}
			})
			t.Run("the same key with a different body answers 422 without running", func(t *testing.T) {
				e := newEnv(t, newFixture(t), idem.Config{}, created)
				e.do("k", `{"amount":100}`)
				testenv.AssertProblem(t, e.do("k", `{"amount":999}`), 422, problem.KeyMismatch)
				if e.calls.Load() != 1 {
					t.Fatalf("handler ran %d times", e.calls.Load())
				}
				if got := outcomes(t, e.logs); got["mismatch"] != 1 {
					t.Fatalf("outcomes %v", got)
				}
			})
			t.Run("callers with different principals never share a key", func(t *testing.T) {
				e := newEnv(t, newFixture(t), idem.Config{Principal: func(r *http.Request) string { return r.Header.Get("X-Caller") }}, created)
				a := e.do("k", `{}`, func(r *http.Request) { r.Header.Set("X-Caller", "alice") })
				b := e.do("k", `{}`, func(r *http.Request) { r.Header.Set("X-Caller", "bob") })
				if e.calls.Load() != 2 || a.Body.String() == b.Body.String() || b.Header().Get(idem.ReplayedHeader) != "" {
					t.Fatalf("bob received alice's answer: %s", b.Body)
				}
			})
			t.Run("a 5xx releases the claim and the retry runs", func(t *testing.T) {
				var fail atomic.Bool
				fail.Store(true)
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) {
					if fail.Load() {
						problem.Write(w, problem.New(502, problem.ProviderError, "provider down"))
						return
					}
					created(w, r)
				})
				if w := e.do("k", `{}`); w.Code != 502 {
					t.Fatalf("first = %d", w.Code)
				}
				fail.Store(false)
				if w := e.do("k", `{}`); w.Code != 201 || w.Header().Get(idem.ReplayedHeader) != "" {
					t.Fatalf("retry = %d %v", w.Code, w.Header())
				}
				if w := e.do("k", `{}`); w.Code != 201 || w.Header().Get(idem.ReplayedHeader) != "true" {
					t.Fatalf("third = %d %v", w.Code, w.Header())
				}
				if e.calls.Load() != 2 {
					t.Fatalf("handler ran %d times, want 2", e.calls.Load())
				}
				if got := outcomes(t, e.logs); got["released"] != 1 || got["executed"] != 1 || got["replayed"] != 1 {
					t.Fatalf("outcomes %v", got)
				}
			})
			t.Run("a 409 after Release is answered, not stored, and the retry runs", func(t *testing.T) {
				var short atomic.Bool
				short.Store(true)
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) {
					if short.Load() {
						if !idem.Release(r.Context()) {
							t.Error("Release outside the claim")
						}
						problem.Write(w, problem.New(409, problem.OutOfStock, "sold out"))
						return
					}
					created(w, r)
				})
				if w := e.do("k", `{}`); w.Code != 409 || w.Header().Get(idem.ReplayedHeader) != "" {
					t.Fatalf("first = %d", w.Code)
				}
				short.Store(false)
				if w := e.do("k", `{}`); w.Code != 201 || w.Header().Get(idem.ReplayedHeader) != "" {
					t.Fatalf("retry = %d %v", w.Code, w.Header())
				}
				if e.calls.Load() != 2 {
					t.Fatalf("handler ran %d times, want 2", e.calls.Load())
				}
				if idem.Release(context.Background()) {
					t.Fatal("Release reported a claim outside one")
				}
			})
			t.Run("a panic answers 500 without a stack, releases, and the retry runs", func(t *testing.T) {
				var boom atomic.Bool
				boom.Store(true)
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) {
					if boom.Load() {
						panic("nil map somewhere")
					}
					created(w, r)
				})
				testenv.AssertProblem(t, e.do("k", `{}`), 500, problem.Internal)
				boom.Store(false)
				if w := e.do("k", `{}`); w.Code != 201 || w.Header().Get(idem.ReplayedHeader) != "" {
					t.Fatalf("retry = %d %v", w.Code, w.Header())
				}
				if e.calls.Load() != 2 {
					t.Fatalf("handler ran %d times, want 2", e.calls.Load())
				}
			})
			t.Run("a request cancelled after its handler answered stores the answer", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) {
					created(w, r)
					cancel() // the client goes away after the work was done
				})
				first := e.do("k", `{}`, func(r *http.Request) { *r = *r.WithContext(ctx) })
				retry := e.do("k", `{}`)
				if retry.Code != 201 || retry.Header().Get(idem.ReplayedHeader) != "true" || retry.Body.String() != first.Body.String() {
					t.Fatalf("retry after cancel = %d %v %s, want the stored 201 %s", retry.Code, retry.Header(), retry.Body, first.Body)
				}
				if e.calls.Load() != 1 {
					t.Fatalf("handler ran %d times, want 1", e.calls.Load())
				}
			})
			t.Run("a handler that fails because its request was cancelled releases the claim", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("X-Cancel") != "" {
						cancel() // the client goes away mid-request
						<-r.Context().Done()
						w.WriteHeader(http.StatusServiceUnavailable)
						return
					}
					created(w, r)
				})
				e.do("k", `{}`, func(r *http.Request) {
					*r = *r.WithContext(ctx)
					r.Header.Set("X-Cancel", "1")
				})
				if w := e.do("k", `{}`); w.Code != 201 || w.Header().Get(idem.ReplayedHeader) != "" {
					t.Fatalf("retry after cancel = %d %v", w.Code, w.Header())
				}
				if got := outcomes(t, e.logs); got["released"] != 1 || got["executed"] != 1 {
					t.Fatalf("outcomes %v", got)
				}
			})
			t.Run("a duplicate waits for the first request and replays its answer", func(t *testing.T) {
				release := make(chan struct{})
				e := newEnv(t, newFixture(t), idem.Config{Wait: 20 * time.Second}, func(w http.ResponseWriter, r *http.Request) {
					<-release
					created(w, r)
				})
				e.store.target = 2
				first := make(chan *httptest.ResponseRecorder)
				go func() { first <- e.do("k", `{}`) }()
				second := make(chan *httptest.ResponseRecorder)
				go func() { second <- e.do("k", `{}`) }()
				<-e.store.reached // both have claimed; the second now waits
				close(release)
				a, b := <-first, <-second
				if a.Body.String() != b.Body.String() || e.calls.Load() != 1 {
					t.Fatalf("first %s, second %s, calls %d", a.Body, b.Body, e.calls.Load())
				}
			})
			t.Run("a duplicate still in progress after the wait answers 409 with Retry-After", func(t *testing.T) {
				release, started := make(chan struct{}), make(chan struct{})
				e := newEnv(t, newFixture(t), idem.Config{Wait: 150 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
					close(started)
					<-release
					created(w, r)
				})
				first := make(chan *httptest.ResponseRecorder)
				go func() { first <- e.do("k", `{}`) }()
				<-started
				w := e.do("k", `{}`)
				testenv.AssertProblem(t, w, 409, problem.KeyInProgress)
				if ra := w.Header().Get("Retry-After"); ra == "" || ra == "0" {
					t.Fatalf("Retry-After = %q", ra)
				}
				close(release)
				a := <-first
				if b := e.do("k", `{}`); b.Body.String() != a.Body.String() || b.Header().Get(idem.ReplayedHeader) != "true" {
					t.Fatalf("after completion: %d %s", b.Code, b.Body)
				}
				if got := outcomes(t, e.logs); got["conflict"] != 1 {
					t.Fatalf("outcomes %v", got)
				}
			})
			t.Run("a record past its TTL but still stored is treated as absent", func(t *testing.T) {
				clk := testenv.NewClock(t0)
				e := newEnv(t, newFixture(t), idem.Config{Now: clk.Now, TTL: time.Hour}, created)
				a := e.do("k", `{}`)
				clk.Add(time.Hour - time.Second)
				if w := e.do("k", `{}`); w.Header().Get(idem.ReplayedHeader) != "true" {
					t.Fatal("not replayed within the TTL")
				}
				clk.Add(time.Second)
				b := e.do("k", `{}`)
				if b.Header().Get(idem.ReplayedHeader) != "" || b.Body.String() == a.Body.String() || e.calls.Load() != 2 {
					t.Fatalf("expired record replayed: %s (calls %d)", b.Body, e.calls.Load())
				}
			})
			t.Run("a lease that ran out is taken over and the old owner's completion is refused", func(t *testing.T) {
				clk := testenv.NewClock(t0)
				release, started := make(chan struct{}), make(chan struct{})
				e := newEnv(t, newFixture(t), idem.Config{Now: clk.Now, Lease: 10 * time.Second, Wait: 20 * time.Second},
					func(w http.ResponseWriter, r *http.Request) {
						if r.Header.Get("X-Stuck") != "" {
							close(started) // it holds the claim now
							<-release
						}
						created(w, r)
					})
				stuck := make(chan *httptest.ResponseRecorder)
				go func() { stuck <- e.do("k", `{}`, func(r *http.Request) { r.Header.Set("X-Stuck", "1") }) }()
				<-started
				clk.Add(10 * time.Second) // the stuck request's lease ends
				second := e.do("k", `{}`)
				if second.Code != 201 || second.Header().Get(idem.ReplayedHeader) != "" {
					t.Fatalf("takeover = %d %v %s", second.Code, second.Header(), second.Body)
				}
				close(release)
				zombie := <-stuck
				if zombie.Body.String() != second.Body.String() || zombie.Header().Get(idem.ReplayedHeader) != "true" {
					t.Fatalf("old owner answered %s, want the new owner's result %s", zombie.Body, second.Body)
				}
				if w := e.do("k", `{}`); w.Body.String() != second.Body.String() {
					t.Fatalf("stored result %s, want %s", w.Body, second.Body)
				}
				if e.calls.Load() != 2 {
					t.Fatalf("handler ran %d times, want 2", e.calls.Load())
				}
			})
			t.Run("the lease ends when the request's remaining time does, on the injected clock", func(t *testing.T) {
				clk := testenv.NewClock(t0)
				e := newEnv(t, newFixture(t), idem.Config{Now: clk.Now}, created)
				e.do("k", `{}`, func(r *http.Request) {
					ctx, cancel := context.WithTimeout(r.Context(), 7*time.Second) // Lambda's remaining time
					t.Cleanup(cancel)
					*r = *r.WithContext(ctx)
				})
				got := e.store.last.Load().LeaseUntil
				if want := t0.Add(7 * time.Second); got.After(want) || got.Before(want.Add(-time.Second)) {
					t.Fatalf("lease until %v, want just under %v", got, want)
				}
			})
			t.Run("a response too large to store reaches its caller; replays answer 409", func(t *testing.T) {
				big := make([]byte, idem.MaxStored+1)
				randomish(big)
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big) })
				if w := e.do("k", `{}`); w.Code != 200 || !bytes.Equal(w.Body.Bytes(), big) {
					t.Fatalf("first = %d, %d bytes", w.Code, w.Body.Len())
				}
				testenv.AssertProblem(t, e.do("k", `{}`), 409, problem.ResponseTooLarge)
				if e.calls.Load() != 1 {
					t.Fatal("ran again")
				}
			})
			t.Run("a large compressible response is stored and replayed exactly", func(t *testing.T) {
				body := bytes.Repeat([]byte(`{"sku":"tea","qty":1},`), 40000) // 880 KB
				e := newEnv(t, newFixture(t), idem.Config{}, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
				e.do("k", `{}`)
				if w := e.do("k", `{}`); !bytes.Equal(w.Body.Bytes(), body) || w.Header().Get(idem.ReplayedHeader) != "true" {
					t.Fatalf("replay %d bytes, want %d", w.Body.Len(), len(body))
				}
			})
			t.Run("attached writes commit with the response; a failing one releases with 409", func(t *testing.T) {
				f := newFixture(t)
				e := newEnv(t, f, idem.Config{}, func(w http.ResponseWriter, r *http.Request) {
					if !idem.Attach(r.Context(), f.marker("order-1")) {
						t.Error("Attach outside a claim")
					}
					created(w, r)
				})
				if w := e.do("k1", `{}`); w.Code != 201 {
					t.Fatal(w.Code)
				}
				testenv.AssertProblem(t, e.do("k2", `{}`), 409, problem.KeyInProgress)
				if n := f.markers(t); n != 1 {
					t.Fatalf("%d markers, want 1", n)
				}
				// k2 was released, not stored: it runs again.
				e.do("k2", `{}`)
				if e.calls.Load() != 3 {
					t.Fatalf("calls %d, want 3", e.calls.Load())
				}
			})
			t.Run("a failing claim guard hands over to GuardFailed and stores nothing", func(t *testing.T) {
				f := newFixture(t)
				if _, err := f.store.Claim(context.Background(), newRecord("x", "o", t0), t0, f.marker("order-of-k")); err != nil {
					t.Fatal(err)
				}
				e := newEnv(t, f, idem.Config{
					Guard: func(*http.Request, string) ([]idem.Write, error) {
						return []idem.Write{f.markerAbsent("order-of-k")}, nil
					},
					GuardFailed: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						info, _ := idem.FromContext(r.Context())
						w.WriteHeader(http.StatusOK)
						fmt.Fprintf(w, "existing order for %s", info.Key)
					}),
				}, created)
				w := e.do("k", `{}`)
				if w.Code != 200 || w.Body.String() != "existing order for k" || e.calls.Load() != 0 {
					t.Fatalf("got %d %s, calls %d", w.Code, w.Body, e.calls.Load())
				}
				if got := outcomes(t, e.logs); got["guarded"] != 1 {
					t.Fatalf("outcomes %v", got)
				}
			})
			t.Run("each request logs one JSON line with an EMF block", func(t *testing.T) {
				e := newEnv(t, newFixture(t), idem.Config{Namespace: "Test/Idem"}, created)
				e.do("k", `{}`)
				var m struct {
					Outcome  string
					Requests int
					AWS      struct {
						CloudWatchMetrics []struct {
							Namespace  string
							Dimensions [][]string
							Metrics    []struct{ Name, Unit string }
						}
					} `json:"_aws"`
				}
				line := strings.TrimSpace(e.logs.String())
				if strings.Count(line, "\n") != 0 {
					t.Fatalf("want one line, got %q", line)
				}
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatal(err)
				}
				cw := m.AWS.CloudWatchMetrics
				if m.Outcome != "executed" || m.Requests != 1 || len(cw) != 1 || cw[0].Namespace != "Test/Idem" ||
					cw[0].Dimensions[0][0] != "Outcome" || cw[0].Metrics[0].Name != "Requests" {
					t.Fatalf("log line %s", line)
				}
				if strings.Contains(line, `"k"`) {
					t.Fatalf("the raw client key is logged: %s", line)
				}
			})
		})
	}
}

// randomish fills b with xorshift output, which gzip cannot shrink.
func randomish(b []byte) {
	x := uint64(88172645463325252)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
}
