package orders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/checkout-idem/checkout/internal/stock"
)

// Line is one line of an order: a product and how many, at the unit price fixed when the order
// was made (the catalog may change later; the order does not).
type Line struct {
	SKU       string `json:"sku" dynamodbav:"sku"`
	Name      string `json:"name" dynamodbav:"name"`
	UnitPrice int64  `json:"unit_price" dynamodbav:"unit_price"` // minor units
	Quantity  int    `json:"quantity" dynamodbav:"quantity"`
	// Shards is how many stock shards the sku had when the order was made: where a units
	// taken again after a release may come from.
	Shards int `json:"-" dynamodbav:"shards"`
}

// Units is where an order's units are. An order's units move only in the same write that
// changes the order, so stock left + the units of orders whose Units is Held = stock loaded.
type Units string

const (
	// NoUnits: an order without lines (made by Create, or before the catalog existed).
	NoUnits Units = ""
	// Held: taken from stock. Reserved while the order is open, sold once it is paid.
	Held Units = "held"
	// Released: back in stock, exactly once: after a decline, a provider failure (the order
	// stays created until a retry takes them again), an abandoned order, or a late payment
	// refunded because the units were gone.
	Released Units = "released"
)

// Reasons of a refund the package made itself.
const ReasonOutOfStock = "out_of_stock"

// Total returns the sum of the lines' prices.
func Total(lines []Line) int64 {
	var t int64
	for _, l := range lines {
		t += l.UnitPrice * int64(l.Quantity)
	}
	return t
}

// shortOf reports the skus Plan found short, with the units their shards hold.
func shortOf(skus []string, lines []Line, known stock.Known) *stock.ShortError {
	e := &stock.ShortError{SKUs: skus, Left: map[string]int{}}
	for _, l := range lines {
		if slices.Contains(skus, l.SKU) {
			e.Left[l.SKU] = stock.Left(known, l.SKU, l.Shards)
		}
	}
	return e
}

// needs returns what lines ask of stock.
func needs(lines []Line) []stock.Need {
	out := make([]stock.Need, 0, len(lines))
	for _, l := range lines {
		out = append(out, stock.Need{SKU: l.SKU, Quantity: l.Quantity, Shards: l.Shards})
	}
	return out
}

// withShards returns a copy of lines with each line's Shards from shards.
func withShards(lines []Line, shards map[string]int) []Line {
	out := slices.Clone(lines)
	for i := range out {
		out[i].Shards = shards[out[i].SKU]
	}
	return out
}

// purchase identifies what o asks for: a Reserve on an existing order must ask for the same,
// since a charge for it may exist.
func purchase(o Order) string {
	lines := slices.Clone(o.Lines)
	for i := range lines {
		lines[i].Shards = 0 // where units come from is not what was asked for
	}
	b, _ := json.Marshal(struct {
		Cart     string
		Lines    []Line
		Amount   int64
		Currency string
		Email    string
		Method   string
		Owner    string
	}{o.CartID, lines, o.Amount, o.Currency, o.CustomerEmail, o.PaymentMethod, o.Owner})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// checkReserve validates o for Reserve.
func checkReserve(o Order, shards map[string]int) error {
	if err := checkOrder(o); err != nil {
		return err
	}
	if len(o.Lines) == 0 {
		return fmt.Errorf("orders: reserve %s: no lines", o.ID)
	}
	for _, l := range o.Lines {
		if l.Quantity <= 0 || l.UnitPrice <= 0 {
			return fmt.Errorf("orders: reserve %s: line %s of %d at %d", o.ID, l.SKU, l.Quantity, l.UnitPrice)
		}
		if s := shards[l.SKU]; s < 1 || s > stock.MaxShards {
			return fmt.Errorf("orders: reserve %s: %s has %d shards", o.ID, l.SKU, s)
		}
	}
	if Total(o.Lines) != o.Amount {
		return fmt.Errorf("orders: reserve %s: amount %d is not the lines' total %d", o.ID, o.Amount, Total(o.Lines))
	}
	return nil
}

// reserved reports whether old already holds the units of the purchase o asks for: a retry of a
// reservation that committed (its answer lost, or its process dead), which takes nothing again.
func reserved(old, o Order) bool {
	return old.Status == Created && old.Units == Held && purchase(old) == purchase(o)
}

// retakable reports whether Reserve may (re)take units for o over old: a created order whose
// units were released (the provider failed) or an abandoned one, for the same purchase.
func retakable(old, o Order) bool {
	return (old.Status == Created && old.Units == Released || old.Status == Abandoned) && purchase(old) == purchase(o)
}

// effect is what a change does to an order's units.
type effect int

const (
	keep    effect = iota
	release        // put the draws back
	retake         // take the draws again (a payment after the units were released)
)

// unitsEffect returns what moving o to `to` does to its units.
func unitsEffect(o Order, to Status) effect {
	switch {
	case len(o.Draws) == 0:
		return keep
	case o.Units == Held && (to == Failed || to == Abandoned):
		return release
	case o.Units == Released && to == Paid:
		return retake
	}
	return keep
}

// maxReserveAttempts bounds Reserve's rounds: each failed round learns the units of at least
// one shard, so a purchase settles within its lines' shards plus a few conflicts.
const maxReserveAttempts = 3*stock.MaxShards + 10

// unstocked reports whether o was paid after its units went back to stock and were sold: it
// waits for its refund, and Stuck lists it (as created) until then.
func unstocked(o Order) bool { return o.Status == Paid && o.Units == Released && len(o.Draws) > 0 }
