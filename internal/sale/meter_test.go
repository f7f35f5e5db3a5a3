package sale

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// meter is what a sale's DynamoDB client spent: per operation, its calls and their capacity
// units, and the attempts DynamoDB throttled. It asks for the consumed capacity
// (ReturnConsumedCapacity=TOTAL on every input that takes it) and costs each call by the
// rules of internal/ddb/capacity (Call.Units), repeated here:
//
//   - a TransactWriteItems is computed, 2 WCU per KB of each item, at least 1 KB each (the size
//     of the item a failed condition returned, else of the item a Put writes, else 1 KB):
//     DynamoDB Local repeats a transaction's capacity once per table it touches. A cancelled
//     transaction counts as the write it attempted (an upper bound: the documentation does not
//     state its charge);
//   - a failed conditional PutItem, UpdateItem or DeleteItem is computed, 1 WCU per KB of the
//     item the failed condition returned, at least 1 (an error carries no capacity);
//   - every other call costs what DynamoDB Local returned.
//
// The zero value is ready; install it with Option.
type meter struct {
	mu  sync.Mutex
	ops map[string]*opCost
	// throttled counts attempts (retries included) answered ProvisionedThroughputExceeded,
	// ThrottlingException or RequestLimitExceeded, or a transaction cancelled for a
	// ThrottlingError.
	throttled atomic.Int64
}

// opCost is what the calls of one operation cost.
type opCost struct {
	calls, failed int64 // calls as the caller made them (an SDK call, whatever its retries)
	computed      int64 // calls costed by the rules, not by what Local returned
	rcu, wcu      float64
	localCU       float64 // the total Local returned, for the record
}

// throttleCodes are the SDK's error codes for a throttled request.
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
}

// Option installs the meter on a client (testenv.DynamoClient, dynamodb.New).
func (m *meter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("SaleCapacity",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
					middleware.InitializeOutput, middleware.Metadata, error) {
					put := askAndSize(in.Parameters)
					out, md, err := next.HandleInitialize(ctx, in)
					m.add(middleware.GetOperationName(ctx), put, out.Result, err)
					return out, md, err
				}), middleware.After); err != nil {
				return err
			}
			// After the retry middleware: it sees every attempt.
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("SaleThrottles",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
					middleware.FinalizeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleFinalize(ctx, in)
					if throttledErr(err) {
						m.throttled.Add(1)
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

func throttledErr(err error) bool {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) {
		return false
	}
	if throttleCodes[ae.ErrorCode()] {
		return true
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if aws.ToString(r.Code) == "ThrottlingError" {
				return true
			}
		}
	}
	return false
}

// add costs one call: put are the sizes of the items it puts (-1: not a Put), out its output.
func (m *meter) add(op string, put []int, out any, err error) {
	kb := func(sizes []int, i int) float64 {
		n := -1
		if i < len(sizes) {
			n = sizes[i]
		}
		if n < 0 && i < len(put) {
			n = put[i]
		}
		return math.Max(1, math.Ceil(float64(max(n, 0))/1024))
	}
	var rcu, wcu, local float64
	computed := true
	old := oldItems(err)
	switch {
	case op == "TransactWriteItems":
		for i := range max(len(old), len(put)) {
			wcu += 2 * kb(old, i)
		}
		local, _, _ = returned(out)
	case err == nil:
		computed = false
		cu, r, w := returned(out)
		local = max(cu, 0)
		switch {
		case cu < 0: // nothing returned
		case r != 0 || w != 0:
			rcu, wcu = r, w
		case isRead(op):
			rcu = cu
		default:
			wcu = cu
		}
	case op == "PutItem" || op == "UpdateItem" || op == "DeleteItem":
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			wcu = kb(old, 0)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ops == nil {
		m.ops = map[string]*opCost{}
	}
	c := m.ops[op]
	if c == nil {
		c = &opCost{}
		m.ops[op] = c
	}
	c.calls++
	if err != nil {
		c.failed++
	}
	if computed {
		c.computed++
	}
	c.rcu, c.wcu, c.localCU = c.rcu+rcu, c.wcu+wcu, c.localCU+local
}

// Costs returns a copy of the costs so far, by operation.
func (m *meter) Costs() map[string]opCost {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]opCost{}
	for op, c := range m.ops {
		out[op] = *c
	}
	return out
}

// Reset forgets what was counted.
func (m *meter) Reset() {
	m.mu.Lock()
	m.ops = nil
	m.mu.Unlock()
	m.throttled.Store(0)
}

func isRead(op string) bool {
	switch op {
	case "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems":
		return true
	}
	return false
}

// askAndSize sets ReturnConsumedCapacity on the input and returns the sizes of the items it
// puts (-1 for a transaction item that is not a Put).
func askAndSize(p any) (put []int) {
	total := types.ReturnConsumedCapacityTotal
	switch in := p.(type) {
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
		put = []int{itemSize(in.Item)}
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
		for _, it := range in.TransactItems {
			n := -1
			if it.Put != nil {
				n = itemSize(it.Put.Item)
			}
			put = append(put, n)
		}
	}
	return put
}

// returned is the capacity an output carries: total, read and write units (-1 total when it
// carries none).
func returned(out any) (cu, rcu, wcu float64) {
	var ccs []types.ConsumedCapacity
	one := func(c *types.ConsumedCapacity) {
		if c != nil {
			ccs = append(ccs, *c)
		}
	}
	switch o := out.(type) {
	case *dynamodb.PutItemOutput:
		one(o.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		one(o.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		one(o.ConsumedCapacity)
	case *dynamodb.GetItemOutput:
		one(o.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		one(o.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		one(o.ConsumedCapacity)
	case *dynamodb.TransactWriteItemsOutput:
		ccs = o.ConsumedCapacity
	case *dynamodb.TransactGetItemsOutput:
		ccs = o.ConsumedCapacity
	case *dynamodb.BatchGetItemOutput:
		ccs = o.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		ccs = o.ConsumedCapacity
	}
	if len(ccs) == 0 {
		return -1, 0, 0
	}
	for _, c := range ccs {
		cu += aws.ToFloat64(c.CapacityUnits)
		rcu += aws.ToFloat64(c.ReadCapacityUnits)
		wcu += aws.ToFloat64(c.WriteCapacityUnits)
	}
	return cu, rcu, wcu
}

// oldItems are the sizes of the items a failed condition returned (-1: none returned).
func oldItems(err error) []int {
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		if cf.Item == nil {
			return []int{-1}
		}
		return []int{itemSize(cf.Item)}
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		old := make([]int, len(tc.CancellationReasons))
		for i, r := range tc.CancellationReasons {
			old[i] = -1
			if r.Item != nil {
				old[i] = itemSize(r.Item)
			}
		}
		return old
	}
	return nil
}

// itemSize is the size of an item by DynamoDB's documented rules (internal/ddb/capacity's
// ItemSize): each attribute's name plus its value.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	n := 0
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		for _, e := range v.Value {
			n += len(e)
		}
	case *types.AttributeValueMemberNS:
		for _, e := range v.Value {
			n += numberSize(e)
		}
	case *types.AttributeValueMemberBS:
		for _, e := range v.Value {
			n += len(e)
		}
	case *types.AttributeValueMemberL:
		n = 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
	case *types.AttributeValueMemberM:
		n = 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
	}
	return n
}

// numberSize: (significant digits + 1) / 2, plus one byte.
func numberSize(s string) int {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == 0 {
		return 1
	}
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}
