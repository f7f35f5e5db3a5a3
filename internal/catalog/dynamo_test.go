package catalog_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// stingy answers each BatchGetItem with its first key only, the others unprocessed, as
// DynamoDB may under load.
type stingy struct {
	*dynamodb.Client
	calls atomic.Int64
}

func (c *stingy) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.calls.Add(1)
	first := map[string]types.KeysAndAttributes{}
	rest := map[string]types.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		one := ka
		one.Keys = ka.Keys[:1]
		first[table] = one
		if len(ka.Keys) > 1 {
			more := ka
			more.Keys = ka.Keys[1:]
			rest[table] = more
		}
	}
	out, err := c.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: first}, opts...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = rest
	return out, nil
}

// smallPages scans two items a page.
type smallPages struct {
	*dynamodb.Client
	pages atomic.Int64
}

func (c *smallPages) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.pages.Add(1)
	in.Limit = aws.Int32(2)
	return c.Client.Scan(ctx, in, opts...)
}

func TestDynamoStoreListsEveryPage(t *testing.T) {
	c := testenv.DynamoClient(t)
	table := testenv.Table(t, c, catalog.Table("catalog-pages"))
	s := &smallPages{Client: c}
	store := catalog.NewDynamoStore(s, table)
	if _, err := catalog.Load(t.Context(), store, catalog.Sample()); err != nil {
		t.Fatal(err)
	}
	s.pages.Store(0)
	all, err := store.List(t.Context())
	if err != nil || len(all) != 6 || s.pages.Load() < 6 {
		t.Fatalf("List = %d products, %v, in %d pages; want 6 over many pages", len(all), err, s.pages.Load())
	}
	for _, l := range all {
		if l.SKU == "hoodie-drop-01" && l.Available != 100 {
			t.Errorf("hoodie: %d available across its pages, want 100", l.Available)
		}
	}
}

func TestDynamoStoreReadsUnprocessedKeysAgain(t *testing.T) {
	c := testenv.DynamoClient(t)
	table := testenv.Table(t, c, catalog.Table("catalog-unprocessed"))
	if _, err := catalog.Load(t.Context(), catalog.NewDynamoStore(c, table), catalog.Sample()); err != nil {
		t.Fatal(err)
	}
	s := &stingy{Client: c}
	store := catalog.NewDynamoStore(s, table)
	ps, err := store.Products(t.Context(), []string{"tee-black-m", "mug-enamel", "hoodie-drop-01", "nope"})
	if err != nil || len(ps) != 3 || s.calls.Load() != 4 {
		t.Fatalf("Products = %d products, %v, in %d calls; want 3 in 4 (one key each)", len(ps), err, s.calls.Load())
	}
	l, err := store.Get(t.Context(), "hoodie-drop-01")
	if err != nil || l.Available != 100 || l.Shards != 4 {
		t.Fatalf("Get = %+v, %v", l, err)
	}
}
