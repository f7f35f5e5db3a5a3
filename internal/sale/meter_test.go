package sale

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/checkout-idem/checkout/internal/ddb/capacity"
)

// meter is what a sale's DynamoDB client spent: per operation, its calls and their capacity
// units, and the attempts DynamoDB throttled. The units are capacity's (its middleware asks
// for the consumed capacity, Call.Units costs each call): a transaction is computed, 2 WCU per
// KB of each item, a cancelled one as the write it attempted; a failed conditional write 1 WCU
// per KB of the existing item; every other call costs what DynamoDB Local returned.
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
		capacity.Option(m.add)(o)
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
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

// add counts one call (a capacity.Recorder).
func (m *meter) add(call capacity.Call) {
	rcu, wcu, computed := call.Units()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ops == nil {
		m.ops = map[string]*opCost{}
	}
	c := m.ops[call.Op]
	if c == nil {
		c = &opCost{}
		m.ops[call.Op] = c
	}
	c.calls++
	if !call.OK {
		c.failed++
	}
	if computed {
		c.computed++
	}
	c.rcu, c.wcu, c.localCU = c.rcu+rcu, c.wcu+wcu, c.localCU+max(call.CU, 0)
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
