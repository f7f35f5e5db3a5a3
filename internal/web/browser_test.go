package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/web"
)

// testTimeout bounds each browser test, browser start included.
const testTimeout = 60 * time.Second

// shop is the page, the checkout API and GET /products on one test server, over in-memory
// stores holding the embedded sample catalog (internal/catalog/sample.json) and the local
// payment provider, with switches that break the network the way phones do.
type shop struct {
	*httptest.Server
	Orders   *testenv.Orders
	Payments *payment.Local
	Catalog  *catalog.MemoryStore

	// bodies receives the body of every POST /checkout as it reaches the server.
	bodies chan []byte

	// arrived receives the Idempotency-Key of every POST /checkout as it reaches the server.
	arrived chan string
	posts   atomic.Int32

	// dropFirst makes the first POST /checkout run to completion and then lose its answer:
	// the connection is closed without a byte. dropped receives the answer that was lost.
	dropFirst atomic.Bool
	dropped   chan *http.Response

	// keepRunning detaches requests from their connection, as API Gateway does: a Lambda
	// goes on when the browser goes away. Without it, net/http cancels the request.
	keepRunning atomic.Bool
}

func newShop(t *testing.T) *shop {
	t.Helper()
	units := stock.NewMemory()
	s := &shop{
		Orders:   testenv.NewOrders(orders.NewMemoryStore().WithStock(units)),
		Payments: payment.NewLocal(),
		Catalog:  catalog.NewMemoryStore(units),
		bodies:   make(chan []byte, 64),
		arrived:  make(chan string, 64),
		dropped:  make(chan *http.Response, 1),
	}
	if _, err := catalog.Load(context.Background(), s.Catalog, catalog.Sample()); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	api := checkout.New(checkout.Options{
		Catalog:  s.Catalog, // no cache: a price changed by a test is seen by the next checkout
		Orders:   s.Orders,
		Payments: s.Payments,
		Idem:     idem.NewMemoryStore(),
		Logger:   logger,
	})
	post := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			api.ServeHTTP(w, r)
			return
		}
		s.posts.Add(1)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read a POST /checkout: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		s.bodies <- b
		s.arrived <- r.Header.Get("Idempotency-Key")
		if s.keepRunning.Load() {
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
		if s.dropFirst.CompareAndSwap(true, false) {
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, r)
			s.dropped <- rec.Result()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		api.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/checkout", post)
	mux.Handle("/orders/", api)
	products := catalog.Handler(s.Catalog, logger)
	mux.Handle("/products", products)
	mux.Handle("/products/", products)
	mux.Handle("/", web.Handler())
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// holdFirstPayment makes the provider call of the first request with any key wait until
// release is closed; entered receives a value when that call starts.
func (s *shop) holdFirstPayment(t *testing.T) (entered <-chan struct{}, release func()) {
	in := make(chan struct{}, 1)
	rel := make(chan struct{})
	var once sync.Once
	s.Payments.SetFault(func(_ payment.Request, attempt int) payment.Fault {
		if attempt != 1 {
			return payment.Fault{}
		}
		select {
		case in <- struct{}{}:
		default:
		}
		return payment.Fault{Release: rel}
	})
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(release)
	return in, release
}

// want checks the one promise: n orders and n PaymentIntents.
func (s *shop) want(t *testing.T, n int) {
	t.Helper()
	count, err := s.Orders.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if count != n || s.Payments.Created() != n {
		t.Errorf("%d orders and %d PaymentIntents, want %d of each (%d POST /checkout, %d provider calls)",
			count, s.Payments.Created(), n, s.posts.Load(), s.Payments.Calls())
	}
}

func (s *shop) nextArrival(t *testing.T, ctx context.Context) string {
	t.Helper()
	select {
	case k := <-s.arrived:
		return k
	case <-ctx.Done():
		t.Fatalf("no POST /checkout arrived: %v", ctx.Err())
		return ""
	}
}

// chromiumPath finds Debian's chromium: $CHROMIUM, /usr/bin/chromium, or chromium on $PATH.
func chromiumPath() string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	p, _ := exec.LookPath("chromium")
	return p
}

