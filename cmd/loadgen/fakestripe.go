package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// fakeStripe is the payment provider both functions of the side-by-side charge: the one
// endpoint they call (POST /v1/payment_intents, form-encoded, confirmed with a card), with
// Stripe's idempotency (the same Idempotency-Key answers the first PaymentIntent again). It
// counts the PaymentIntents it created, so a run can check one charge per key.
type fakeStripe struct {
	srv     *http.Server
	url     string
	mu      sync.Mutex
	byKey   map[string][]byte
	created int
}

func startFakeStripe() (*fakeStripe, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeStripe{byKey: map[string][]byte{}, url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/payment_intents", f.create)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakeStripe) close() { _ = f.srv.Close() }

// Created is the number of PaymentIntents created so far with an Idempotency-Key that match
// accepts.
func (f *fakeStripe) Created(match func(key string) bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.byKey {
		if match(k) {
			n++
		}
	}
	return n
}

func (f *fakeStripe) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.byKey[key]; ok && key != "" {
		w.Header().Set("Idempotent-Replayed", "true")
		_, _ = w.Write(b)
		return
	}
	amount, _ := strconv.ParseInt(r.PostForm.Get("amount"), 10, 64)
	sum := sha256.Sum256([]byte(key + strconv.Itoa(f.created)))
	id := "pi_" + hex.EncodeToString(sum[:12])
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "payment_intent", "amount": amount, "currency": r.PostForm.Get("currency"),
		"status": "succeeded", "client_secret": id + "_secret_bench", "livemode": false,
		"payment_method": r.PostForm.Get("payment_method"),
		"metadata":       map[string]string{"order_id": r.PostForm.Get("metadata[order_id]")},
	})
	f.created++
	if key != "" {
		f.byKey[key] = b
	}
	_, _ = w.Write(b)
}
