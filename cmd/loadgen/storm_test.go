package main

import (
	"testing"
	"time"
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
}
