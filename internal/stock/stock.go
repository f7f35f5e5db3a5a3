// Package stock keeps a product's units in shards and plans which shards a purchase draws from.
//
// A sku's units live in S shard items of the catalog table (keys ShardKey(sku, 0..S-1), each
// with a Units attribute). One item on one DynamoDB partition takes about 1,000 write units a
// second; a transactional write costs 2 per item, so one shard sells a few hundred units a
// second: a hot product is split across several shards. A purchase draws from the shard its
// idempotency key points at and moves on to the next ones when that one runs short, so a sale
// does not end while units remain in any shard. The order records its draws, and a release puts
// each draw back into the shard it came from.
//
// Units are taken and put back only inside the transactions that change an order (package
// orders): stock left + units held by orders = units loaded, at every quiescent point.
package stock

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
)

// Attributes of a shard item in the catalog table, besides its key (the table's partition key,
// KeyAttribute): Units available now, and the sku it belongs to.
const (
	KeyAttribute   = "sku"
	UnitsAttribute = "units"
	SKUAttribute   = "shard_of"
	// MaxShards bounds S: a reservation's transaction holds at most one item per shard of each
	// line, and DynamoDB transactions hold at most 100 items.
	MaxShards = 32
)

// ShardKey returns the key of shard n of sku: sku, "#", n. Skus never contain '#'.
func ShardKey(sku string, n int) string { return sku + "#" + strconv.Itoa(n) }

// ParseShardKey splits a ShardKey; ok is false for a key that is not one (a product's).
func ParseShardKey(key string) (sku string, n int, ok bool) {
	i := strings.LastIndexByte(key, '#')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(key[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return key[:i], n, true
}

// Draw is units taken from one shard of a sku.
type Draw struct {
	SKU   string `json:"sku" dynamodbav:"sku"`
	Shard int    `json:"shard" dynamodbav:"shard"`
	Units int    `json:"units" dynamodbav:"units"`
}

// Key returns the shard item's key.
func (d Draw) Key() string { return ShardKey(d.SKU, d.Shard) }

// Need is what one line of a purchase wants: Quantity units of SKU, kept in Shards shards.
type Need struct {
	SKU      string
	Quantity int
	Shards   int
}

// ErrShort is matched by a *ShortError.
var ErrShort = errors.New("stock: not enough units")

// ShortError names the skus that do not have the units a purchase asked for. Nothing was taken.
// Left holds, for each, the units its shards held when last seen.
type ShortError struct {
	SKUs []string
	Left map[string]int
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("stock: not enough units of %s", strings.Join(e.SKUs, ", "))
}

// Is makes errors.Is(err, ErrShort) hold.
func (e *ShortError) Is(target error) bool { return target == ErrShort }

// Known is what a planner has learnt of shards' units (by key), from failed conditions.
type Known map[string]int

// Plan returns the draws that fill needs, starting each sku at the shard seed points at and
// moving on to the next shards: a shard whose units are known gives at most those, one whose
// units are unknown is asked for all that is still missing. It returns the skus whose shards are
// all known and together too short (then draws is nil).
func Plan(seed string, needs []Need, known Known) (draws []Draw, short []string) {
	for _, n := range needs {
		s := max(n.Shards, 1)
		start := int(hash(seed+"\x00"+n.SKU) % uint64(s))
		left := n.Quantity
		for i := 0; i < s && left > 0; i++ {
			shard := (start + i) % s
			take := left
			if u, ok := known[ShardKey(n.SKU, shard)]; ok {
				take = min(take, u)
			}
			if take > 0 {
				draws = append(draws, Draw{SKU: n.SKU, Shard: shard, Units: take})
				left -= take
			}
		}
		if left > 0 {
			short = append(short, n.SKU)
		}
	}
	if len(short) > 0 {
		slices.Sort(short)
		return nil, short
	}
	return draws, nil
}

// Left returns the units known to be left in the shards of sku (a Need's Shards).
func Left(known Known, sku string, shards int) int {
	n := 0
	for i := range max(shards, 1) {
		n += known[ShardKey(sku, i)]
	}
	return n
}

// Total returns the units of draws.
func Total(draws []Draw) int {
	n := 0
	for _, d := range draws {
		n += d.Units
	}
	return n
}

func hash(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// Split divides units across shards as evenly as possible, the first shards taking the rest.
func Split(units, shards int) []int {
	shards = max(shards, 1)
	out := make([]int, shards)
	for i := range out {
		out[i] = units / shards
		if i < units%shards {
			out[i]++
		}
	}
	return out
}
