package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StripeSignatureHeader is the header Stripe signs deliveries with.
const StripeSignatureHeader = "Stripe-Signature"

// StripeVerifier verifies Stripe deliveries: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`,
// each v1 an HMAC-SHA256 of `<t>.<body>` keyed with a whole secret (`whsec_` included).
//
// A delivery is accepted when any v1 matches any of Secrets (during a rotation Stripe sends one
// v1 per live secret) and t lies within Tolerance of now. Other schemes (v0 on test events) are
// ignored. [Delivery.ID] is the event id from the body, so the body must also parse as an
// [Event]. Build it with [NewStripeVerifier]; a literal with no secret rejects everything.
type StripeVerifier struct {
	Secrets   []string
	Tolerance time.Duration // zero means DefaultTolerance
}

var _ Verifier = StripeVerifier{}

// NewStripeVerifier returns a verifier for secrets, refusing an empty list, a secret without
// the `whsec_` prefix (an API key pasted by mistake would otherwise reject every delivery) or
// with surrounding whitespace, and a negative tolerance. Zero tolerance means DefaultTolerance.
func NewStripeVerifier(secrets []string, tolerance time.Duration) (StripeVerifier, error) {
	if len(secrets) == 0 {
		return StripeVerifier{}, errors.New("webhook: no Stripe signing secret")
	}
	for i, s := range secrets {
		if s != strings.TrimSpace(s) {
			return StripeVerifier{}, fmt.Errorf("webhook: Stripe secret %d has surrounding whitespace", i)
		}
		if !strings.HasPrefix(s, secretPrefix) || len(s) == len(secretPrefix) {
			return StripeVerifier{}, fmt.Errorf("webhook: Stripe secret %d is not a whsec_ signing secret", i)
		}
	}
	if tolerance < 0 {
		return StripeVerifier{}, errors.New("webhook: negative tolerance")
	}
	return StripeVerifier{Secrets: append([]string(nil), secrets...), Tolerance: tolerance}, nil
}

// Verify implements [Verifier]. The signature is checked before the timestamp, so
// [ErrTimestamp] always means an authentic but stale (or far-future) delivery.
func (v StripeVerifier) Verify(h http.Header, body []byte, now time.Time) (Delivery, error) {
	raw := headerValue(h, StripeSignatureHeader)
	if raw == "" {
		return Delivery{}, fmt.Errorf("%w: no %s header", ErrNoSignature, StripeSignatureHeader)
	}
	sh, err := parseStripeHeader(raw)
	if err != nil {
		return Delivery{}, err
	}
	expected := make([][]byte, 0, len(v.Secrets))
	for _, s := range v.Secrets {
		if s != "" {
			expected = append(expected, stripeMAC(s, sh.t, body))
		}
	}
	if !anyEqual(expected, sh.v1) {
		return Delivery{}, fmt.Errorf("%w: %d v1 signature(s), %d secret(s)", ErrBadSignature, len(sh.v1), len(expected))
	}
	ts := time.Unix(sh.t, 0).UTC()
	if tol := tolerance(v.Tolerance); !withinTolerance(ts, now, tol) {
		return Delivery{}, fmt.Errorf("%w: t=%d is %s from now (tolerance %s)", ErrTimestamp, sh.t, now.Sub(ts).Round(time.Second), tol)
	}
	ev, err := ParseEvent(body)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{ID: ev.ID, Timestamp: ts}, nil
}

// stripeHeader is a parsed Stripe-Signature value.
type stripeHeader struct {
	t  int64
	v1 [][]byte // decoded; entries that are not hex are kept empty so they never match
}

// parseStripeHeader parses `t=<unix>,v1=<hex>,...`. Spaces around entries, keys and values are
// tolerated; empty entries (",,") are skipped; unknown schemes are ignored. It requires exactly
// one integer t and at least one v1.
func parseStripeHeader(raw string) (stripeHeader, error) {
	var sh stripeHeader
	if len(raw) > maxSignatureHeader {
		return sh, fmt.Errorf("%w: %d bytes", ErrMalformedHeader, len(raw))
	}
	seenT := false
	for entry := range strings.SplitSeq(raw, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, val, ok := strings.Cut(entry, "=")
		if !ok {
			return sh, fmt.Errorf("%w: entry without '='", ErrMalformedHeader)
		}
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		switch k {
		case "t":
			if seenT {
				return sh, fmt.Errorf("%w: more than one t", ErrMalformedHeader)
			}
			seenT = true
			t, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return sh, fmt.Errorf("%w: t is not a unix time", ErrMalformedHeader)
			}
			sh.t = t
		case "v1":
			sig, err := hex.DecodeString(val)
			if err != nil {
				sig = nil
			}
			sh.v1 = append(sh.v1, sig)
		}
	}
	if !seenT {
		return sh, fmt.Errorf("%w: no t", ErrMalformedHeader)
	}
	if len(sh.v1) == 0 {
		return sh, fmt.Errorf("%w: no v1 signature", ErrMalformedHeader)
	}
	return sh, nil
}

// stripeMAC is HMAC-SHA256 of `<t>.<body>` keyed with the whole secret.
func stripeMAC(secret string, t int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(strconv.AppendInt(nil, t, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
