package diff

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// BuildTimes say when the rebuild ran and what SOURCE_DATE_EPOCH it had,
// so that a date or year the build took from its clock can be told from
// other timestamps. Zero fields are unknown.
type BuildTimes struct {
	Rebuilt time.Time // when the rebuild ran (the right side was built)
	Epoch   time.Time // SOURCE_DATE_EPOCH of both builds
}

var (
	dateRe = regexp.MustCompile(`\b((?:19|20)\d\d)[-/.](0[1-9]|1[0-2])[-/.](0[1-9]|[12]\d|3[01])(?:[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?)?\b`)
	yearRe = regexp.MustCompile(`\b(19[7-9]\d|20\d\d)\b`)
)

// explain names build-date on n when the lines added by the rebuild hold
// a date within two days of when it ran (or its year) where the removed
// lines hold another one: the build read its clock. It replaces the
// generic timestamps cause, which it explains more precisely.
func (t BuildTimes) explain(n *Node, removed, added []string) {
	if t.Rebuilt.IsZero() || len(removed) == 0 || len(added) == 0 {
		return
	}
	evidence := t.dateFromClock(removed, added)
	if evidence == "" {
		evidence = t.yearFromClock(removed, added)
	}
	if evidence == "" {
		return
	}
	removeCause(n, CauseTimestamps)
	addCause(n, CauseBuildDate, evidence)
}

// dateFromClock: a date (or date and time) on the right is within two
// days of the rebuild, and the left has a different one. It returns the
// evidence ("date: 2023-11-14 → 2026-12-02, the rebuild ran 2026-12-02"),
// or "".
func (t BuildTimes) dateFromClock(removed, added []string) string {
	right := dates(added)
	left := dates(removed)
	for _, d := range right {
		if d.Sub(t.Rebuilt.UTC()).Abs() > 48*time.Hour {
			continue
		}
		for _, l := range left {
			if !l.Equal(d) {
				return fmt.Sprintf("date: %s → %s, the rebuild ran %s", stamp(l), stamp(d), t.Rebuilt.UTC().Format("2006-01-02 15:04"))
			}
		}
	}
	return ""
}

// stamp shows a date, with its time of day when it has one.
func stamp(d time.Time) string {
	if d.Hour() == 0 && d.Minute() == 0 && d.Second() == 0 {
		return d.Format("2006-01-02")
	}
	return d.Format("2006-01-02 15:04:05")
}

// yearFromClock: the right has the rebuild's year where the left has
// SOURCE_DATE_EPOCH's (a copyright year, say). It returns the evidence,
// or "".
func (t BuildTimes) yearFromClock(removed, added []string) string {
	if t.Epoch.IsZero() || t.Epoch.Year() == t.Rebuilt.Year() {
		return ""
	}
	if hasYear(added, t.Rebuilt.Year()) && hasYear(removed, t.Epoch.Year()) && !hasYear(removed, t.Rebuilt.Year()) {
		return fmt.Sprintf("year: %d (SOURCE_DATE_EPOCH's) → %d (the rebuild's)", t.Epoch.Year(), t.Rebuilt.Year())
	}
	return ""
}

func dates(lines []string) []time.Time {
	var out []time.Time
	for _, l := range lines {
		for _, m := range dateRe.FindAllStringSubmatch(l, 16) {
			var v [6]int
			for i := range v {
				v[i], _ = strconv.Atoi(m[i+1])
			}
			out = append(out, time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC))
		}
	}
	return out
}

func hasYear(lines []string, year int) bool {
	want := strconv.Itoa(year)
	for _, l := range lines {
		for _, m := range yearRe.FindAllString(l, 16) {
			if m == want {
				return true
			}
		}
	}
	return false
}
