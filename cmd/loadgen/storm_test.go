package main

import (
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
)

func TestPollsPerSecond(t *testing.T) {
	for _, tc := range []struct {
		initial, ceiling time.Duration
		first            int
		steady           float64
	}{
		{25 * time.Millisecond, 400 * time.Millisecond, 5, 2.5}, // polls at 25, 75, 175, 375, 775 ms
		{150 * time.Millisecond, time.Second, 2, 1},             // polls at 150, 450 ms, then 1,050
	} {
		first, steady := pollsPerSecond(tc.initial, tc.ceiling)
		if first != tc.first || steady != tc.steady {
			t.Errorf("pollsPerSecond(%s, %s) = %d, %.1f; want %d, %.1f", tc.initial, tc.ceiling, first, steady, tc.first, tc.steady)
		}
	}
	// The engine's schedule at worst (every delay drawn at its half), as the storm section
	// and internal/idem's comment state it: 3 reads in the first second, 2 a second after.
	if first, steady := pollsPerSecond(idem.PollFirst/2, idem.PollMax/2); first != 3 || steady != 2 {
		t.Errorf("the engine's schedule (%s doubling to %s, at half) = %d, %.1f polls; want 3, 2.0", idem.PollFirst, idem.PollMax, first, steady)
	}
}
