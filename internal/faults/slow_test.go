package faults_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestSlowProvider holds the first request's provider call while duplicates arrive. They wait
// for it at most the idempotency Wait (200 ms here, on the wall clock: the engine's waiting is
// real time) and answer 409 with Retry-After while it is held, or its 201, byte for byte, once
// it is released. The provider is called once.
func TestSlowProvider(t *testing.T) {
	const dupes = 10
	for _, store := range []string{"memory", "dynamodb"} {
		t.Run("on "+store, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			s := storesOn(t, store)
			local := payment.NewLocal()
			h := newCheckout(s, local, func(o *checkout.Options) { o.Wait = 200 * time.Millisecond })
			inProvider, release := make(chan struct{}), make(chan struct{})
			local.SetFault(func(_ payment.Request, attempt int) payment.Fault {
				if attempt == 1 {
					close(inProvider)
					return payment.Fault{Release: release}
				}
				return payment.Fault{}
			})
			const key = "slow-1"
			req := body(1)
			first := make(chan *httptest.ResponseRecorder, 1)
			go func() { first <- post(ctx, h, key, req) }()
			select {
			case <-inProvider:
			case <-ctx.Done():
				t.Fatal("the first request never reached the provider")
			}
			// duplicates sends dupes concurrent duplicates and calls during() while they run.
			duplicates := func(during func()) []*httptest.ResponseRecorder {
				answers := make([]*httptest.ResponseRecorder, dupes)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range dupes {
					wg.Go(func() {
						<-start
						answers[i] = post(ctx, h, key, req)
					})
				}
				close(start)
				during()
				wg.Wait()
				return answers
			}
			inProgress := func(w *httptest.ResponseRecorder) {
				t.Helper()
				testenv.AssertProblem(t, w, http.StatusConflict, problem.KeyInProgress)
				if w.Header().Get("Retry-After") == "" {
					t.Fatalf("409 without Retry-After: %v", w.Header())
				}
			}

			for _, w := range duplicates(func() {}) {
				inProgress(w) // the first is held throughout
			}
			var firstAnswer *httptest.ResponseRecorder
			racing := duplicates(func() {
				close(release)
				firstAnswer = <-first
			})
			if firstAnswer.Code != http.StatusCreated || replayed(firstAnswer) {
				t.Fatalf("the first request: %d %v %s", firstAnswer.Code, firstAnswer.Header(), firstAnswer.Body)
			}
			created := 0
			for _, w := range racing {
				if w.Code == http.StatusConflict {
					inProgress(w)
					continue
				}
				if w.Code != http.StatusCreated || !replayed(w) || w.Body.String() != firstAnswer.Body.String() {
					t.Fatalf("a duplicate racing the release: %d %v %s, want 409 or the replay of %s", w.Code, w.Header(), w.Body, firstAnswer.Body)
				}
				created++
			}
			t.Logf("duplicates racing the release: %d replayed the 201, %d answered 409", created, dupes-created)
			for _, w := range duplicates(func() {}) {
				if w.Code != http.StatusCreated || !replayed(w) || w.Body.String() != firstAnswer.Body.String() {
					t.Fatalf("a duplicate after completion: %d %s, want the replay of %s", w.Code, w.Body, firstAnswer.Body)
				}
			}
			if local.Calls() != 1 {
				t.Fatalf("%d provider calls, want 1", local.Calls())
			}
			assertCounts(t, s, local, counts{orders: 1, charges: 1, records: 1})
		})
	}
}