// newBrowser starts headless Chromium with a fresh profile, bounded by testTimeout, and
// returns the context of its tab. Without Chromium the test is skipped, or fails under CI.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		msg := "chromium not found (set CHROMIUM or run scripts/install-chromium.sh)"
		if testenv.CI() {
			t.Fatal(msg + " (CI=true: failing instead of skipping)")
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(720, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit, before TempDir is removed
		cancel()
	})
	if err := chromedp.Do(tab); err != nil { // starts the browser
		t.Fatalf("start chromium (%s): %v", bin, err)
	}
	return tab
}

// do runs browser steps or fails the test with the page's state.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage: %s", what, err, pageState(ctx))
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v\npage: %s", expr, err, pageState(ctx))
	}
	return v
}

// waitFor waits until the expression is truthy, re-checking on every change of the DOM.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	do(t, ctx, "wait for "+expr, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(40*time.Second)))
}

// waitState waits until the page's #status is in state (idle, sending, done, declined, ...).
func waitState(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById("status").dataset.state === %q`, state))
}

// pageState describes the page for failure messages, with a context of its own: the test's
// may have ended.
func pageState(ctx context.Context) string {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Evaluate[string](`JSON.stringify({
		state: document.getElementById("status").dataset.state,
		requests: document.getElementById("status").dataset.requests,
		message: document.getElementById("message").textContent,
		order: document.getElementById("order-id").textContent,
		status: document.getElementById("order-status").textContent,
		pay: document.getElementById("pay").textContent,
		total: document.getElementById("total").textContent,
		catalog: document.getElementById("catalog").dataset.loaded,
		cart: Array.from(document.querySelectorAll("#products input"), (i) => i.dataset.sku + "=" + i.value + (i.disabled ? " (disabled)" : "")).join(", "),
		attempt: sessionStorage.getItem("checkout.attempt.v1")})`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

type shown struct {
	OrderID, Status, Message, Pay string
	Attempt                       *struct {
		Key  string         `json:"key"`
		Body map[string]any `json:"body"`
	}
}

// read returns what the page shows, and its open attempt from sessionStorage.
func read(t *testing.T, ctx context.Context) shown {
	t.Helper()
	var s shown
	raw := eval[string](t, ctx, `JSON.stringify({
		OrderID: document.getElementById("order-id").textContent,
		Status: document.getElementById("order-status").textContent,
		Message: document.getElementById("message").textContent,
		Pay: document.getElementById("pay").textContent,
		Attempt: JSON.parse(sessionStorage.getItem("checkout.attempt.v1"))})`)
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("page state %s: %v", raw, err)
	}
	return s
}

var orderIDRE = regexp.MustCompile(`^ord_[0-9a-f]{24}$`)

// wantPaid checks that the page shows a paid order, and returns its id.
func wantPaid(t *testing.T, ctx context.Context, s *shop) string {
	t.Helper()
	waitState(t, ctx, "done")
	got := read(t, ctx)
	if !orderIDRE.MatchString(got.OrderID) || got.Status != "paid" {
		t.Fatalf("page shows order %q status %q, want an order id and paid", got.OrderID, got.Status)
	}
	if got.Attempt != nil {
		t.Errorf("the attempt is still open after its order: %+v", got.Attempt)
	}
	o, err := s.Orders.Get(context.Background(), got.OrderID)
	if err != nil || o.Status != orders.Paid {
		t.Errorf("stored order %s: %+v, %v; want paid", got.OrderID, o, err)
	}
	return got.OrderID
}

// screenshot saves a PNG of the page as a test artifact, in $ARTIFACTS_DIR or
// testdata/artifacts (ignored by git).
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + ".png"
	path, _ := filepath.Abs(filepath.Join(dir, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// open loads the page and waits for its catalog.
func open(t *testing.T, ctx context.Context, s *shop) {
	t.Helper()
	do(t, ctx, "open the page", chromedp.Navigate(s.URL))
	waitCatalog(t, ctx)
}

func waitCatalog(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, `document.getElementById("catalog").dataset.loaded === "true" && document.querySelector("#products input") !== null`)
}

// setCart sets the quantity of each sku the way the buyer does, with an input event.
func setCart(t *testing.T, ctx context.Context, qty map[string]int) {
	t.Helper()
	b, _ := json.Marshal(qty)
	eval[chromedp.Void](t, ctx, fmt.Sprintf(`(() => {
		for (const [sku, n] of Object.entries(%s)) {
			const input = document.getElementById("qty-" + sku);
			if (!input) throw new Error("no quantity input for " + sku);
			input.value = String(n);
			input.dispatchEvent(new Event("input", {bubbles: true}));
		}
	})()`, b))
}

// buyOne opens the page and puts one black tee (25.00 usd) in the cart.
func buyOne(t *testing.T, ctx context.Context, s *shop) {
	t.Helper()
	open(t, ctx, s)
	setCart(t, ctx, map[string]int{"tee-black-m": 1})
	waitFor(t, ctx, `!document.getElementById("pay").disabled`)
}

// sent decodes the body of the next POST /checkout.
func (s *shop) sent(t *testing.T, ctx context.Context) map[string]any {
	t.Helper()
	select {
	case b := <-s.bodies:
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("POST /checkout body %s: %v", b, err)
		}
		return v
	case <-ctx.Done():
		t.Fatalf("no POST /checkout arrived: %v", ctx.Err())
		return nil
	}
}

func TestBrowserRapidClicksMakeOneOrderAndOneCharge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		click func(t *testing.T, ctx context.Context)
	}{
		{"five clicks and five submits in one script", func(t *testing.T, ctx context.Context) {
			// Clicks on a disabled button do nothing in the browser, but requestSubmit (like
			// Enter in a field) submits anyway: only the page's own guard stops those.
			eval[chromedp.Void](t, ctx, `(() => {
				const pay = document.getElementById("pay"), form = document.getElementById("checkout");
				for (let i = 0; i < 5; i++) pay.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}));
				for (let i = 0; i < 5; i++) form.requestSubmit();
			})()`)
		}},
		{"five mouse clicks", func(t *testing.T, ctx context.Context) {
			for i := 0; i < 5; i++ {
				do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := newBrowser(t)
			s := newShop(t)
			entered, release := s.holdFirstPayment(t)
			buyOne(t, ctx, s)
			do(t, ctx, "enter an email", chromedp.SendKeys(chromedp.ID("email"), "buyer@example.com"))

			tc.click(t, ctx)
			select { // the payment of the first request is under way, and held
			case <-entered:
			case <-ctx.Done():
				t.Fatalf("the payment never started: %v\npage: %s", ctx.Err(), pageState(ctx))
			}
			tc.click(t, ctx) // and again, while the request is in flight
			busy := eval[[]any](t, ctx, `[document.getElementById("pay").disabled,
				document.getElementById("pay").getAttribute("aria-busy"), document.getElementById("pay").textContent]`)
			if busy[0] != true || busy[1] != "true" || busy[2] != "Processing…" {
				t.Errorf("while in flight, Pay is [disabled aria-busy text] = %v, want [true true Processing…]", busy)
			}
			release()

			id := wantPaid(t, ctx, s)
			tc.click(t, ctx) // a paid page sends nothing more
			do(t, ctx, "reload", chromedp.Reload())
			if got := wantPaid(t, ctx, s); got != id {
				t.Errorf("after a reload the page shows order %s, want %s", got, id)
			}
			if n := s.posts.Load(); n != 1 {
				t.Errorf("%d POST /checkout, want 1", n)
			}
			s.want(t, 1)
			screenshot(t, ctx)
		})
	}
}

func TestBrowserRetriesALostAnswerWithTheSameKey(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	s.dropFirst.Store(true)
	// Every request on a new connection: Chrome resends on its own a request that failed on a
	// reused one (here, the connection of GET /products), and the page would not see the loss.
	s.Config.SetKeepAlivesEnabled(false)
	buyOne(t, ctx, s)
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))

	var lost *http.Response
	select {
	case lost = <-s.dropped:
	case <-ctx.Done():
		t.Fatalf("the first request never completed: %v", ctx.Err())
	}
	var first checkout.Response
	if err := json.NewDecoder(lost.Body).Decode(&first); err != nil || lost.StatusCode != http.StatusCreated {
		t.Fatalf("the lost answer: %d, %v", lost.StatusCode, err)
	}
	id := wantPaid(t, ctx, s)
	if id != first.OrderID {
		t.Errorf("page shows order %s, the lost answer had %s", id, first.OrderID)
	}
	keys := []string{s.nextArrival(t, ctx), s.nextArrival(t, ctx)}
	if keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("Idempotency-Keys of the first two POSTs: %q, want one key twice", keys)
	}
	// The page's own retry, not the browser's: Chrome may resend a request that failed on a
	// reused connection, which the page would not count.
	if n := eval[string](t, ctx, `document.getElementById("status").dataset.requests`); n != "2" {
		t.Errorf("the page sent %s requests, want 2 (the lost one and its retry)", n)
	}
	t.Logf("%d POST /checkout for one order", s.posts.Load())
	s.want(t, 1)
	screenshot(t, ctx)
}

func TestBrowserResumesAfterAReloadDuringASlowPayment(t *testing.T) {
	for _, tc := range []struct {
		name        string
		keepRunning bool
	}{
		{"the server finishes the first request", true},
		{"the server cancels the first request", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := newBrowser(t)
			s := newShop(t)
			s.keepRunning.Store(tc.keepRunning)
			entered, release := s.holdFirstPayment(t)
			buyOne(t, ctx, s)
			do(t, ctx, "choose a card", chromedp.SetValue(chromedp.ID("email"), "reload@example.com"))
			do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
			key := s.nextArrival(t, ctx)
			select {
			case <-entered:
			case <-ctx.Done():
				t.Fatalf("the payment never started: %v", ctx.Err())
			}
			before := read(t, ctx)
			if before.Attempt == nil || before.Attempt.Key != key {
				t.Fatalf("sessionStorage holds %+v, want the attempt with key %s", before.Attempt, key)
			}

			do(t, ctx, "reload", chromedp.Reload())
			if again := s.nextArrival(t, ctx); again != key {
				t.Errorf("after the reload the page sent key %q, want %q", again, key)
			}
			release() // the first request completes while the resumed one waits for it

			id := wantPaid(t, ctx, s)
			o, _ := s.Orders.Get(context.Background(), id)
			if o.CustomerEmail != "reload@example.com" {
				t.Errorf("order email %q: the resumed request did not send the saved body", o.CustomerEmail)
			}
			t.Logf("%d POST /checkout, %d provider calls", s.posts.Load(), s.Payments.Calls())
			s.want(t, 1)
			screenshot(t, ctx)
		})
	}
}

func TestBrowserShowsADeclineAndPaysAgainWithANewKey(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	buyOne(t, ctx, s)
	do(t, ctx, "choose the declined card", chromedp.SetValue(chromedp.ID("payment-method"), "pm_card_chargeDeclined"))
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	waitState(t, ctx, "declined")
	got := read(t, ctx)
	if !strings.Contains(got.Message, "declined") || !strings.Contains(got.Message, "generic_decline") {
		t.Errorf("message %q, want the decline from the problem detail", got.Message)
	}
	if d := eval[string](t, ctx, `document.getElementById("detail").textContent`); !strings.Contains(d, "the payment was declined") {
		t.Errorf("detail %q, want the problem's detail", d)
	}
	if got.Status != "failed" || got.Attempt != nil {
		t.Errorf("after a decline: order status %q, attempt %+v; want failed and no open attempt", got.Status, got.Attempt)
	}
	screenshot(t, ctx)
	first := s.nextArrival(t, ctx)

	do(t, ctx, "choose a good card", chromedp.SetValue(chromedp.ID("payment-method"), "pm_card_visa"))
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	id := wantPaid(t, ctx, s)
	if second := s.nextArrival(t, ctx); second == first {
		t.Errorf("the second purchase reused key %s", first)
	}
	if id == got.OrderID {
		t.Errorf("the second purchase shows the declined order %s", id)
	}
	s.want(t, 2) // the declined intent and failed order, then the paid ones
}

// payWith3DSecure pays one product with a card that needs 3-D Secure and waits until the page
// shows its order in requires_action; it returns the order's id.
func payWith3DSecure(t *testing.T, ctx context.Context, s *shop) string {
	t.Helper()
	buyOne(t, ctx, s)
	do(t, ctx, "choose a 3-D Secure card", chromedp.SetValue(chromedp.ID("payment-method"), "pm_card_authenticationRequired"))
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	waitFor(t, ctx, `document.getElementById("order-status").textContent === "requires_action"`)
	return read(t, ctx).OrderID
}

// moveOrder applies to order id what its payment's event (or the reconciler) would: to, for the
// order's own intent.
func moveOrder(t *testing.T, s *shop, id string, to orders.Status) {
	t.Helper()
	o, err := s.Orders.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Orders.Apply(context.Background(), id, orders.Change{To: to, IntentID: o.PaymentIntentID,
		Amount: o.Amount, Currency: o.Currency, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserPollsAnOrderThatNeedsTheBuyer(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	id := payWith3DSecure(t, ctx, s)
	// The buyer confirms; the webhook marks the order paid; the page's polling sees it.
	moveOrder(t, s, id, orders.Paid)
	if got := wantPaid(t, ctx, s); got != id {
		t.Errorf("page shows order %s, want %s", got, id)
	}
	s.want(t, 1)
}

func TestBrowserSaysAnOrderAbandonedIn3DSecureWasNotCharged(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	id := payWith3DSecure(t, ctx, s)
	// The buyer walks away; the reconciler cancels the payment and abandons the order.
	moveOrder(t, s, id, orders.Abandoned)
	waitState(t, ctx, "declined")
	got := read(t, ctx)
	if got.OrderID != id || got.Status != "abandoned" || !strings.Contains(got.Message, "nothing was charged") ||
		!strings.Contains(got.Message, "Start a new purchase") {
		t.Errorf("page shows %+v, want order %s abandoned, saying nothing was charged and to start a new purchase", got, id)
	}
}

func TestBrowserSaysToStartOverWhenAResumedPurchaseWasChanged(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	// A first purchase under a key, sent by another tab of the same session.
	const key = "0b7c6f1e-1d1e-4e0c-9d53-3f4d1b2a9c10"
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/checkout",
		strings.NewReader(`{"items":[{"sku":"mug-enamel","quantity":1}],"amount":1300,"currency":"eur","payment_method":"pm_card_visa"}`))
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("first purchase: %d", res.StatusCode)
	}
	// The page's stored attempt has the same key and another amount: resuming it must not
	// pay, and the page must say so.
	open(t, ctx, s)
	eval[chromedp.Void](t, ctx, fmt.Sprintf(`sessionStorage.setItem("checkout.attempt.v1", JSON.stringify(
		{key: %q, body: {items: [{sku: "mug-enamel", quantity: 2}], amount: 2600, currency: "eur", payment_method: "pm_card_visa"}}))`, key))
	do(t, ctx, "reload", chromedp.Reload())
	waitState(t, ctx, "changed")
	got := read(t, ctx)
	if !strings.Contains(got.Message, "start a new purchase") || got.Attempt != nil {
		t.Errorf("message %q, attempt %+v; want a new purchase asked for and no open attempt", got.Message, got.Attempt)
	}
	do(t, ctx, "start a new purchase", chromedp.Click(chromedp.ID("new-purchase")))
	waitState(t, ctx, "idle")
	setCart(t, ctx, map[string]int{"sticker-pack": 1})
	waitFor(t, ctx, `!document.getElementById("pay").disabled`)
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	wantPaid(t, ctx, s)
	s.want(t, 2)
}

func TestBrowserRetriesWhileTheProviderIsUnavailable(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	// The first two tries answer 502 (provider unreachable, nothing stored); the third pays.
	s.Payments.SetFault(func(_ payment.Request, attempt int) payment.Fault {
		return payment.Fault{Unavailable: attempt <= 2}
	})
	buyOne(t, ctx, s)
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	wantPaid(t, ctx, s)
	keys := []string{s.nextArrival(t, ctx), s.nextArrival(t, ctx), s.nextArrival(t, ctx)}
	if keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("keys of the three tries: %q, want one key", keys)
	}
	if n := s.posts.Load(); n != 3 {
		t.Errorf("%d POST /checkout, want 3", n)
	}
	s.want(t, 1)
}

type row struct {
	SKU, Name, Price, Availability string
	Disabled                       bool
}

// catalogRows returns the products the page lists.
func catalogRows(t *testing.T, ctx context.Context) []row {
	t.Helper()
	var rows []row
	raw := eval[string](t, ctx, `JSON.stringify(Array.from(document.querySelectorAll("#products tr"), (tr) => ({
		SKU: tr.dataset.sku, Name: tr.querySelector("label").textContent,
		Price: document.getElementById("price-" + tr.dataset.sku).textContent,
		Availability: tr.dataset.availability, Disabled: document.getElementById("qty-" + tr.dataset.sku).disabled})))`)
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		t.Fatalf("catalog rows %s: %v", raw, err)
	}
	return rows
}

func TestBrowserListsTheCatalogAndDisablesWhatSellsOut(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	open(t, ctx, s)
	want := []row{ // GET /products: the active products, sorted by sku; cap-retired is not
		{"hoodie-drop-01", "Limited drop hoodie", "$89.00", "in_stock", false},
		{"mug-enamel", "Enamel mug", "$14.00", "in_stock", false},
		{"sticker-pack", "Sticker pack", "$5.00", "in_stock", false},
		{"tee-black-m", "Black tee, M", "$25.00", "in_stock", false},
		{"tee-white-l", "White tee, L", "$25.00", "in_stock", false},
	}
	if got := catalogRows(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the page lists\n%v\nwant\n%v", got, want)
	}
	if d := eval[bool](t, ctx, `document.getElementById("pay").disabled`); !d {
		t.Errorf("Pay is enabled with an empty cart")
	}

	// The last two mugs.
	setCart(t, ctx, map[string]int{"mug-enamel": 2})
	waitFor(t, ctx, `document.getElementById("pay").textContent === "Pay $28.00"`)
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	wantPaid(t, ctx, s)
	sold := `(() => { const tr = document.querySelector('#products tr[data-sku="mug-enamel"]');
		return tr && tr.dataset.availability === "sold_out" && document.getElementById("qty-mug-enamel").disabled })()`
	waitFor(t, ctx, sold)
	do(t, ctx, "reload", chromedp.Reload())
	waitCatalog(t, ctx)
	waitFor(t, ctx, sold)
	for _, r := range catalogRows(t, ctx) {
		if r.SKU != "mug-enamel" && (r.Disabled || r.Availability != "in_stock") {
			t.Errorf("after the mugs sold out: %+v, want it in stock and enabled", r)
		}
	}
	if txt := eval[string](t, ctx, `document.querySelector('#products tr[data-sku="mug-enamel"] th').textContent`); !strings.Contains(txt, "Sold out") {
		t.Errorf("the mug's row says %q, want Sold out", txt)
	}
	s.want(t, 1)
	screenshot(t, ctx)
}

func TestBrowserPaysACartOfTwoProductsWithTheServersTotal(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	open(t, ctx, s)
	setCart(t, ctx, map[string]int{"tee-black-m": 2, "sticker-pack": 3}) // 2 × 25.00 + 3 × 5.00
	waitFor(t, ctx, `document.getElementById("total").textContent === "$65.00" && document.getElementById("pay").textContent === "Pay $65.00"`)
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))

	body := s.sent(t, ctx)
	wantBody := `{"amount":6500,"currency":"usd","items":[{"quantity":3,"sku":"sticker-pack"},{"quantity":2,"sku":"tee-black-m"}],"payment_method":"pm_card_visa"}`
	if got, _ := json.Marshal(body); string(got) != wantBody {
		t.Errorf("POST /checkout body %s, want %s", got, wantBody)
	}
	id := wantPaid(t, ctx, s)
	o, err := s.Orders.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if o.Amount != 6500 || o.Currency != "usd" || len(o.Lines) != 2 {
		t.Errorf("stored order: %d %s, %d lines; want 6500 usd, 2 lines", o.Amount, o.Currency, len(o.Lines))
	}
	lines := eval[[]any](t, ctx, `Array.from(document.querySelectorAll("#lines tr"), (tr) => tr.textContent)`)
	wantLines := []any{"Sticker pack$5.00× 3", "Black tee, M$25.00× 2"}
	if fmt.Sprint(lines) != fmt.Sprint(wantLines) {
		t.Errorf("the page shows the lines %q, want %q (the 201's lines)", lines, wantLines)
	}
	if paid := eval[string](t, ctx, `document.getElementById("receipt").hidden ? "" : document.getElementById("paid-amount").textContent`); paid != "$65.00" {
		t.Errorf("the page shows %q charged, want $65.00", paid)
	}
	do(t, ctx, "reload", chromedp.Reload())
	wantPaid(t, ctx, s)
	if n := eval[int](t, ctx, `document.querySelectorAll("#lines tr").length`); n != 2 {
		t.Errorf("after a reload the page shows %d lines, want 2", n)
	}
	s.want(t, 1)
	screenshot(t, ctx)
}

func TestBrowserConfirmsAChangedPriceWithTheSameKey(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	buyOne(t, ctx, s) // shown at 25.00
	products := catalog.Sample()
	for i := range products {
		if products[i].SKU == "tee-black-m" {
			products[i].Prices["usd"] = 2700
		}
	}
	if _, err := catalog.Load(context.Background(), s.Catalog, products); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	waitState(t, ctx, "price-changed")
	got := read(t, ctx)
	if !strings.Contains(got.Message, "$27.00") || !strings.Contains(got.Message, "$25.00") || got.Pay != "Confirm and pay $27.00" {
		t.Errorf("message %q, Pay %q; want the new total $27.00 (was $25.00) to confirm", got.Message, got.Pay)
	}
	if total := eval[string](t, ctx, `document.getElementById("total").textContent`); total != "$27.00" {
		t.Errorf("total %q, want $27.00", total)
	}
	first := s.nextArrival(t, ctx)
	if b := s.sent(t, ctx); b["amount"] != 2500.0 {
		t.Errorf("first POST amount %v, want 2500", b["amount"])
	}
	s.want(t, 0) // nothing charged before the buyer agrees
	do(t, ctx, "confirm", chromedp.Click(chromedp.ID("pay")))
	id := wantPaid(t, ctx, s)
	if second := s.nextArrival(t, ctx); second != first {
		t.Errorf("the confirmation sent key %q, want the attempt's %q", second, first)
	}
	if b := s.sent(t, ctx); b["amount"] != 2700.0 {
		t.Errorf("confirmation amount %v, want 2700", b["amount"])
	}
	if o, _ := s.Orders.Get(context.Background(), id); o.Amount != 2700 {
		t.Errorf("order amount %d, want 2700", o.Amount)
	}
	s.want(t, 1)
}

func TestBrowserNamesWhatIsOutOfStockAndPaysTheFixedCartWithTheSameKey(t *testing.T) {
	ctx := newBrowser(t)
	s := newShop(t)
	open(t, ctx, s)
	setCart(t, ctx, map[string]int{"tee-white-l": 5, "sticker-pack": 1}) // 3 white tees left
	waitFor(t, ctx, `!document.getElementById("pay").disabled`)
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	waitState(t, ctx, "out-of-stock")
	got := read(t, ctx)
	if !strings.Contains(got.Message, "tee-white-l") || strings.Contains(got.Message, "sticker-pack") {
		t.Errorf("message %q, want tee-white-l named, and only it", got.Message)
	}
	if got.Attempt == nil {
		t.Fatalf("no open attempt after out-of-stock")
	}
	s.want(t, 0)
	screenshot(t, ctx)

	setCart(t, ctx, map[string]int{"tee-white-l": 3})
	waitFor(t, ctx, `document.getElementById("pay").textContent === "Pay $80.00"`)
	do(t, ctx, "click Pay", chromedp.Click(chromedp.ID("pay")))
	wantPaid(t, ctx, s)
	if keys := []string{s.nextArrival(t, ctx), s.nextArrival(t, ctx)}; keys[0] != keys[1] {
		t.Errorf("keys %q, want the attempt's key twice", keys)
	}
	waitFor(t, ctx, `document.getElementById("qty-tee-white-l").disabled`)
	s.want(t, 1)
}
