package orders_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
)

func TestStatusRanks(t *testing.T) {
	order := []orders.Status{orders.Created, orders.Pending, orders.RequiresAction, orders.Failed,
		orders.Abandoned, orders.Paid, orders.Refunded}
	for i, s := range order {
		if s.Rank() != i {
			t.Errorf("%s.Rank() = %d, want %d", s, s.Rank(), i)
		}
		if !s.Valid() {
			t.Errorf("%s is not valid", s)
		}
	}
	if r := orders.Status("shipped").Rank(); r != -1 {
		t.Errorf("unknown status rank = %d, want -1", r)
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want orders.Status
		err  bool
	}{
		{"created", orders.Created, false},
		{"pending", orders.Pending, false},
		{"Abandoned", orders.Abandoned, false},
		{"requires_action", orders.RequiresAction, false},
		{" PAID ", orders.Paid, false},
		{"refunded", orders.Refunded, false},
		{"failed", orders.Failed, false},
		{"", "", true},
		{"succeeded", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := orders.ParseStatus(tt.in)
			if tt.err {
				if !errors.Is(err, orders.ErrInvalidStatus) {
					t.Fatalf("ParseStatus(%q) error = %v, want ErrInvalidStatus", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseStatus(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestOrderJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := orders.Order{ID: "ord_1", CartID: "cart_1", Amount: 1999, Currency: "eur", Status: orders.Paid,
		PaymentIntentID: "pi_1", AmountRefunded: 500, CreatedAt: at, UpdatedAt: at.Add(time.Second),
		Owner: "user-1", PaymentMethod: "pm_card_visa", ProviderKey: "checkout-k"}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"order_id":"ord_1","cart_id":"cart_1","amount":1999,"currency":"eur","status":"paid",` +
		`"payment_intent_id":"pi_1","amount_refunded":500,"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:01Z"}`
	if string(b) != want {
		t.Fatalf("JSON:\n got %s\nwant %s", b, want)
	}
	o.CustomerEmail = "a@example.com"
	b, _ = json.Marshal(o)
	var back orders.Order
	o.Owner, o.PaymentMethod, o.ProviderKey = "", "", "" // never in the JSON
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, o) {
		t.Fatalf("round trip = %+v, %v, want %+v", back, err, o)
	}
}
