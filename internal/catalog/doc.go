// Package catalog holds the products a checkout sells: their names, their prices per currency
// and the units loaded into their stock shards (package stock).
//
// A catalog file (one JSON format, see Parse) is loaded with Load: idempotently, so loading the
// same file twice changes nothing. A file's stock is the total of units ever loaded; loading
// adds (or removes) the difference to what the store last recorded and rebalances what is left
// across the product's shards, with conditions on the units it read, so checkouts taking units
// at the same time lose or invent none. Products absent from a file are left alone.
//
// Stores: MemoryStore (over a shared stock.Memory) and DynamoStore (one table keyed by sku,
// holding product items and their shard items). Handler serves GET /products and
// GET /products/{sku}; NewCache keeps prices for a short while.
package catalog
