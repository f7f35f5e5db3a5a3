package checkout_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// onStores runs f on memory stores and on DynamoDB Local.
func onStores(t *testing.T, f func(t *testing.T, e *env)) {
	for _, store := range []string{"memory", "dynamodb"} {
		t.Run("on "+store, func(t *testing.T) {
			t.Parallel()
			var opts []option
			if store == "dynamodb" {
				opts = append(opts, onDynamo(t, new(ddb.Counter)))
			}
			f(t, newEnv(t, opts...))
		})
	}
}

// nothingKept fails t unless nothing was charged, no record is held and no order exists.
func nothingKept(t *testing.T, e *env) {
	t.Helper()
	if calls, records, n := e.local.Calls(), e.keys.(*testenv.Keys).Len(), e.countOrders(t); calls != 0 || records != 0 || n != 0 {
		t.Fatalf("provider calls %d, idempotency records %d, orders %d; want none", calls, records, n)
	}
}

func TestTamperedAmountAnswersPriceChanged(t *testing.T) {
	onStores(t, func(t *testing.T, e *env) {
		tampered := strings.Replace(validBody, `"amount":2500`, `"amount":1`, 1)
		p := testenv.AssertProblem(t, e.post("k1", tampered), http.StatusConflict, problem.PriceChanged)
		if p.Amount != 2500 || p.Currency != "usd" || !strings.Contains(p.Detail, "nothing was charged") {
			t.Fatalf("problem %+v, want the real total 2500 usd", p)
		}
		nothingKept(t, e)
		if n := e.available(t, "tee-black-m"); n != 100 {
			t.Fatalf("%d tee-black-m left, want 100", n)
		}
		// Nothing was stored: the same key, with the total shown again, runs afresh.
		w := e.post("k1", validBody)
		if w.Code != http.StatusCreated || w.Header().Get(idem.ReplayedHeader) != "" || decode(t, w).Status != orders.Paid {
			t.Fatalf("the same key with the right amount: %d %s", w.Code, w.Body)
		}
		if e.local.Calls() != 1 || e.countOrders(t) != 1 || e.available(t, "tee-black-m") != 99 {
			t.Fatalf("provider calls %d, orders %d, tee-black-m %d; want 1, 1, 99", e.local.Calls(), e.countOrders(t), e.available(t, "tee-black-m"))
		}
	})
}

func TestUnknownProductIsNotStored(t *testing.T) {
	onStores(t, func(t *testing.T, e *env) {
		for _, sku := range []string{"no-such-thing", "cap-retired"} { // unknown, inactive
			body := cartBody(`[{"sku":"tee-black-m","quantity":1},{"sku":"` + sku + `","quantity":1}]`)
			p := testenv.AssertProblem(t, e.post("k1", body), http.StatusBadRequest, problem.UnknownProduct)
			if !reflect.DeepEqual(p.SKUs, []string{sku}) || p.Field != "items" || !strings.Contains(p.Detail, sku) {
				t.Fatalf("problem %+v, want it to name %s", p, sku)
			}
			nothingKept(t, e)
		}
		if w := e.post("k1", validBody); w.Code != http.StatusCreated || w.Header().Get(idem.ReplayedHeader) != "" {
			t.Fatalf("the same key with a fixed cart: %d %s", w.Code, w.Body)
		}
	})
}

