package idem

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/dunglas/httpsfv"
)

// MaxKeyLength is the longest client key accepted, as in Stripe's API.
const MaxKeyLength = 255

// Key errors; both answer 400.
var (
	ErrKeyMissing = errors.New("idem: Idempotency-Key header missing")
	ErrKeyInvalid = errors.New("idem: Idempotency-Key invalid")
)

// ParseKey normalises an Idempotency-Key header value. It accepts the RFC 9651 structured-field
// string the IETF draft specifies ("\"abc\"") and the bare value real clients send (abc), and
// returns the inner value: 1 to 255 printable ASCII characters.
func ParseKey(header string) (string, error) {
	v := strings.Trim(header, " \t")
	if v == "" {
		return "", ErrKeyMissing
	}
	if strings.HasPrefix(v, `"`) {
		item, err := httpsfv.UnmarshalItem([]string{v})
		if err != nil {
			return "", fmt.Errorf("%w: not a valid structured-field string: %v", ErrKeyInvalid, err)
		}
		s, ok := item.Value.(string)
		if !ok || len(item.Params.Names()) > 0 {
			return "", fmt.Errorf("%w: want a plain string", ErrKeyInvalid)
		}
		v = s
	}
	if len(v) == 0 || len(v) > MaxKeyLength {
		return "", fmt.Errorf("%w: length %d, want 1 to %d characters", ErrKeyInvalid, len(v), MaxKeyLength)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("%w: byte %d is not printable ASCII", ErrKeyInvalid, i)
		}
	}
	return v, nil
}

// ScopedKey returns the stored partition key of a client key: the SHA-256 of the scope (the
// route), the caller's identity and the key, so one caller can never read another's response.
func ScopedKey(scope, caller, key string) string {
	h := sha256.New()
	for _, part := range []string{scope, caller, key} {
		fmt.Fprintf(h, "%d:%s;", len(part), part) // length-prefixed: no two triples collide
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fingerprint identifies a request's content: the SHA-256 of its method, path and body.
func Fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s;%d:%s;", len(method), method, len(path), path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
