package payment

import (
	"fmt"
	"net/http"
)

// minimumCharge is Stripe's documented minimum charge amount per presentment currency, in the
// currency's minor unit as Stripe's API counts it (docs.stripe.com/currencies, "Minimum and
// maximum charge amounts"): 0.50 usd is 50, 50 jpy (zero-decimal) is 50, 175.00 huf (two
// decimals in the API) is 17500. Stripe also refuses, in other currencies, amounts that convert
// to less than the minimum of the account's settlement currency; Local, which has no exchange
// rates, does not.
var minimumCharge = map[string]struct {
	minor  int64
	symbol string // Stripe's error message puts it before the amount
	places int    // decimal places of the major unit
}{
	"usd": {50, "$", 2}, "aed": {200, "", 2}, "aud": {50, "$", 2}, "bgn": {100, "", 2},
	"brl": {50, "R$", 2}, "cad": {50, "$", 2}, "chf": {50, "", 2}, "czk": {1500, "", 2},
	"dkk": {250, "", 2}, "eur": {50, "€", 2}, "gbp": {30, "£", 2}, "hkd": {400, "$", 2},
	"huf": {17500, "", 2}, "inr": {50, "₹", 2}, "jpy": {50, "¥", 0}, "mxn": {1000, "$", 2},
	"myr": {200, "", 2}, "nok": {300, "", 2}, "nzd": {50, "$", 2}, "pln": {200, "", 2},
	"ron": {200, "", 2}, "sek": {300, "", 2}, "sgd": {50, "$", 2}, "thb": {1000, "", 2},
}

// belowMinimum returns Stripe's answer to an amount below its currency's minimum charge (a 400
// invalid_request_error with code amount_too_small on param amount, worded as Stripe words it:
// "Amount must be at least $0.50 usd"), or nil.
func belowMinimum(amount int64, currency string) *RejectedError {
	m, ok := minimumCharge[currency]
	if !ok || amount >= m.minor {
		return nil
	}
	major := fmt.Sprint(m.minor)
	if m.places == 2 {
		major = fmt.Sprintf("%d.%02d", m.minor/100, m.minor%100)
	}
	return &RejectedError{StatusCode: http.StatusBadRequest, Type: "invalid_request_error", Code: "amount_too_small",
		Param: "amount", Message: fmt.Sprintf("Amount must be at least %s%s %s", m.symbol, major, currency)}
}
