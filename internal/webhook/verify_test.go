package webhook

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Fixed clock and secrets: no test reads the wall clock or sleeps.
var (
	now       = time.Unix(1767225605, 0).UTC()
	secretOld = "whsec_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xk"
	secretNew = "whsec_bmV3LW5ldy1uZXctbmV3LW5ldy1uZXctbmV3"
	secretBad = "whsec_YmFkLWJhZC1iYWQtYmFkLWJhZC1iYWQtYmFk"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// v1Of returns the `v1=<hex>` entry of a SignStripe value.
func v1Of(header string) string {
	_, v1, _ := strings.Cut(header, ",")
	return v1
}

func stripeHdr(v string) http.Header { return http.Header{"Stripe-Signature": {v}} }

func TestStripeVerifier(t *testing.T) {
	body := fixture(t, "payment_intent_succeeded.json")
	ts := now.Add(-10 * time.Second)
	tsStr := strconv.FormatInt(ts.Unix(), 10)
	signedOld := SignStripe(secretOld, ts, body)
	signedNew := SignStripe(secretNew, ts, body)
	rotated := signedOld + "," + v1Of(signedNew)
	fakeV0 := "v0=" + strings.Repeat("ab", 32)

	both := StripeVerifier{Secrets: []string{secretOld, secretNew}}
	oldOnly := StripeVerifier{Secrets: []string{secretOld}}
	newOnly := StripeVerifier{Secrets: []string{secretNew}}

	tests := []struct {
		name string
		v    StripeVerifier
		h    http.Header
		body []byte
		now  time.Time
		want error // nil: accepted
	}{
		{"a valid signature is accepted", oldOnly, stripeHdr(signedOld), body, now, nil},
		{"during a rotation a header with one v1 per secret is accepted", both, stripeHdr(rotated), body, now, nil},
		{"a header whose only valid v1 is for the second secret is accepted", both, stripeHdr(signedNew), body, now, nil},
		{"a rotated header is accepted by a verifier that only knows the new secret", newOnly, stripeHdr(rotated), body, now, nil},
		{"a rotated header whose valid v1 comes last is accepted", oldOnly, stripeHdr("t=" + tsStr + "," + v1Of(signedNew) + "," + v1Of(signedOld)), body, now, nil},
		{"a wrong secret is refused", StripeVerifier{Secrets: []string{secretBad}}, stripeHdr(signedOld), body, now, ErrBadSignature},
		{"a tampered body is refused", oldOnly, stripeHdr(signedOld), append([]byte(" "), body...), now, ErrBadSignature},
		{"a signature replayed with another timestamp is refused", oldOnly, stripeHdr("t=" + strconv.FormatInt(now.Unix(), 10) + "," + v1Of(signedOld)), body, now, ErrBadSignature},
		{"a v1 that is not hex never matches", oldOnly, stripeHdr("t=" + tsStr + ",v1=zz"), body, now, ErrBadSignature},
		{"a verifier without secrets refuses everything", StripeVerifier{}, stripeHdr(signedOld), body, now, ErrBadSignature},
		{"a timestamp exactly at the tolerance is accepted", oldOnly, stripeHdr(signedOld), body, ts.Add(DefaultTolerance), nil},
		{"a stale timestamp is refused", oldOnly, stripeHdr(signedOld), body, ts.Add(DefaultTolerance + time.Second), ErrTimestamp},
		{"a far-future timestamp is refused", oldOnly, stripeHdr(signedOld), body, ts.Add(-DefaultTolerance - time.Second), ErrTimestamp},
		{"a custom tolerance is honoured", StripeVerifier{Secrets: []string{secretOld}, Tolerance: time.Second}, stripeHdr(signedOld), body, now, ErrTimestamp},
		{"a missing header is refused", oldOnly, http.Header{}, body, now, ErrNoSignature},
		{"an empty header is refused", oldOnly, stripeHdr(""), body, now, ErrNoSignature},
		{"a header split into several values by the Lambda adapter is accepted", both,
			http.Header{"Stripe-Signature": strings.Split(rotated, ",")}, body, now, nil},
		{"the adapter's split of a header with spaces is accepted", oldOnly,
			http.Header{"Stripe-Signature": {"t=" + tsStr, " " + v1Of(signedOld) + " "}}, body, now, nil},
		{"a lower-case header key is found", oldOnly, http.Header{"stripe-signature": {signedOld}}, body, now, nil},
		{"an upper-case header key is found", oldOnly, http.Header{"STRIPE-SIGNATURE": {signedOld}}, body, now, nil},
		{"a lower-case key split into several values is accepted", oldOnly,
			http.Header{"stripe-signature": strings.Split(signedOld, ",")}, body, now, nil},
		{"spaces around entries, keys and values are tolerated", oldOnly,
			stripeHdr(" t = " + tsStr + " ,  " + strings.Replace(v1Of(signedOld), "=", " = ", 1) + " "), body, now, nil},
		{"v0 and unknown schemes are ignored", oldOnly, stripeHdr(fakeV0 + "," + signedOld + ",v9=x,foo=bar"), body, now, nil},
		{"a header with only v0 is malformed", oldOnly, stripeHdr("t=" + tsStr + "," + fakeV0), body, now, ErrMalformedHeader},
		{"a header without t is malformed", oldOnly, stripeHdr(v1Of(signedOld)), body, now, ErrMalformedHeader},
		{"a header with two t is malformed", oldOnly, stripeHdr("t=" + tsStr + "," + signedOld), body, now, ErrMalformedHeader},
		{"a non-numeric t is malformed", oldOnly, stripeHdr("t=soon," + v1Of(signedOld)), body, now, ErrMalformedHeader},
		{"an entry without '=' is malformed", oldOnly, stripeHdr(signedOld + ",v1"), body, now, ErrMalformedHeader},
		{"a huge header is malformed", oldOnly, stripeHdr(signedOld + strings.Repeat(",v1=00", 2000)), body, now, ErrMalformedHeader},
		{"an authentic body that is not an event is refused", oldOnly,
			stripeHdr(SignStripe(secretOld, ts, []byte(`{"object":"event"}`))), []byte(`{"object":"event"}`), now, ErrMalformedEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.v.Verify(tt.h, tt.body, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				want := Delivery{ID: "evt_3QkF2bLkdIwHu7ix0cN8h2aT", Timestamp: ts}
				if d != want {
					t.Fatalf("Delivery = %+v, want %+v", d, want)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify error %v does not wrap ErrInvalid", err)
			}
			if d != (Delivery{}) {
				t.Fatalf("Delivery = %+v on error, want zero", d)
			}
		})
	}
}

// standardSplit imitates the Lambda adapter (httpadapter.NewV2): split on commas, trim spaces.
func standardSplit(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		for _, v := range vs {
			for _, part := range strings.Split(v, ",") {
				out.Add(k, strings.Trim(part, " "))
			}
		}
	}
	return out
}

