package payment

// MinimumCharge returns Stripe's minimum charge for currency (lowercase ISO 4217), in the minor
// unit its API counts, and whether the currency is one this package knows: the catalog refuses
// a price it could never charge.
func MinimumCharge(currency string) (int64, bool) {
	m, ok := minimumCharge[currency]
	return m.minor, ok
}
