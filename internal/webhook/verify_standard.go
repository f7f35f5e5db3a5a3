package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names (lookups are case-insensitive).
const (
	StandardIDHeader        = "webhook-id"
	StandardTimestampHeader = "webhook-timestamp"
	StandardSignatureHeader = "webhook-signature"
)

// maxStandardID bounds webhook-id: it becomes a storage key.
const maxStandardID = 256

// StandardVerifier verifies Standard Webhooks v1 deliveries: headers `webhook-id`,
// `webhook-timestamp` and `webhook-signature: v1,<base64> [v1,<base64>...]`, each v1 an
// HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the base64-decoded secret (after an
// optional `whsec_` prefix).
//
// A delivery is accepted when any v1 matches any of Secrets and the timestamp lies within
// Tolerance of now; other versions (v1a) are ignored. [Delivery.ID] is webhook-id, stable across
// retries. Build it with [NewStandardVerifier]; secrets that do not decode never match.
type StandardVerifier struct {
	Secrets   []string
	Tolerance time.Duration // zero means DefaultTolerance
}

var _ Verifier = StandardVerifier{}

// NewStandardVerifier returns a verifier for secrets, refusing an empty list, a secret with
// surrounding whitespace or whose part after `whsec_` is not standard base64 or decodes to
// nothing, and a negative tolerance.
// Zero tolerance means DefaultTolerance.
func NewStandardVerifier(secrets []string, tolerance time.Duration) (StandardVerifier, error) {
	if len(secrets) == 0 {
		return StandardVerifier{}, errors.New("webhook: no Standard Webhooks secret")
	}
	for i, s := range secrets {
		if _, err := standardKey(s); err != nil {
			return StandardVerifier{}, fmt.Errorf("webhook: Standard Webhooks secret %d: %w", i, err)
		}
	}
	if tolerance < 0 {
		return StandardVerifier{}, errors.New("webhook: negative tolerance")
	}
	return StandardVerifier{Secrets: append([]string(nil), secrets...), Tolerance: tolerance}, nil
}

// Verify implements [Verifier]. The signature is checked before the timestamp, so
// [ErrTimestamp] always means an authentic but stale (or far-future) delivery.
func (v StandardVerifier) Verify(h http.Header, body []byte, now time.Time) (Delivery, error) {
	id := headerValue(h, StandardIDHeader)
	tsRaw := headerValue(h, StandardTimestampHeader)
	sigRaw := headerValue(h, StandardSignatureHeader)
	switch {
	case id == "":
		return Delivery{}, fmt.Errorf("%w: no %s header", ErrNoSignature, StandardIDHeader)
	case tsRaw == "":
		return Delivery{}, fmt.Errorf("%w: no %s header", ErrNoSignature, StandardTimestampHeader)
	case sigRaw == "":
		return Delivery{}, fmt.Errorf("%w: no %s header", ErrNoSignature, StandardSignatureHeader)
	}
	if len(id) > maxStandardID {
		return Delivery{}, fmt.Errorf("%w: %s longer than %d bytes", ErrMalformedHeader, StandardIDHeader, maxStandardID)
	}
	t, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil {
		return Delivery{}, fmt.Errorf("%w: %s is not a unix time", ErrMalformedHeader, StandardTimestampHeader)
	}
	sigs, err := parseStandardSignatures(sigRaw)
	if err != nil {
		return Delivery{}, err
	}
	expected := make([][]byte, 0, len(v.Secrets))
	for _, s := range v.Secrets {
		if key, err := standardKey(s); err == nil {
			expected = append(expected, standardMAC(key, id, t, body))
		}
	}
	if !anyEqual(expected, sigs) {
		return Delivery{}, fmt.Errorf("%w: %d v1 signature(s), %d secret(s)", ErrBadSignature, len(sigs), len(expected))
	}
	ts := time.Unix(t, 0).UTC()
	if tol := tolerance(v.Tolerance); !withinTolerance(ts, now, tol) {
		return Delivery{}, fmt.Errorf("%w: %s=%d is %s from now (tolerance %s)", ErrTimestamp, StandardTimestampHeader, t, now.Sub(ts).Round(time.Second), tol)
	}
	return Delivery{ID: id, Timestamp: ts}, nil
}

// parseStandardSignatures parses space-separated `<version>,<base64>` entries and returns the
// decoded v1 signatures. Runs of spaces are tolerated; other versions and entries without a
// comma are ignored, as the official library does; a v1 that is not base64 is kept empty so it
// never matches. It requires at least one v1.
func parseStandardSignatures(raw string) ([][]byte, error) {
	if len(raw) > maxSignatureHeader {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedHeader, len(raw))
	}
	var sigs [][]byte
	for entry := range strings.FieldsSeq(raw) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			b = nil
		}
		sigs = append(sigs, b)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%w: no v1 signature", ErrMalformedHeader)
	}
	return sigs, nil
}

// standardKey decodes a Standard Webhooks secret: standard base64 after an optional `whsec_`.
func standardKey(secret string) ([]byte, error) {
	if secret != strings.TrimSpace(secret) {
		return nil, errors.New("surrounding whitespace")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil {
		return nil, errors.New("not base64 after whsec_")
	}
	if len(key) == 0 {
		return nil, errors.New("empty key")
	}
	return key, nil
}

// standardMAC is HMAC-SHA256 of `<id>.<t>.<body>` keyed with the decoded secret.
func standardMAC(key []byte, id string, t int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, t, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