func TestStandardVerifier(t *testing.T) {
	body := []byte(`{"type":"payment.succeeded","data":{"order_id":"ord_1"}}`)
	const id = "msg_2Lh9KfA8uY3bN7xQ"
	ts := now.Add(-10 * time.Second)
	sign := func(secret, id string) http.Header {
		h, err := SignStandard(secret, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	hOld, hNew := sign(secretOld, id), sign(secretNew, id)
	sigOld, sigNew := hOld.Get(StandardSignatureHeader), hNew.Get(StandardSignatureHeader)
	with := func(h http.Header, k, v string) http.Header {
		h = h.Clone()
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
		return h
	}
	rotated := with(hOld, StandardSignatureHeader, sigOld+" "+sigNew)
	lower := http.Header{}
	for k, v := range rotated {
		lower[strings.ToLower(k)] = v
	}

	both := StandardVerifier{Secrets: []string{secretOld, secretNew}}
	oldOnly := StandardVerifier{Secrets: []string{secretOld}}

	tests := []struct {
		name string
		v    StandardVerifier
		h    http.Header
		body []byte
		now  time.Time
		want error
	}{
		{"a valid signature is accepted", oldOnly, hOld, body, now, nil},
		{"a secret without the whsec_ prefix works too", StandardVerifier{Secrets: []string{strings.TrimPrefix(secretOld, "whsec_")}}, hOld, body, now, nil},
		{"during a rotation a header with one v1 per secret is accepted", both, rotated, body, now, nil},
		{"a header whose only valid v1 is for the second secret is accepted", both, hNew, body, now, nil},
		{"a rotated header is accepted by a verifier that only knows the old secret", oldOnly, with(hOld, StandardSignatureHeader, sigNew+" "+sigOld), body, now, nil},
		{"runs of spaces between signatures are tolerated", both, with(hOld, StandardSignatureHeader, "  "+sigNew+"   "+sigOld+" "), body, now, nil},
		{"the adapter's comma split of two signatures is rejoined and accepted", both, standardSplit(rotated), body, now, nil},
		{"lower-case header keys are found", both, lower, body, now, nil},
		{"lower-case keys split by the adapter are accepted", both, standardSplit(lower), body, now, nil},
		{"v1a and entries without a comma are ignored", oldOnly, with(hOld, StandardSignatureHeader, "v1a,AAAA junk "+sigOld), body, now, nil},
		{"a wrong secret is refused", StandardVerifier{Secrets: []string{secretBad}}, hOld, body, now, ErrBadSignature},
		{"an undecodable secret never matches", StandardVerifier{Secrets: []string{"whsec_!!"}}, hOld, body, now, ErrBadSignature},
		{"a tampered body is refused", oldOnly, hOld, append(body, ' '), now, ErrBadSignature},
		{"a changed webhook-id is refused", oldOnly, with(hOld, StandardIDHeader, "msg_other"), body, now, ErrBadSignature},
		{"a changed timestamp is refused", oldOnly, with(hOld, StandardTimestampHeader, strconv.FormatInt(now.Unix(), 10)), body, now, ErrBadSignature},
		{"a v1 that is not base64 never matches", oldOnly, with(hOld, StandardSignatureHeader, "v1,***"), body, now, ErrBadSignature},
		{"a timestamp exactly at the tolerance is accepted", oldOnly, hOld, body, ts.Add(DefaultTolerance), nil},
		{"a stale timestamp is refused", oldOnly, hOld, body, ts.Add(DefaultTolerance + time.Second), ErrTimestamp},
		{"a far-future timestamp is refused", oldOnly, hOld, body, ts.Add(-DefaultTolerance - time.Second), ErrTimestamp},
		{"a missing webhook-id is refused", oldOnly, with(hOld, StandardIDHeader, ""), body, now, ErrNoSignature},
		{"a missing webhook-timestamp is refused", oldOnly, with(hOld, StandardTimestampHeader, ""), body, now, ErrNoSignature},
		{"a missing webhook-signature is refused", oldOnly, with(hOld, StandardSignatureHeader, ""), body, now, ErrNoSignature},
		{"a non-numeric timestamp is malformed", oldOnly, with(hOld, StandardTimestampHeader, "soon"), body, now, ErrMalformedHeader},
		{"a signature header with no v1 is malformed", oldOnly, with(hOld, StandardSignatureHeader, "v1a,AAAA"), body, now, ErrMalformedHeader},
		{"a huge signature header is malformed", oldOnly, with(hOld, StandardSignatureHeader, sigOld+strings.Repeat(" v1,AAAA", 2000)), body, now, ErrMalformedHeader},
		{"an overlong webhook-id is malformed", oldOnly, sign(secretOld, strings.Repeat("m", 257)), body, now, ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.v.Verify(tt.h, tt.body, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if want := (Delivery{ID: id, Timestamp: ts}); d != want {
					t.Fatalf("Delivery = %+v, want %+v", d, want)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify error = %v, want %v wrapping ErrInvalid", err, tt.want)
			}
			if d != (Delivery{}) {
				t.Fatalf("Delivery = %+v on error, want zero", d)
			}
		})
	}
}

func TestAdapterSplitOfStandardSignatureIsRestoredByJoining(t *testing.T) {
	// The trap, spelled out: "v1,abc v1,def" arrives as three values.
	h := standardSplit(http.Header{"Webhook-Signature": {"v1,abc v1,def"}})
	if got := h.Values("Webhook-Signature"); strings.Join(got, "|") != "v1|abc v1|def" {
		t.Fatalf("adapter imitation gave %q", got)
	}
	if got := h.Get("Webhook-Signature"); got != "v1" {
		t.Fatalf("Get = %q; the trap is that Get sees only the first value", got)
	}
	if got := headerValue(h, StandardSignatureHeader); got != "v1,abc v1,def" {
		t.Fatalf("headerValue = %q, want the original value", got)
	}
}

func TestHeaderValue(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want string
	}{
		{"absent is empty", http.Header{}, ""},
		{"canonical key", http.Header{"Webhook-Id": {"a"}}, "a"},
		{"lower-case key", http.Header{"webhook-id": {"a"}}, "a"},
		{"any other spelling", http.Header{"WEBHOOK-ID": {"a"}}, "a"},
		{"canonical key wins over other spellings", http.Header{"Webhook-Id": {"a"}, "webhook-id": {"b"}}, "a"},
		{"several values are joined with commas", http.Header{"Webhook-Id": {"a", "b", "c"}}, "a,b,c"},
		{"surrounding spaces are trimmed", http.Header{"Webhook-Id": {"  a "}}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := headerValue(tt.h, StandardIDHeader); got != tt.want {
				t.Fatalf("headerValue = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConstructors(t *testing.T) {
	good := NewSecret()
	tests := []struct {
		name     string
		secrets  []string
		tol      time.Duration
		stripeOK bool
		stdOK    bool
	}{
		{"a fresh secret is valid for both", []string{good}, 0, true, true},
		{"two secrets are valid for both", []string{good, NewSecret()}, time.Minute, true, true},
		{"no secret is refused", nil, 0, false, false},
		{"an empty secret is refused", []string{good, ""}, 0, false, false},
		{"a bare whsec_ is refused", []string{"whsec_"}, 0, false, false},
		{"a negative tolerance is refused", []string{good}, -time.Second, false, false},
		{"an API key is refused", []string{"sk_test_51H"}, 0, false, false},
		{"a trailing newline is refused", []string{good + "\n"}, 0, false, false},
		{"an unprefixed base64 secret is Standard only", []string{"c2VjcmV0LXNlY3JldC1zZWNyZXQ="}, 0, false, true},
		{"a Stripe secret that is not base64 is Stripe only", []string{"whsec_not*base64"}, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv, err := NewStripeVerifier(tt.secrets, tt.tol)
			if (err == nil) != tt.stripeOK {
				t.Errorf("NewStripeVerifier error = %v, want ok=%v", err, tt.stripeOK)
			}
			if err == nil && (len(sv.Secrets) != len(tt.secrets) || sv.Tolerance != tt.tol) {
				t.Errorf("NewStripeVerifier = %+v", sv)
			}
			stv, err := NewStandardVerifier(tt.secrets, tt.tol)
			if (err == nil) != tt.stdOK {
				t.Errorf("NewStandardVerifier error = %v, want ok=%v", err, tt.stdOK)
			}
			if err == nil && (len(stv.Secrets) != len(tt.secrets) || stv.Tolerance != tt.tol) {
				t.Errorf("NewStandardVerifier = %+v", stv)
			}
		})
	}
}

func TestConstructorsCopySecrets(t *testing.T) {
	secrets := []string{secretOld}
	v, err := NewStripeVerifier(secrets, 0)
	if err != nil {
		t.Fatal(err)
	}
	secrets[0] = secretBad
	if v.Secrets[0] != secretOld {
		t.Fatal("verifier shares the caller's slice")
	}
}
