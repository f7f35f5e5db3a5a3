package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
)

// fakeStripe is the payment provider both functions of the side-by-side charge: the one
// endpoint they call (POST /v1/payment_intents, form-encoded, confirmed with a card), with
// Stripe's idempotency (the same Idempotency-Key answers the first PaymentIntent again). It
// keeps the PaymentIntents by key, so a run can check one charge per key.
type fakeStripe struct {
	*httptest.Server
	mu    sync.Mutex
	byKey map[string][]byte
}

func startFakeStripe() *fakeStripe {
	f := &fakeStripe{byKey: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.URL.Path != "/v1/payment_intents" {
			http.Error(w, fmt.Sprint("fake Stripe: ", r.Method, r.URL.Path, err), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		key, id := r.Header.Get("Idempotency-Key"), fmt.Sprintf("pi_bench%016d", len(f.byKey))
		if b, ok := f.byKey[key]; ok && key != "" {
			w.Header().Set("Idempotent-Replayed", "true")
			_, _ = w.Write(b)
			return
		}
		amount, form := 0, r.PostForm.Get
		_, _ = fmt.Sscan(form("amount"), &amount)
		b, _ := json.Marshal(map[string]any{"id": id, "object": "payment_intent", "amount": amount, "currency": form("currency"), "status": "succeeded",
			"client_secret": id + "_secret_bench", "livemode": false, "payment_method": form("payment_method"), "metadata": map[string]string{"order_id": form("metadata[order_id]")}})
		if key != "" {
			f.byKey[key] = b
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	return f
}

// created is the number of PaymentIntents created with an Idempotency-Key that match accepts.
func (f *fakeStripe) created(match func(key string) bool) (n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.byKey {
		if match(k) {
			n++
		}
	}
	return n
}
