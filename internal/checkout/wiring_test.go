package checkout_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/stock"
)

// TestStoresThatCannotShareATransactionFailAtStartUp: the order is written in the same
// transaction as the idempotency record, so a memory idempotency store with DynamoDB orders (or
// the reverse) is a wiring mistake. It fails when the handler is built, naming both stores,
// never later as order writes silently skipped.
func TestStoresThatCannotShareATransactionFailAtStartUp(t *testing.T) {
	dynamoOrders := orders.NewDynamoStore(nil, "orders") // builds writes without calling DynamoDB
	cases := []struct {
		name   string
		keys   idem.Store
		orders orders.Store
	}{
		{"memory records with DynamoDB orders", idem.NewMemoryStore(), dynamoOrders},
		{"DynamoDB records with memory orders", idem.NewDynamoStore(nil, "idem"), orders.NewMemoryStore()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := checkout.Check(c.keys, c.orders); !errors.Is(err, idem.ErrWriteKind) {
				t.Fatalf("Check = %v, want ErrWriteKind", err)
			}
			defer func() {
				if v := recover(); v == nil || !strings.Contains(v.(string), "cannot commit") {
					t.Fatalf("New did not refuse the pair: %v", v)
				}
			}()
			checkout.New(checkout.Options{Catalog: catalog.NewMemoryStore(stock.NewMemory()), Idem: c.keys, Orders: c.orders, Payments: payment.NewLocal()})
		})
	}
	if err := checkout.Check(idem.NewMemoryStore(), orders.NewMemoryStore()); err != nil {
		t.Fatalf("memory with memory: %v", err)
	}
	if err := checkout.Check(idem.NewDynamoStore(nil, "idem"), dynamoOrders); err != nil {
		t.Fatalf("DynamoDB with DynamoDB: %v", err)
	}
}
