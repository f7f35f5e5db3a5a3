// Package inject injects faults into external calls, for tests: a Fault applied to any call
// (Fault.Do), and Faults, a DynamoDB client middleware that applies one to each operation call.
// The fault matrix of package faults passes every DynamoDB and payment-provider call through it.
// It is its own package so that no production binary links it.
package inject

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Fault is what Faults does to one call. The fault matrix of package faults applies the same
// four to the payment provider (Fault.Do), so every external call of a checkout, a webhook
// delivery and a reconciler run is injected the same way.
type Fault int

const (
	Pass   Fault = iota // no fault: the call is sent and answered
	Before              // the call fails before it is sent: nothing is written
	Lost                // the call is sent and commits, then fails as if the connection dropped
	Hang                // the call is sent and commits, its answer never comes: it fails when Hold returns
	Kill                // the call is sent and commits, then the process dies (ErrKilled)
)

// ErrInjected is matched by every error a Fault injects.
var ErrInjected = errors.New("inject: injected fault")

// ErrKilled is the error of a Kill: whoever injects it must treat the caller as dead (fail its
// later calls with Before, discard its answer), as a process that died after the write.
var ErrKilled = fmt.Errorf("%w: the process was killed after the call committed", ErrInjected)

func (f Fault) String() string {
	switch f {
	case Pass:
		return "pass"
	case Before:
		return "before"
	case Lost:
		return "lost"
	case Hang:
		return "hang"
	case Kill:
		return "kill"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Do applies f to one call: send sends it. hold holds a Hang's answer (nil: until ctx ends);
// a Hang then fails with ctx's error, or context.DeadlineExceeded when ctx has not ended.
func (f Fault) Do(ctx context.Context, hold func(context.Context), send func() error) error {
	switch f {
	case Pass:
		return send()
	case Before:
		return fmt.Errorf("%w: failed before it was sent", ErrInjected)
	}
	_ = send() // sent: whatever it answered, the caller never sees it
	switch f {
	case Lost:
		return fmt.Errorf("%w: the answer was lost after the call committed", ErrInjected)
	case Hang:
		if hold != nil {
			hold(ctx)
		} else {
			<-ctx.Done()
		}
		err := ctx.Err()
		if err == nil {
			err = context.DeadlineExceeded
		}
		return fmt.Errorf("%w: no answer before the deadline: %w", ErrInjected, err)
	default:
		return ErrKilled
	}
}

// Faults injects a Fault into the DynamoDB calls of a client, for tests: Decide names the fault
// of each operation call (PutItem, TransactWriteItems, UpdateItem, GetItem, BatchGetItem, Query,
// ...) from the call's context and operation name. Decide is called once per operation call,
// not per HTTP attempt: the middleware sits in the Initialize step, outside the SDK's retry
// loop (Finalize step), so the retryer never re-runs or hides an injected fault, and Lost,
// Hang and Kill wrap a call that the SDK completed (retries included) before the fault.
type Faults struct {
	Decide func(ctx context.Context, op string) Fault
	// Hold holds the answer of a Hang; nil: until the call's context ends.
	Hold func(ctx context.Context)
}

// Option installs the faults on a client: pass it to NewClient or dynamodb.New.
func (f *Faults) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("InjectFaults",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
					out middleware.InitializeOutput, md middleware.Metadata, err error) {
					fault := Pass
					if f.Decide != nil {
						fault = f.Decide(ctx, middleware.GetOperationName(ctx))
					}
					err = fault.Do(ctx, f.Hold, func() error {
						var serr error
						out, md, serr = next.HandleInitialize(ctx, in)
						return serr
					})
					if fault != Pass {
						out = middleware.InitializeOutput{}
					}
					return out, md, err
				}), middleware.Before)
		})
	}
}
