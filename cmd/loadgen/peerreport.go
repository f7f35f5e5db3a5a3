package main

import (
	"fmt"
	"strings"
	"time"
)

// peerSummary is the side-by-side in a few lines of console output.
func peerSummary(r *peerReport) string {
	var b strings.Builder
	for _, s := range r.sides {
		for _, path := range []string{pathFirst, pathReplay} {
			c := s.calls[path]
			fmt.Fprintf(&b, "  %-20s %-6s one at a time p50 %s p99 %s; at %d p50 %s p99 %s; ddb/req %.2f, RCU %.2f WCU %.2f\n",
				s.name, path, ms(s.seq[path].quantile(50)), ms(s.seq[path].quantile(99)), r.clients,
				ms(s.con[path].quantile(50)), ms(s.con[path].quantile(99)),
				c.per(float64(c.requests)), c.per(c.rcu), c.per(c.wcu))
		}
		init, initMax := medianMaxDur(s.inits)
		fmt.Fprintf(&b, "  %-20s init p50 %s max %s (%d), peak RSS %s, keys %d orders %d charges %d\n",
			s.name, ms(init), ms(initMax), len(s.inits), mib(s.rss), s.keys.Load(), s.ordersMade, s.charges)
	}
	return b.String()
}

func medianMaxDur(d []time.Duration) (time.Duration, time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), d...)
	for i := range s { // insertion sort: a few dozen values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	n := len(s)
	if n%2 == 1 {
		return s[n/2], s[n-1]
	}
	return (s[n/2-1] + s[n/2]) / 2, s[n-1]
}
