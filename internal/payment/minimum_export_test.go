package payment_test

import (
	"testing"

	"github.com/checkout-idem/checkout/internal/payment"
)

func TestMinimumCharge(t *testing.T) {
	for _, tc := range []struct {
		currency string
		want     int64
		known    bool
	}{{"usd", 50, true}, {"jpy", 50, true}, {"huf", 17500, true}, {"USD", 0, false}, {"xxx", 0, false}, {"", 0, false}} {
		if got, ok := payment.MinimumCharge(tc.currency); got != tc.want || ok != tc.known {
			t.Errorf("MinimumCharge(%q) = %d, %v; want %d, %v", tc.currency, got, ok, tc.want, tc.known)
		}
	}
}
