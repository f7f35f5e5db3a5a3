package testenv

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/orders"
)

// ScanCount counts the items of a DynamoDB table with a paginated, consistent Scan: what is
// stored (expired idempotency records included), for tests and tools, never the request path.
func ScanCount(ctx context.Context, c dynamodb.ScanAPIClient, table string) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
		TableName: aws.String(table), Select: types.SelectCount, ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("testenv: scan %s: %w", table, err)
		}
		n += int(out.Count)
	}
	return n, nil
}

// Orders wraps an orders.Store and remembers the id of every order reserved or created through
// it, so that a test can count the orders that exist on any store (Count) without a Scan.
type Orders struct {
	orders.Store
	mu  sync.Mutex
	ids map[string]bool
}

// NewOrders wraps s.
func NewOrders(s orders.Store) *Orders { return &Orders{Store: s, ids: map[string]bool{}} }

func (o *Orders) note(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids[id] = true
}

// Reserve notes ord.ID and reserves it in the wrapped store.
func (o *Orders) Reserve(ctx context.Context, ord orders.Order, shards map[string]int) (orders.Order, error) {
	o.note(ord.ID)
	return o.Store.Reserve(ctx, ord, shards)
}

// Create notes ord.ID and creates it in the wrapped store.
func (o *Orders) Create(ctx context.Context, ord orders.Order) error {
	o.note(ord.ID)
	return o.Store.Create(ctx, ord)
}

// Count returns how many of the noted orders exist.
func (o *Orders) Count(ctx context.Context) (int, error) {
	o.mu.Lock()
	ids := make([]string, 0, len(o.ids))
	for id := range o.ids {
		ids = append(ids, id)
	}
	o.mu.Unlock()
	n := 0
	for _, id := range ids {
		_, err := o.Get(ctx, id)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, orders.ErrNotFound):
			return 0, err
		}
	}
	return n, nil
}
