package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseEventFixtures(t *testing.T) {
	tests := []struct {
		file string
		want Event
	}{
		{"payment_intent_succeeded.json", Event{
			ID:      "evt_3QkF2bLkdIwHu7ix0cN8h2aT",
			Type:    "payment_intent.succeeded",
			Created: time.Unix(1767225605, 0).UTC(),
			Object: Object{
				ID:       "pi_3QkF2bLkdIwHu7ix0aZ5vXq1",
				Kind:     "payment_intent",
				OrderID:  "ord_01JGZ4W7K3Q8V6M2N5P9R1T0XY",
				Status:   "succeeded",
				Amount:   4200,
				Currency: "eur",
			},
		}},
		{"charge_refunded.json", Event{
			ID:      "evt_3QkF2bLkdIwHu7ix0Jb1RmQp",
			Type:    "charge.refunded",
			Created: time.Unix(1767229205, 0).UTC(),
			Object: Object{
				ID:             "ch_3QkF2bLkdIwHu7ix0Q3WcE7r",
				Kind:           "charge",
				OrderID:        "ord_01JGZ4W7K3Q8V6M2N5P9R1T0XY",
				PaymentIntent:  "pi_3QkF2bLkdIwHu7ix0aZ5vXq1",
				Status:         "succeeded",
				Amount:         4200,
				Currency:       "eur",
				AmountRefunded: 4200,
				Refunded:       true,
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseEvent(fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("ParseEvent =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Event // compared only when ok
		ok   bool
	}{
		{"a minimal event parses", `{"id":"evt_1","type":"x.y"}`, Event{ID: "evt_1", Type: "x.y"}, true},
		{"livemode is read", `{"id":"evt_1","object":"event","type":"x.y","livemode":true}`, Event{ID: "evt_1", Type: "x.y", Livemode: true}, true},
		{"an expanded payment_intent yields its id", `{"id":"evt_1","type":"charge.succeeded","data":{"object":{"object":"charge","payment_intent":{"id":"pi_1","object":"payment_intent"}}}}`,
			Event{ID: "evt_1", Type: "charge.succeeded", Object: Object{Kind: "charge", PaymentIntent: "pi_1"}}, true},
		{"a null payment_intent is empty", `{"id":"evt_1","type":"charge.succeeded","data":{"object":{"payment_intent":null}}}`,
			Event{ID: "evt_1", Type: "charge.succeeded"}, true},
		{"metadata without order_id leaves OrderID empty", `{"id":"evt_1","type":"x","data":{"object":{"metadata":{}}}}`, Event{ID: "evt_1", Type: "x"}, true},
		{"an empty body is malformed", ``, Event{}, false},
		{"non-JSON is malformed", `id=evt_1`, Event{}, false},
		{"a JSON array is malformed", `[{"id":"evt_1","type":"x"}]`, Event{}, false},
		{"a missing id is malformed", `{"type":"x.y"}`, Event{}, false},
		{"a missing type is malformed", `{"id":"evt_1"}`, Event{}, false},
		{"an id of the wrong JSON type is malformed", `{"id":1,"type":"x"}`, Event{}, false},
		{"an overlong id is malformed", `{"id":"` + strings.Repeat("e", 256) + `","type":"x"}`, Event{}, false},
		{"a v2 thin event is malformed", `{"id":"evt_1","object":"v2.core.event","type":"x"}`, Event{}, false},
		{"a numeric payment_intent is malformed", `{"id":"evt_1","type":"x","data":{"object":{"payment_intent":7}}}`, Event{}, false},
		{"non-string metadata is malformed", `{"id":"evt_1","type":"x","data":{"object":{"metadata":{"order_id":7}}}}`, Event{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.body))
			if !tt.ok {
				if !errors.Is(err, ErrMalformedEvent) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParseEvent error = %v, want ErrMalformedEvent", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("ParseEvent = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFixturesFitUnderMaxBodyBytes(t *testing.T) {
	for _, f := range []string{"payment_intent_succeeded.json", "charge_refunded.json"} {
		if n := len(fixture(t, f)); n > MaxBodyBytes/16 {
			t.Errorf("%s is %d bytes, MaxBodyBytes %d leaves too little headroom", f, n, MaxBodyBytes)
		}
	}
}

// The engine fingerprints an event by its JSON: fields added for refunds must not change the
// fingerprint of other events, or redeliveries stored before an upgrade would answer 422.
func TestRefundFieldsLeaveOtherFingerprintsAlone(t *testing.T) {
	ev, err := ParseEvent(fixture(t, "payment_intent_succeeded.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	if bytes.Contains(b, []byte("Refunded")) {
		t.Fatalf("canonical JSON of a payment_intent event mentions refunds: %s", b)
	}
}
