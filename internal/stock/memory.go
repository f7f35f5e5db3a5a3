package stock

import (
	"fmt"
	"sync"
)

// Memory keeps shards' units in a map: the stock of the in-memory stores (`make run`, fast
// tests). Its writes are functions that check every draw and then apply all of them under its
// own lock, calling nothing else, so they may run under another store's lock.
type Memory struct {
	mu    sync.Mutex
	units map[string]int
}

// NewMemory returns empty stock.
func NewMemory() *Memory { return &Memory{units: map[string]int{}} }

// Units returns the units of the shard item key (0 when absent).
func (m *Memory) Units(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.units[key]
}

// Swap sets the units of the shard items in set provided each still holds the units in was:
// the loader's optimistic rebalancing. It reports false, changing nothing, when one changed.
func (m *Memory) Swap(was, set map[string]int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, u := range was {
		if m.units[k] != u {
			return false
		}
	}
	for k, u := range set {
		m.units[k] = u
	}
	return true
}

// Take takes draws, all or none: it returns a *ShortError naming the skus of the draws whose
// shards hold too few units, and fills known with those shards' units.
func (m *Memory) Take(draws []Draw, known Known) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var short []string
	for _, d := range draws {
		if u := m.units[d.Key()]; u < d.Units {
			if known != nil {
				known[d.Key()] = u
			}
			short = append(short, d.SKU)
		}
	}
	if len(short) > 0 {
		return &ShortError{SKUs: short}
	}
	for _, d := range draws {
		if d.Units <= 0 {
			return fmt.Errorf("stock: draw of %d units", d.Units)
		}
	}
	for _, d := range draws {
		m.units[d.Key()] -= d.Units
	}
	return nil
}

// PutBack returns draws to their shards.
func (m *Memory) PutBack(draws []Draw) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range draws {
		m.units[d.Key()] += d.Units
	}
}
