// Package lambdaevent reads the API Gateway HTTP API (payload 2.0) events of events/ and makes
// the variants that cannot be committed: a webhook delivery signed now, with a real secret.
// `make webhook-events` and the emulator test (internal/rie) use it.
package lambdaevent

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/checkout-idem/checkout/internal/webhook"
)

// Load reads one event file.
func Load(path string) (events.APIGatewayV2HTTPRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	b, err := os.ReadFile(path)
	if err != nil {
		return ev, err
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("lambdaevent: %s: %w", path, err)
	}
	return ev, nil
}

// Body returns the event's body, decoded when it is base64.
func Body(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if ev.IsBase64Encoded {
		return base64.StdEncoding.DecodeString(ev.Body)
	}
	return []byte(ev.Body), nil
}

// SetBody replaces the event's body (base64, as API Gateway sends JSON it treats as binary)
// and its content-length header.
func SetBody(ev *events.APIGatewayV2HTTPRequest, body []byte) {
	ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	setHeader(ev, "content-length", strconv.Itoa(len(body)))
}

// SignStripe returns a copy of the webhook event ev with its Stripe event's created time set to
// now, its PaymentIntent's metadata.order_id set to orderID and its id to intentID (each unless
// empty: an event applies to an order only for the order's own intent), a fresh id when eventID
// is not empty, and a Stripe-Signature computed with secret at now, as Stripe sends.
func SignStripe(ev events.APIGatewayV2HTTPRequest, secret string, now time.Time, orderID, intentID, eventID string) (events.APIGatewayV2HTTPRequest, error) {
	body, err := Body(ev)
	if err != nil {
		return ev, err
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		return ev, fmt.Errorf("lambdaevent: webhook body: %w", err)
	}
	e["created"] = now.Unix()
	if eventID != "" {
		e["id"] = eventID
	}
	if orderID != "" {
		data, _ := e["data"].(map[string]any)
		obj, _ := data["object"].(map[string]any)
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			return ev, fmt.Errorf("lambdaevent: webhook body has no data.object.metadata")
		}
		meta["order_id"] = orderID
		if intentID != "" {
			obj["id"] = intentID
		}
	}
	if body, err = json.Marshal(e); err != nil {
		return ev, err
	}
	out := ev
	out.Headers = make(map[string]string, len(ev.Headers))
	for k, v := range ev.Headers {
		out.Headers[k] = v
	}
	SetBody(&out, body)
	setHeader(&out, webhook.StripeSignatureHeader, webhook.SignStripe(secret, now, body))
	return out, nil
}

// setHeader replaces the header name, whatever its spelling, by a lowercase one (API Gateway's).
func setHeader(ev *events.APIGatewayV2HTTPRequest, name, value string) {
	for k := range ev.Headers {
		if strings.EqualFold(k, name) {
			delete(ev.Headers, k)
		}
	}
	if ev.Headers == nil {
		ev.Headers = map[string]string{}
	}
	ev.Headers[strings.ToLower(name)] = value
}
