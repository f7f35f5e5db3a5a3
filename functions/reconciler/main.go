// Command reconciler is the scheduled Lambda function that settles orders nothing else settled
// (see package internal/reconcile): configuration from the environment, the DynamoDB order
// store and the payment provider built once per container, then one reconciliation pass per
// scheduled invocation.
package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/reconcile"
)

// reserve is left of the invocation's deadline: a run stops taking new orders then, so it
// logs its summary before Lambda ends it. Orders not reached wait for the next run.
const reserve = 2 * time.Second

func main() {
	cfg, err := config.FromEnv()
	if err != nil {
		exit(err)
	}
	run, err := newRun(cfg, os.Stdout)
	if err != nil {
		exit(err)
	}
	lambda.Start(run)
}

func exit(err error) { app.Exit("reconciler", err) }

// newRun builds the reconciler and returns the handler of a scheduled invocation. The
// scheduler's event carries nothing the run needs: it is ignored.
func newRun(cfg config.Config, log io.Writer) (func(context.Context, json.RawMessage) (reconcile.Report, error), error) {
	deps, err := app.LoadLambdaPaying(context.Background(), cfg, log) // fails closed, as checkout does
	if err != nil {
		return nil, err
	}
	rc := reconcile.New(reconcile.Options{
		Orders: deps.Orders, Payments: deps.Payments, After: cfg.ReconcileAfter, Limit: cfg.ReconcileLimit,
		ActionTimeout: cfg.ReconcileActionTimeout, Logger: deps.Logger,
	})
	deps.Logger.Info("reconciler function ready", "storage", deps.Storage, "payments", deps.Provider,
		"after", cfg.ReconcileAfter.String(), "limit", cfg.ReconcileLimit, "action_timeout", cfg.ReconcileActionTimeout.String())
	return func(ctx context.Context, _ json.RawMessage) (reconcile.Report, error) {
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
			defer cancel()
		}
		rep, err := rc.Run(ctx, time.Now())
		if err != nil && ctx.Err() != nil {
			return rep, nil // out of time: the next run goes on; an error would only make the scheduler retry at once
		}
		return rep, err
	}, nil
}
