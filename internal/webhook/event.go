package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// maxEventID bounds Event.ID: it becomes a storage key. Stripe's ids are about 30 bytes.
const maxEventID = 255

// Event is the part of a Stripe event (`"object": "event"`) that applying a payment needs.
// Stripe delivers at least once, in no guaranteed order, and one change can produce two
// distinct events: deduplicate on ID, and make applying Object idempotent as well.
type Event struct {
	ID       string    // "evt_...", the same on every retry of this event
	Type     string    // e.g. "payment_intent.succeeded", "charge.refunded"
	Created  time.Time // when Stripe created the event (UTC); zero if absent
	Livemode bool
	Object   Object // data.object
}

// Object is the payment object an event is about (data.object).
type Object struct {
	ID   string // "pi_..." or "ch_..."
	Kind string // data.object.object: "payment_intent", "charge", ...
	// OrderID is metadata.order_id, set by us when we created the PaymentIntent.
	OrderID string
	// PaymentIntent is a charge's payment_intent id (also when expanded); empty otherwise.
	PaymentIntent string
	Status        string // e.g. "succeeded", "requires_payment_method"
	Amount        int64  // in the currency's smallest unit
	Currency      string // lowercase ISO code, e.g. "eur"
	// AmountRefunded and Refunded are a charge's: the total refunded so far, and whether the
	// whole amount was (Stripe sends charge.refunded for partial refunds too). Omitted from the
	// JSON when zero, so the fingerprint of other events (the JSON of Event) is as before.
	AmountRefunded int64 `json:",omitempty"`
	Refunded       bool  `json:",omitempty"`
}

// wireEvent mirrors the JSON of a Stripe event, keeping only what Event needs.
type wireEvent struct {
	ID       string `json:"id"`
	Object   string `json:"object"`
	Type     string `json:"type"`
	Created  int64  `json:"created"`
	Livemode bool   `json:"livemode"`
	Data     struct {
		Object struct {
			ID             string            `json:"id"`
			Object         string            `json:"object"`
			Metadata       map[string]string `json:"metadata"`
			PaymentIntent  json.RawMessage   `json:"payment_intent"`
			Status         string            `json:"status"`
			Amount         int64             `json:"amount"`
			Currency       string            `json:"currency"`
			AmountRefunded int64             `json:"amount_refunded"`
			Refunded       bool              `json:"refunded"`
		} `json:"object"`
	} `json:"data"`
}

// ParseEvent decodes a Stripe event from a raw body (verify it first). It fails with
// [ErrMalformedEvent] when the body is not a JSON object of the expected shape, has no id or no
// type, has an id longer than 255 bytes, or declares an "object" other than "event" (a v2 thin
// event notification, which this package does not handle).
func ParseEvent(body []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	switch {
	case w.ID == "":
		return Event{}, fmt.Errorf("%w: no id", ErrMalformedEvent)
	case len(w.ID) > maxEventID:
		return Event{}, fmt.Errorf("%w: id longer than %d bytes", ErrMalformedEvent, maxEventID)
	case w.Type == "":
		return Event{}, fmt.Errorf("%w: no type", ErrMalformedEvent)
	case w.Object != "" && w.Object != "event":
		return Event{}, fmt.Errorf("%w: object is %q, not \"event\"", ErrMalformedEvent, w.Object)
	}
	o := w.Data.Object
	pi, err := idOrExpanded(o.PaymentIntent)
	if err != nil {
		return Event{}, fmt.Errorf("%w: data.object.payment_intent: %v", ErrMalformedEvent, err)
	}
	ev := Event{
		ID:       w.ID,
		Type:     w.Type,
		Livemode: w.Livemode,
		Object: Object{
			ID:             o.ID,
			Kind:           o.Object,
			OrderID:        o.Metadata["order_id"],
			PaymentIntent:  pi,
			Status:         o.Status,
			Amount:         o.Amount,
			Currency:       o.Currency,
			AmountRefunded: o.AmountRefunded,
			Refunded:       o.Refunded,
		},
	}
	if w.Created != 0 {
		ev.Created = time.Unix(w.Created, 0).UTC()
	}
	return ev, nil
}

// idOrExpanded reads a Stripe reference: null, an id string, or an expanded object with an id.
func idOrExpanded(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] == '"' {
		var id string
		err := json.Unmarshal(raw, &id)
		return id, err
	}
	var obj struct {
		ID string `json:"id"`
	}
	err := json.Unmarshal(raw, &obj)
	return obj.ID, err
}
