package catalog

import (
	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/stock"
)

// PartitionKey of the catalog table, shared by product items (keyed by sku) and their shard
// items (keyed by stock.ShardKey); template.yaml declares the same.
const PartitionKey = stock.KeyAttribute

// Attributes of a product item.
const (
	nameAttr   = "name"
	pricesAttr = "prices" // a map of currency to minor units
	activeAttr = "active"
	stockAttr  = "stock"
	shardsAttr = "shards"
)

// Table returns the definition of a catalog table named name (no TTL, no index).
func Table(name string) ddb.Table {
	return ddb.Table{Name: name, PartitionKey: PartitionKey}
}
