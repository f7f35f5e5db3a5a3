// Command local serves the checkout API on http://127.0.0.1:3000 for development: `make run`.
// HOST (default 127.0.0.1, this machine only) and PORT (default 3000) choose the address;
// ALLOWED_ORIGIN (comma-separated, default "*") the origins a page on another origin may call
// it from, under the template's CORS rules. With no configuration it uses in-memory stores and
// the local payment provider, so a fresh clone needs nothing else. DYNAMODB_ENDPOINT switches
// to DynamoDB (Local), creating missing tables with the template's schema; STRIPE_SECRET_KEY
// (and STRIPE_API_BASE) to Stripe; the other variables work as in Lambda. It stops gracefully
// on SIGINT and SIGTERM, with exit status 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/localapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends; ready, when not nil, receives the listening address.
func run(ctx context.Context, log io.Writer, ready chan<- string) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	deps, err := app.Load(ctx, cfg, log, app.Options{Memory: true, EnsureTables: true})
	if err != nil {
		return err
	}
	host := os.Getenv("HOST")
	if host == "" {
		host = "127.0.0.1"
	}
	deps.NoWebhookSecretHint = "webhooks: no secret set, so POST /webhooks refuses every delivery with 400; " +
		"to receive Stripe's, run `stripe listen --forward-to " + net.JoinHostPort(host, cfg.Port) + "/webhooks` " +
		"and restart with STRIPE_WEBHOOK_SECRET=<the whsec_... it prints> (or STANDARD_WEBHOOK_SECRET)"
	h, err := localapi.Handler(deps, pages(), localapi.WithCORS(cors(os.Getenv("ALLOWED_ORIGIN"))))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, cfg.Port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	deps.Logger.Info("serving", "url", "http://"+displayAddr(ln.Addr()), "storage", deps.Storage, "payments", deps.Provider)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown) // lets in-flight requests finish, so their claims complete
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	deps.Logger.Info("stopped")
	return err
}

// cors returns the template's CORS rules for the origins of ALLOWED_ORIGIN.
func cors(origins string) localapi.CORS {
	c := localapi.DefaultCORS()
	c.AllowOrigins = localapi.ParseOrigins(origins)
	return c
}

func displayAddr(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && t.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", t.Port)
	}
	return a.String()
}
