package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/stock"
)

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps the catalog in one DynamoDB table (Table): product items keyed by sku with
// name, prices (a map), active, stock and shards; shard items keyed by stock.ShardKey with
// units and shard_of.
type DynamoStore struct {
	c     DynamoDBAPI
	table string
}

var (
	_ Store  = (*DynamoStore)(nil)
	_ Loader = (*DynamoStore)(nil)
)

// NewDynamoStore returns a store over table.
func NewDynamoStore(c DynamoDBAPI, table string) *DynamoStore {
	return &DynamoStore{c: c, table: table}
}

// batchLimit is the number of keys of one BatchGetItem.
const batchLimit = 100

// get reads the items of keys (deduplicated, in batches of 100, retrying unprocessed keys),
// by key.
func (s *DynamoStore) get(ctx context.Context, keys []string, consistent bool) (map[string]map[string]types.AttributeValue, error) {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := map[string]map[string]types.AttributeValue{}
	for chunk := range slices.Chunk(keys, batchLimit) {
		req := make([]map[string]types.AttributeValue, len(chunk))
		for i, k := range chunk {
			req[i] = map[string]types.AttributeValue{PartitionKey: ddb.S(k)}
		}
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: req, ConsistentRead: aws.Bool(consistent)}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := ddb.Backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := s.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("catalog: batch get: %w", err)
			}
			for _, item := range res.Responses[s.table] {
				out[ddb.String(item, PartitionKey)] = item
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// Products implements Store.
func (s *DynamoStore) Products(ctx context.Context, skus []string) (map[string]Product, error) {
	var keys []string
	for _, sku := range skus {
		if ValidSKU(sku) {
			keys = append(keys, sku)
		}
	}
	out := map[string]Product{}
	if len(keys) == 0 {
		return out, nil
	}
	items, err := s.get(ctx, keys, false)
	if err != nil {
		return nil, err
	}
	for sku, item := range items {
		p, err := decode(item)
		if err != nil {
			return nil, err
		}
		out[sku] = p
	}
	return out, nil
}

// Get implements Store: one BatchGetItem of the product and every shard it may have.
func (s *DynamoStore) Get(ctx context.Context, sku string) (Listing, error) {
	l, _, err := s.read(ctx, sku, false)
	if err != nil {
		return Listing{}, err
	}
	if l == nil {
		return Listing{}, ErrNotFound
	}
	return *l, nil
}

// read returns the product sku (nil when absent) and the units of its shards 0..MaxShards-1
// (shards absent: -1).
func (s *DynamoStore) read(ctx context.Context, sku string, consistent bool) (*Listing, []int, error) {
	if !ValidSKU(sku) {
		return nil, nil, ErrNotFound
	}
	keys := []string{sku}
	for i := range stock.MaxShards {
		keys = append(keys, stock.ShardKey(sku, i))
	}
	items, err := s.get(ctx, keys, consistent)
	if err != nil {
		return nil, nil, err
	}
	units := make([]int, stock.MaxShards)
	for i := range units {
		u, ok := stock.UnitsOf(items[stock.ShardKey(sku, i)])
		if !ok {
			u = -1
		}
		units[i] = u
	}
	item, ok := items[sku]
	if !ok {
		return nil, units, nil
	}
	p, err := decode(item)
	if err != nil {
		return nil, nil, err
	}
	l := &Listing{Product: p}
	for _, u := range units[:p.Shards] {
		l.Available += max(u, 0)
	}
	return l, units, nil
}

// List implements Store: a paginated Scan of products and shards.
func (s *DynamoStore) List(ctx context.Context) ([]Listing, error) {
	products := map[string]Product{}
	units := map[string]int{}
	p := dynamodb.NewScanPaginator(s.c, &dynamodb.ScanInput{TableName: aws.String(s.table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("catalog: scan: %w", err)
		}
		for _, item := range page.Items {
			key := ddb.String(item, PartitionKey)
			if _, isShard := item[stock.SKUAttribute]; isShard {
				if u, ok := stock.UnitsOf(item); ok {
					units[key] = u
				}
				continue
			}
			pr, err := decode(item)
			if err != nil {
				return nil, err
			}
			products[key] = pr
		}
	}
	out := make([]Listing, 0, len(products))
	for _, sku := range slices.Sorted(maps.Keys(products)) {
		pr := products[sku]
		out = append(out, Listing{Product: pr, Available: sumUnits(func(k string) int { return units[k] }, sku, pr.Shards)})
	}
	return out, nil
}

// maxAttempts bounds the optimistic retries of one product's load.
const maxAttempts = 100

// Load implements Loader; call it through the package's Load, which validates.
func (s *DynamoStore) Load(ctx context.Context, products []Product) (Report, error) {
	var r Report
	named := map[string]bool{}
	for _, want := range products {
		named[want.SKU] = true
		for attempt := 0; ; attempt++ {
			if attempt == maxAttempts {
				return r, fmt.Errorf("catalog: %s: units kept changing; gave up after %d attempts", want.SKU, attempt)
			}
			if attempt > 0 {
				if err := ddb.Backoff(ctx, attempt); err != nil {
					return r, err
				}
			}
			have, units, err := s.read(ctx, want.SKU, true)
			if err != nil {
				return r, err
			}
			var stored *Product
			if have != nil {
				stored = &have.Product
			}
			current := make([]int, want.Shards)
			for i := range current {
				current[i] = max(units[i], 0)
			}
			st, err := plan(want, stored, current)
			if err != nil {
				return r, err
			}
			if !st.write {
				r.Unchanged = append(r.Unchanged, want.SKU)
				break
			}
			err = s.write(ctx, want, stored, units, st)
			if errors.Is(err, errRetry) {
				continue
			}
			if err != nil {
				return r, err
			}
			r.Changes = append(r.Changes, st.change)
			break
		}
	}
	listed, err := s.List(ctx)
	if err != nil {
		return r, err
	}
	for _, l := range listed {
		if !named[l.SKU] {
			r.Absent = append(r.Absent, l.SKU)
		}
	}
	return r, nil
}

// errRetry: a condition failed (units or the product changed since read), read again.
var errRetry = errors.New("catalog: changed since read")

// write applies st in one TransactWriteItems: the product item, on condition it is as read
// (absent, or with the stock and shards read), and each shard's new units, on condition it
// holds the units read (units[i], -1 for absent).
func (s *DynamoStore) write(ctx context.Context, want Product, stored *Product, units []int, st step) error {
	names := map[string]string{"#n": nameAttr, "#p": pricesAttr, "#a": activeAttr, "#st": stockAttr, "#sh": shardsAttr}
	values := map[string]types.AttributeValue{
		":n": ddb.S(want.Name), ":p": prices(want.Prices), ":a": &types.AttributeValueMemberBOOL{Value: want.Active},
		":st": ddb.N(int64(want.Stock)), ":sh": ddb.N(int64(want.Shards)),
	}
	cond := "attribute_not_exists(#k)"
	names["#k"] = PartitionKey
	if stored != nil {
		cond = "#st = :was_st AND #sh = :was_sh"
		delete(names, "#k")
		values[":was_st"], values[":was_sh"] = ddb.N(int64(stored.Stock)), ddb.N(int64(stored.Shards))
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{PartitionKey: ddb.S(want.SKU)},
		UpdateExpression:          aws.String("SET #n = :n, #p = :p, #a = :a, #st = :st, #sh = :sh"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}}
	for i, u := range st.units {
		shardCond, vals := "#u = :was", map[string]types.AttributeValue{":was": ddb.N(int64(units[i]))}
		if units[i] < 0 {
			shardCond, vals = "attribute_not_exists(#u)", map[string]types.AttributeValue{}
		}
		vals[":u"], vals[":sku"] = ddb.N(int64(u)), ddb.S(want.SKU)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       map[string]types.AttributeValue{PartitionKey: ddb.S(stock.ShardKey(want.SKU, i))},
			UpdateExpression:          aws.String("SET #u = :u, #of = :sku"),
			ConditionExpression:       aws.String(shardCond),
			ExpressionAttributeNames:  map[string]string{"#u": stock.UnitsAttribute, "#of": stock.SKUAttribute},
			ExpressionAttributeValues: vals,
		}})
	}
	_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) || (errors.As(err, &tce) && retryable(tce)) {
		return fmt.Errorf("%w: %w", errRetry, err)
	}
	if err != nil {
		return fmt.Errorf("catalog: write %s: %w", want.SKU, err)
	}
	return nil
}

