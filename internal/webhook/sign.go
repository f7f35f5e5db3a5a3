package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// secretPrefix starts every Stripe signing secret and, by convention, Standard Webhooks secrets.
const secretPrefix = "whsec_"

// SignStripe returns a Stripe-Signature header value, `t=<unix>,v1=<hex>`, for body signed
// with secret at t, exactly as Stripe computes it. To imitate a rotation, sign with each secret
// and keep one t and every v1 entry.
func SignStripe(secret string, t time.Time, body []byte) string {
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(stripeMAC(secret, ts, body))
}

// SignStandard returns the three Standard Webhooks headers (webhook-id, webhook-timestamp,
// webhook-signature `v1,<base64>`) for body signed with secret at t. It fails only when secret
// is not valid (see [NewStandardVerifier]).
func SignStandard(secret, id string, t time.Time, body []byte) (http.Header, error) {
	key, err := standardKey(secret)
	if err != nil {
		return nil, err
	}
	ts := t.Unix()
	h := http.Header{}
	h.Set(StandardIDHeader, id)
	h.Set(StandardTimestampHeader, strconv.FormatInt(ts, 10))
	h.Set(StandardSignatureHeader, "v1,"+base64.StdEncoding.EncodeToString(standardMAC(key, id, ts, body)))
	return h, nil
}

// NewSecret returns a fresh random secret, `whsec_` followed by the standard base64 of 24
// random bytes, valid for both [NewStripeVerifier] and [NewStandardVerifier].
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}
