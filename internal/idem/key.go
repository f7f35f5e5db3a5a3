package idem

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dunglas/httpsfv"
)

// MaxKeyLength is the longest client key accepted, as in Stripe's API.
const MaxKeyLength = 255

// KeyHeader is the request header holding the client's key.
const KeyHeader = "Idempotency-Key"

// Key errors; both answer 400.
var (
	ErrKeyMissing = errors.New("idem: Idempotency-Key header missing")
	ErrKeyInvalid = errors.New("idem: Idempotency-Key invalid")
)

// HeaderKey returns the one Idempotency-Key of r: ErrKeyMissing without the header, ErrKeyInvalid
// when it is empty, malformed or names more than one key.
//
// One key per request, the same rule locally and behind API Gateway. There, payload format 2.0
// joins repeated header fields with commas and the Lambda adapter splits every value on commas
// (trimming the spaces around each part), so two fields and one field holding a comma arrive
// alike. HeaderKey therefore rebuilds the field value the same way on any transport (every
// value split on commas, each part trimmed of spaces, rejoined with ","), and ParseKey reads it:
// a bare key may not contain a comma (two fields "a" and "b" arrive as "a,b": 400), while an
// RFC 9651 quoted string may ("\"a,b\"" is the key a,b). Spaces next to a comma inside a quoted
// key are dropped, as the adapter drops them: "\"a, b\"" is the key a,b too.
func HeaderKey(r *http.Request, _ []byte) (string, error) {
	values, ok := r.Header[http.CanonicalHeaderKey(KeyHeader)]
	if !ok || len(values) == 0 {
		return "", ErrKeyMissing
	}
	var parts []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			parts = append(parts, strings.Trim(p, " "))
		}
	}
	return ParseKey(strings.Join(parts, ","))
}

// ParseKey normalises an Idempotency-Key field value. It accepts the RFC 9651 structured-field
// string the IETF draft specifies ("\"abc\"") and the bare value real clients send (abc), and
// returns the inner value: 1 to 255 printable ASCII characters. A blank value is ErrKeyInvalid
// (the header is there, the key is not); a bare value with a comma, or a list of several quoted
// strings, is more than one key: ErrKeyInvalid.
func ParseKey(header string) (string, error) {
	v := strings.Trim(header, " \t")
	if v == "" {
		return "", fmt.Errorf("%w: the header is empty; send one key of 1 to %d characters", ErrKeyInvalid, MaxKeyLength)
	}
	if strings.HasPrefix(v, `"`) {
		if list, err := httpsfv.UnmarshalList([]string{v}); err == nil && len(list) > 1 {
			return "", fmt.Errorf("%w: %d keys in one request (two Idempotency-Key fields?); send exactly one", ErrKeyInvalid, len(list))
		}
		item, err := httpsfv.UnmarshalItem([]string{v})
		if err != nil {
			return "", fmt.Errorf("%w: not a valid structured-field string: %v", ErrKeyInvalid, err)
		}
		s, ok := item.Value.(string)
		if !ok || len(item.Params.Names()) > 0 {
			return "", fmt.Errorf("%w: want a plain string", ErrKeyInvalid)
		}
		v = s
	} else if strings.Contains(v, ",") {
		return "", fmt.Errorf("%w: more than one key: two Idempotency-Key fields, or a bare key with a comma "+
			"(proxies join repeated fields with commas, so the two look alike); send exactly one field, and quote "+
			`a key that contains a comma as an RFC 9651 string ("a,b")`, ErrKeyInvalid)
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
