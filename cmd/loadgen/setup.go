package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/localapi"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// system is what the scenarios run against. The DynamoDB fields are nil with -target.
type system struct {
	url      string // base URL of the API
	endpoint string // DynamoDB endpoint ("" with -target and no DYNAMODB_ENDPOINT)
	where    string // one line for the report
	cfg      config.Config
	counter  *ddb.Counter
	ddb      *dynamodb.Client // the API's (counted) client; the baseline uses it too
	orders   orders.Store
	payments *payment.Local
	closers  []func()
}

func (s *system) inProcess() bool { return s.orders != nil }

// countOrders counts the orders table with a Scan (through the counted client: call it outside
// a measured stretch).
func (s *system) countOrders(ctx context.Context) (int, error) {
	return testenv.ScanCount(ctx, s.ddb, s.cfg.OrdersTable)
}

func (s *system) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// newSystem starts what the options ask for: DynamoDB Local unless DYNAMODB_ENDPOINT is set,
// fresh tables, and the local API on a loopback port; or only a client of -target.
func newSystem(ctx context.Context, o options, log io.Writer) (*system, error) {
	s := &system{endpoint: ddb.EndpointFromEnv()}
	if o.target != "" {
		s.url = strings.TrimSuffix(o.target, "/")
		s.where = "external API at " + s.url + " (DynamoDB, orders and charges not observable: n/a)"
		return s, nil
	}
	where := "DynamoDB at " + s.endpoint + " (DYNAMODB_ENDPOINT)"
	if s.endpoint == "" {
		fmt.Fprintln(log, "starting DynamoDB Local ...")
		d, err := testenv.StartDynamoDB("")
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, d.Stop)
		s.endpoint = d.Endpoint
		where = "DynamoDB Local (in memory, started by loadgen)"
	}
	cfg, err := config.FromEnv()
	if err != nil {
		s.close()
		return nil, err
	}
	prefix := fmt.Sprintf("loadgen-%d-%d", os.Getpid(), time.Now().Unix())
	cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable = prefix+"-idempotency", prefix+"-orders", prefix+"-catalog"
	cfg.DynamoDBEndpoint = s.endpoint
	cfg.StripeSecretKey = "" // charges are counted on the local provider
	cfg.LogLevel = "info"    // the access log is encoded as in production, then discarded
	s.cfg = cfg
	s.counter = &ddb.Counter{}
	remove, err := useBenchCatalog()
	if err != nil {
		s.close()
		return nil, err
	}
	s.closers = append(s.closers, remove)
	deps, err := app.Load(ctx, cfg, io.Discard, app.Options{
		EnsureTables:    true,
		DynamoDBOptions: []func(*dynamodb.Options){s.counter.Option()},
	})
	if err != nil {
		s.close()
		return nil, err
	}
	s.closers = append(s.closers, func() { dropTables(deps.DynamoDB, cfg.IdempotencyTable, cfg.OrdersTable, cfg.CatalogTable) })
	s.payments = payment.NewLocal()
	deps.Payments, deps.Provider = s.payments, "local"
	s.ddb, s.orders = deps.DynamoDB, deps.Orders
	h, err := localapi.Handler(deps, nil)
	if err != nil {
		s.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.close()
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(log, "loadgen: server:", err)
		}
	}()
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	s.url = "http://" + ln.Addr().String()
	s.where = "in-process local API (internal/localapi, payment.Local) on loopback; " + where
	return s, nil
}

// benchCatalog is the catalog of every run: the sample's tee-black-m (what checkoutBody and
// events/checkout.json buy, at the sample's prices) with stock for any number of requests, in
// the most shards so that concurrent reservations rarely meet on one stock item. The sample's
// 100 units would run out after 100 unique checkouts.
const benchCatalog = `{"products":[{"sku":"tee-black-m","name":"Black tee, M","prices":{"usd":2500,"eur":2300},"stock":100000000,"shards":20}]}`

// useBenchCatalog writes benchCatalog to a file and points CATALOG_FILE at it, so that every
// app.Load with EnsureTables of this process (the run's, the storm's, the capacity
// measurement's) loads it into its catalog table; it returns the clean-up.
func useBenchCatalog() (func(), error) {
	f, err := os.CreateTemp("", "loadgen-catalog-*.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(benchCatalog); err != nil {
		_ = os.Remove(f.Name())
		return nil, err
	}
	if err := os.Setenv(app.EnvCatalogFile, f.Name()); err != nil {
		_ = os.Remove(f.Name())
		return nil, err
	}
	return func() { _ = os.Remove(f.Name()) }, nil
}

// dropTables deletes the run's tables, so a shared DynamoDB Local does not fill up.
func dropTables(c *dynamodb.Client, tables ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, t := range tables {
		_, _ = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(t)})
	}
}

// httpClient is what every simulated client shares: keep-alive connections, one per client.
func httpClient(clients int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        clients * 2,
			MaxIdleConnsPerHost: clients * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}
