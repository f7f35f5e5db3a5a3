package webhook_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripewebhook "github.com/stripe/stripe-go/v84/webhook"

	"github.com/checkout-idem/checkout/internal/webhook"
)

// These tests check our signing and verification against the official libraries, which only
// tests import: the production code depends on the standard library alone (see doc.go). The
// official verifiers read the wall clock, so these tests sign at time.Now(); nothing sleeps.

func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/payment_intent_succeeded.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignStripeIsAcceptedByStripeGo(t *testing.T) {
	body, secret, ts := readFixture(t), webhook.NewSecret(), time.Now()
	header := webhook.SignStripe(secret, ts, body)
	if err := stripewebhook.ValidatePayloadWithTolerance(body, header, secret, 5*time.Minute); err != nil {
		t.Fatalf("stripe-go refused SignStripe: %v", err)
	}
	ev, err := stripewebhook.ConstructEventWithOptions(body, header, secret, stripewebhook.ConstructEventOptions{})
	if err != nil {
		t.Fatalf("stripe-go could not construct the fixture event: %v", err)
	}
	ours, err := webhook.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != ours.ID || string(ev.Type) != ours.Type || ev.Data.Object["id"] != ours.Object.ID ||
		ev.Data.Object["object"] != ours.Object.Kind || ev.Created != ours.Created.Unix() {
		t.Fatalf("stripe-go read %s %s %v, we read %+v", ev.ID, ev.Type, ev.Data.Object["id"], ours)
	}
}

func TestStripeGoSignatureIsAcceptedByStripeVerifier(t *testing.T) {
	body, secret := readFixture(t), webhook.NewSecret()
	signed := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
		Payload: body, Secret: secret, Timestamp: time.Unix(1767225600, 0),
	})
	v, err := webhook.NewStripeVerifier([]string{secret}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Stripe-Signature": {signed.Header}}
	d, err := v.Verify(h, body, time.Unix(1767225600, 0))
	if err != nil {
		t.Fatalf("Verify refused stripe-go's signature: %v", err)
	}
	if d.ID != "evt_3QkF2bLkdIwHu7ix0cN8h2aT" {
		t.Fatalf("Delivery.ID = %q", d.ID)
	}
}

func TestSignStandardIsAcceptedByTheOfficialLibrary(t *testing.T) {
	body, secret := []byte(`{"type":"payment.succeeded"}`), webhook.NewSecret()
	h, err := webhook.SignStandard(secret, "msg_1", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, h); err != nil {
		t.Fatalf("standard-webhooks refused SignStandard: %v", err)
	}
}

func TestOfficialStandardSignatureIsAcceptedByStandardVerifier(t *testing.T) {
	body, secret, ts := []byte(`{"type":"payment.succeeded"}`), webhook.NewSecret(), time.Unix(1767225600, 0)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign("msg_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	v, err := webhook.NewStandardVerifier([]string{secret}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"webhook-id": {"msg_1"}, "webhook-timestamp": {"1767225600"}, "webhook-signature": {sig}}
	if d, err := v.Verify(h, body, ts); err != nil || d.ID != "msg_1" {
		t.Fatalf("Verify = %+v, %v", d, err)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	raw, ok := strings.CutPrefix(a, "whsec_")
	if !ok {
		t.Fatalf("%q lacks the whsec_ prefix", a)
	}
	if key, err := base64.StdEncoding.DecodeString(raw); err != nil || len(key) != 24 {
		t.Fatalf("%q does not hold 24 base64 bytes: %v", a, err)
	}
}

func TestSignStandardRefusesABadSecret(t *testing.T) {
	if _, err := webhook.SignStandard("whsec_***", "msg_1", time.Now(), nil); err == nil {
		t.Fatal("SignStandard accepted an undecodable secret")
	}
}

// TestThroughTheLambdaAdapter runs deliveries through the adapter that httpadapter.NewV2 uses,
// from an API Gateway HTTP API (payload 2.0) event: lower-case header names, base64 body, and the
// adapter's split of header values on commas.
func TestThroughTheLambdaAdapter(t *testing.T) {
	body := readFixture(t)
	at := time.Unix(1767225600, 0)
	oldS, newS := webhook.NewSecret(), webhook.NewSecret()
	stripeSig := webhook.SignStripe(oldS, at, body)
	_, v1New, _ := strings.Cut(webhook.SignStripe(newS, at, body), ",")
	stdOld, err := webhook.SignStandard(oldS, "msg_1", at, body)
	if err != nil {
		t.Fatal(err)
	}
	stdNew, err := webhook.SignStandard(newS, "msg_1", at, body)
	if err != nil {
		t.Fatal(err)
	}
	stripeV, err := webhook.NewStripeVerifier([]string{oldS, newS}, 0)
	if err != nil {
		t.Fatal(err)
	}
	stdV, err := webhook.NewStandardVerifier([]string{oldS, newS}, 0)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		headers map[string]string
		v       webhook.Verifier
		id      string
	}{
		{"a rotated Stripe delivery", map[string]string{
			"content-type":     "application/json; charset=utf-8",
			"stripe-signature": stripeSig + "," + v1New,
		}, stripeV, "evt_3QkF2bLkdIwHu7ix0cN8h2aT"},
		{"a rotated Standard Webhooks delivery", map[string]string{
			"content-type":      "application/json",
			"webhook-id":        "msg_1",
			"webhook-timestamp": stdOld.Get("webhook-timestamp"),
			"webhook-signature": stdOld.Get("webhook-signature") + " " + stdNew.Get("webhook-signature"),
		}, stdV, "msg_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{
				Version:         "2.0",
				RouteKey:        "POST /webhooks/stripe",
				RawPath:         "/webhooks/stripe",
				Headers:         tt.headers,
				Body:            base64.StdEncoding.EncodeToString(body),
				IsBase64Encoded: true,
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/stripe"},
				},
			}
			var acc core.RequestAccessorV2
			r, err := acc.EventToRequest(ev)
			if err != nil {
				t.Fatal(err)
			}
			for k := range tt.headers {
				if strings.HasSuffix(k, "-signature") && len(r.Header.Values(k)) < 2 {
					t.Fatalf("the adapter no longer splits %s (%q): the trap this package works around is gone", k, r.Header.Values(k))
				}
			}
			got, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			d, err := tt.v.Verify(r.Header, got, at)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if d.ID != tt.id || !d.Timestamp.Equal(at) {
				t.Fatalf("Delivery = %+v", d)
			}
		})
	}
}

func TestErrorsMapToOneClass(t *testing.T) {
	if errors.Unwrap(webhook.ErrInvalid) != nil {
		t.Error("the class ErrInvalid wraps another error, so it would match a member")
	}
	sentinels := []error{webhook.ErrNoSignature, webhook.ErrMalformedHeader, webhook.ErrBadSignature, webhook.ErrTimestamp, webhook.ErrMalformedEvent}
	for _, err := range sentinels {
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("%v does not wrap ErrInvalid", err)
		}
		if err == webhook.ErrInvalid {
			t.Errorf("%v is the class itself", err)
		}
		for _, other := range sentinels {
			if other != err && errors.Is(err, other) {
				t.Errorf("%v matches %v: each sentinel must be told apart", err, other)
			}
		}
	}
}