func TestOutOfStock(t *testing.T) {
	onStores(t, func(t *testing.T, e *env) {
		// 3 mugs of 2, with a tee that is in stock: only the mug is named.
		body := cartBody(`[{"sku":"tee-black-m","quantity":1},{"sku":"mug-enamel","quantity":3}]`)
		p := testenv.AssertProblem(t, e.post("k1", body), http.StatusConflict, problem.OutOfStock)
		if !reflect.DeepEqual(p.SKUs, []string{"mug-enamel"}) || !strings.Contains(p.Detail, "mug-enamel") || strings.Contains(p.Detail, "tee-black-m") {
			t.Fatalf("problem %+v, want it to name mug-enamel only", p)
		}
		nothingKept(t, e)
		if mugs, tees := e.available(t, "mug-enamel"), e.available(t, "tee-black-m"); mugs != 2 || tees != 100 {
			t.Fatalf("%d mug-enamel, %d tee-black-m left; want 2 and 100 (stock unchanged)", mugs, tees)
		}
		// Nothing was stored: the same key with a cart that fits pays, for the last 2 mugs.
		fits := strings.Replace(body, `"quantity":3`, `"quantity":2`, 1)
		w := e.post("k1", fits)
		if w.Code != http.StatusCreated || w.Header().Get(idem.ReplayedHeader) != "" || decode(t, w).Amount != 2500+2*1400 {
			t.Fatalf("the same key with 2 mugs: %d %s", w.Code, w.Body)
		}
		if mugs := e.available(t, "mug-enamel"); mugs != 0 {
			t.Fatalf("%d mug-enamel left, want 0", mugs)
		}
		// Sold out now: another buyer is told so, and charged nothing.
		testenv.AssertProblem(t, e.post("k2", cartBody(`[{"sku":"mug-enamel","quantity":1}]`)), http.StatusConflict, problem.OutOfStock)
		if e.local.Calls() != 1 || e.countOrders(t) != 1 {
			t.Fatalf("provider calls %d, orders %d; want 1 and 1", e.local.Calls(), e.countOrders(t))
		}
	})
}

func TestDeclinePutsTheUnitsBack(t *testing.T) {
	onStores(t, func(t *testing.T, e *env) {
		body := `{"items":[{"sku":"mug-enamel","quantity":2},{"sku":"hoodie-drop-01","quantity":5}],"currency":"usd","payment_method":"pm_card_chargeDeclined"}`
		first := e.post("k1", body)
		testenv.AssertProblem(t, first, http.StatusPaymentRequired, problem.PaymentDeclined)
		if mugs, hoodies := e.available(t, "mug-enamel"), e.available(t, "hoodie-drop-01"); mugs != 2 || hoodies != 100 {
			t.Fatalf("after the decline: %d mug-enamel, %d hoodie-drop-01 left; want 2 and 100", mugs, hoodies)
		}
		again := e.post("k1", body)
		if again.Code != http.StatusPaymentRequired || again.Body.String() != first.Body.String() || again.Header().Get(idem.ReplayedHeader) != "true" {
			t.Fatalf("retry: %d %s, want the 402 replayed", again.Code, again.Body)
		}
		if e.local.Calls() != 1 || e.orderStatus(t, "k1") != orders.Failed || e.available(t, "mug-enamel") != 2 {
			t.Fatalf("provider calls %d, order %s, mugs %d", e.local.Calls(), e.orderStatus(t, "k1"), e.available(t, "mug-enamel"))
		}
		// The mugs are for sale again.
		if w := e.post("k2", cartBody(`[{"sku":"mug-enamel","quantity":2}]`)); w.Code != http.StatusCreated {
			t.Fatalf("buying the mugs put back: %d %s", w.Code, w.Body)
		}
	})
}

func TestLastUnitsRace(t *testing.T) {
	const buyers = 50
	onStores(t, func(t *testing.T, e *env) {
		start := make(chan struct{})
		var wg sync.WaitGroup
		codes := make([]int, buyers)
		bodies := make([]string, buyers)
		for i := range buyers {
			wg.Go(func() {
				<-start
				w := e.post(fmt.Sprintf("buyer-%d", i), cartBody(`[{"sku":"mug-enamel","quantity":1}]`))
				codes[i], bodies[i] = w.Code, w.Body.String()
			})
		}
		close(start)
		wg.Wait()
		paid, out := 0, 0
		for i, code := range codes {
			switch {
			case code == http.StatusCreated && strings.Contains(bodies[i], `"status":"paid"`):
				paid++
			case code == http.StatusConflict && strings.Contains(bodies[i], problem.OutOfStock) && strings.Contains(bodies[i], "mug-enamel"):
				out++
			default:
				t.Errorf("buyer %d: %d %s", i, code, bodies[i])
			}
		}
		t.Logf("%d buyers of the last 2 mug-enamel: %d paid, %d out of stock", buyers, paid, out)
		if paid != 2 || out != buyers-2 {
			t.Fatalf("%d paid, %d out of stock; want 2 and %d", paid, out, buyers-2)
		}
		if e.local.Created() != 2 || e.countOrders(t) != 2 || e.available(t, "mug-enamel") != 0 {
			t.Fatalf("payment intents %d, orders %d, mugs left %d; want 2, 2, 0", e.local.Created(), e.countOrders(t), e.available(t, "mug-enamel"))
		}
	})
}
