package idem_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestConfigFingerprintAndMismatchDetail: a custom fingerprint decides what replays, its error
// answers 400 unclaimed, and MismatchDetail words the 422.
func TestConfigFingerprintAndMismatchDetail(t *testing.T) {
	store := testenv.NewKeys(nil)
	runs := 0
	h := idem.Middleware(idem.Config{
		Store:  store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Fingerprint: func(r *http.Request, body []byte) (string, error) {
			if len(body) == 0 {
				return "", errors.New("nothing to fingerprint")
			}
			return strings.ToLower(strings.TrimSpace(string(body))), nil // case and spaces do not count
		},
		MismatchDetail: "this event id was used for another event",
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		w.WriteHeader(http.StatusCreated)
	}))
	do := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
		r.Header.Set(idem.KeyHeader, "k")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	testenv.AssertProblem(t, do(""), http.StatusBadRequest, problem.InvalidRequest)
	if store.Len() != 0 || runs != 0 {
		t.Fatalf("a fingerprint error claimed %d records and ran %d times", store.Len(), runs)
	}
	if w := do("ABC"); w.Code != http.StatusCreated {
		t.Fatalf("first: %d", w.Code)
	}
	if w := do(" abc \n"); w.Header().Get(idem.ReplayedHeader) != "true" || runs != 1 {
		t.Fatalf("the same fingerprint did not replay: %d %v, runs %d", w.Code, w.Header(), runs)
	}
	if p := testenv.AssertProblem(t, do("abd"), http.StatusUnprocessableEntity, problem.KeyMismatch); p.Detail != "this event id was used for another event" {
		t.Fatalf("detail %q", p.Detail)
	}
}
