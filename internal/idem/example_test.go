package idem_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/checkout-idem/checkout/internal/idem"
)

// A handler wrapped by the middleware runs once per key; every repeat gets the stored answer.
func ExampleMiddleware() {
	orders := 0
	checkout := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orders++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"order":%d}`, orders)
	})
	h := idem.Middleware(idem.Config{
		Store:  idem.NewMemoryStore(),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})(checkout)

	send := func(key, body string) {
		r := httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(body))
		r.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Idempotent-Replayed"), strings.TrimSpace(w.Body.String()))
	}
	send("k-1", `{"amount":100}`) // runs
	send("k-1", `{"amount":100}`) // replayed
	send("k-1", `{"amount":999}`) // same key, different request
	send("k-2", `{"amount":100}`) // a new key runs
	// Output:
	// 201  {"order":1}
	// 201 true {"order":1}
	// 422  {"type":"/problems/idempotency-key-reused","title":"Unprocessable Entity","status":422,"detail":"this Idempotency-Key was used with a different request; use a new key for a new request"}
	// 201  {"order":2}
}

// Any function can be made idempotent, not only an HTTP handler: here a job run twice for the
// same event charges once.
func ExampleGroup_Do() {
	g := idem.NewGroup(idem.NewMemoryStore(), idem.Options{})
	charges := 0
	charge := func(context.Context) (idem.Response, error) {
		charges++
		return idem.Response{Body: []byte(fmt.Sprintf("charge #%d", charges))}, nil
	}
	for range 2 {
		res, replayed, err := g.Do(context.Background(), idem.Call{Key: "evt_123", Fingerprint: "amount=100"}, charge)
		fmt.Println(string(res.Body), replayed, err)
	}
	_, _, err := g.Do(context.Background(), idem.Call{Key: "evt_123", Fingerprint: "amount=999"}, charge)
	fmt.Println(errors.Is(err, idem.ErrMismatch), charges)
	// Output:
	// charge #1 false <nil>
	// charge #1 true <nil>
	// true 1
}