// retryable reports whether a cancelled transaction failed only on what a new read may change:
// a condition (units or the product changed since read), a conflicting transaction (a
// checkout's), or throttling. Anything else (a validation error) is not retried.
func retryable(tce *types.TransactionCanceledException) bool {
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "", "None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
		default:
			return false
		}
	}
	return true
}

func prices(p map[string]int64) types.AttributeValue {
	m := make(map[string]types.AttributeValue, len(p))
	for cur, amount := range p {
		m[cur] = ddb.N(amount)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// decode reads a product item.
func decode(item map[string]types.AttributeValue) (Product, error) {
	p := Product{SKU: ddb.String(item, PartitionKey), Name: ddb.String(item, nameAttr), Prices: map[string]int64{}}
	bad := func(err error) (Product, error) { return Product{}, fmt.Errorf("catalog: item %q: %w", p.SKU, err) }
	if m, ok := item[pricesAttr].(*types.AttributeValueMemberM); ok {
		for cur, v := range m.Value {
			n, ok := v.(*types.AttributeValueMemberN)
			if !ok {
				return bad(fmt.Errorf("price %s is not a number", cur))
			}
			amount, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return bad(fmt.Errorf("price %s: %w", cur, err))
			}
			p.Prices[cur] = amount
		}
	}
	if b, ok := item[activeAttr].(*types.AttributeValueMemberBOOL); ok {
		p.Active = b.Value
	}
	st, err := ddb.Int(item, stockAttr)
	if err != nil {
		return bad(err)
	}
	sh, err := ddb.Int(item, shardsAttr)
	if err != nil {
		return bad(err)
	}
	if sh < 1 || sh > stock.MaxShards {
		return bad(fmt.Errorf("shards %d out of range", sh))
	}
	p.Stock, p.Shards = int(st), int(sh)
	return p, nil
}
