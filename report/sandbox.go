package report

import (
	"fmt"
	"math"
	"strings"
)

// writeText prints the sandbox's limits, each one this host did not
// enforce with the reason, the dropped log and any quarantined entry.
func (sb *Sandbox) writeText(ew *errWriter, p palette) {
	l := sb.Limits
	parts := []string{
		"memory " + bytesText(l.Memory),
		fmt.Sprintf("pids %d", l.Pids),
		fmt.Sprintf("disk %s (%s)", bytesText(l.Disk), l.DiskMethod),
	}
	if l.Timeout > 0 {
		parts = append(parts, "timeout "+l.Timeout.String())
	}
	ew.printf("  %-9s %s\n", "limits", termSafe(strings.Join(parts, ", ")))
	for _, n := range l.NotEnforced {
		ew.printf("  %-9s %s\n", "", p.warn.Sprint(termSafe(n.Limit+" limit not enforced: "+n.Reason)))
	}
	if sb.LogDropped > 0 {
		ew.printf("  %-9s %s\n", "", p.dim.Sprint("the log keeps its last 64 MiB; "+bytesText(sb.LogDropped)+" before them were dropped"))
	}
	for _, q := range sb.Quarantined {
		ew.printf("  %-9s %s\n", "cache", p.warn.Sprint(termSafe(fmt.Sprintf("%s was damaged (%s); set aside in %s and derived again", q.Entry, q.Reason, q.MovedTo))))
	}
}

// bytesText writes n in binary units: 16 GiB, 1.5 MiB, 100 B.
func bytesText(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d %s", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
