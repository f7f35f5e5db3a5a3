package payment_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/checkout-idem/checkout/internal/payment"
)

// A lost answer is recovered by retrying with the same idempotency key: one charge, one id.
func ExampleLocal_SetFault() {
	p := payment.NewLocal()
	p.SetFault(func(_ payment.Request, attempt int) payment.Fault {
		return payment.Fault{LoseResponse: attempt == 1} // charge, then drop the first answer
	})
	req := payment.Request{OrderID: "ord_1", Amount: 1999, Currency: "eur",
		PaymentMethod: "pm_card_visa", IdempotencyKey: "checkout-ord_1"}

	_, err := p.CreatePayment(context.Background(), req)
	fmt.Println("first attempt unavailable:", errors.Is(err, payment.ErrUnavailable))
	in, err := p.CreatePayment(context.Background(), req)
	fmt.Println("retry:", in.Outcome, err)
	fmt.Println("payment intents created:", p.Created())
	// Output:
	// first attempt unavailable: true
	// retry: succeeded <nil>
	// payment intents created: 1
}

// Stripe's test card for insufficient funds is declined with its decline code.
func ExampleLocal_CreatePayment_declined() {
	p := payment.NewLocal()
	_, err := p.CreatePayment(context.Background(), payment.Request{OrderID: "ord_2", Amount: 500,
		Currency: "usd", PaymentMethod: "pm_card_chargeDeclinedInsufficientFunds", IdempotencyKey: "k"})
	var d *payment.DeclinedError
	if errors.As(err, &d) {
		fmt.Println(d.Code, d.DeclineCode)
	}
	// Output: card_declined insufficient_funds
}
