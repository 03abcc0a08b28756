package diff

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// Content similarity, for pairing members only one side has by name. No
// maintained Go TLSH or ssdeep module is served to this project, so the
// similarity is an estimate of the Jaccard index of the two contents' sets
// of 8-byte shingles, from bottom-k MinHash sketches of their first
// sketchBytes bytes. Two members are paired when the estimate is at least
// minSimilarity; the best pairs are taken first and each member is paired
// once. Candidates come from an inverted index of sketch values, so
// thousands of unmatched members stay linear in practice.

const (
	sketchK       = 64        // values kept per sketch
	sketchBytes   = 256 << 10 // bytes of each member read for its sketch
	minSimilarity = 0.5       // estimated Jaccard index needed to pair
	// maxSimilarMembers bounds the unmatched members per side that are
	// sketched; past it no pairing by content is tried (and it is said).
	maxSimilarMembers = 5000
	// maxCommonValue skips sketch values more members share (zero runs,
	// padding): they say nothing about which members belong together.
	maxCommonValue = 64
)

// sketch returns the bottom-k MinHash sketch of r's 8-byte shingles,
// sorted, or nil when r holds fewer than 8 bytes.
func sketch(r io.Reader) ([]uint64, error) {
	buf, err := io.ReadAll(io.LimitReader(r, sketchBytes))
	if err != nil {
		return nil, err
	}
	var s []uint64
	for i := 0; i+8 <= len(buf); i++ {
		h := binary.LittleEndian.Uint64(buf[i:]) * 0x9e3779b97f4a7c15
		h ^= h >> 31
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 29
		if len(s) == sketchK && h >= s[sketchK-1] {
			continue
		}
		j := sort.Search(len(s), func(k int) bool { return s[k] >= h })
		if j < len(s) && s[j] == h {
			continue
		}
		if len(s) < sketchK {
			s = append(s, 0)
		}
		copy(s[j+1:], s[j:])
		s[j] = h
	}
	return s, nil
}

// similarity estimates the Jaccard index of the sets two sketches sample:
// the share of the k smallest values of their union found in both.
func similarity(a, b []uint64) float64 {
	i, j, n, both := 0, 0, 0, 0
	for n < sketchK && (i < len(a) || j < len(b)) {
		switch {
		case j >= len(b) || i < len(a) && a[i] < b[j]:
			i++
		case i >= len(a) || b[j] < a[i]:
			j++
		default:
			both++
			i++
			j++
		}
		n++
	}
	if n == 0 {
		return 0
	}
	return float64(both) / float64(n)
}

// sketchAll sketches each member, opening it under base; members too
// small to sketch get nil.
func (c *comparer) sketchAll(base *input, ms []*member) ([][]uint64, error) {
	out := make([][]uint64, len(ms))
	for i, m := range ms {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		if m.size < 8 || m.open == nil {
			continue
		}
		in, err := m.open(joinName(base.name, m.name))
		if err != nil {
			return nil, fmt.Errorf("reading member %s of %s: %w", m.name, base.name, err)
		}
		out[i], err = sketch(in.reader())
		in.done()
		if err != nil {
			return nil, fmt.Errorf("reading member %s of %s: %w", m.name, base.name, err)
		}
	}
	return out, nil
}

// pairBySimilarity pairs unmatched members whose contents are similar.
func (c *comparer) pairBySimilarity(a, b *input, ua, ub []*member) ([]renamedPair, error) {
	if len(ua) == 0 || len(ub) == 0 {
		return nil, nil
	}
	if len(ua) > maxSimilarMembers || len(ub) > maxSimilarMembers {
		c.limit(fmt.Sprintf("more than %d members only one side has: they are not paired by content similarity", maxSimilarMembers))
		return nil, nil
	}
	sa, err := c.sketchAll(a, ua)
	if err != nil {
		return nil, err
	}
	sb, err := c.sketchAll(b, ub)
	if err != nil {
		return nil, err
	}
	type cand struct {
		i, j int
		sim  float64
	}
	var cands []cand
	for i, js := range candidates(sa, sb) {
		for _, j := range js {
			lo, hi := min(ua[i].size, ub[j].size), max(ua[i].size, ub[j].size)
			if hi > 4*lo {
				continue
			}
			if s := similarity(sa[i], sb[j]); s >= minSimilarity {
				cands = append(cands, cand{i, j, s})
			}
		}
	}
	sort.SliceStable(cands, func(x, y int) bool { return cands[x].sim > cands[y].sim })
	var out []renamedPair
	for _, cd := range cands {
		m, o := ua[cd.i], ub[cd.j]
		if m.partner != nil || o.partner != nil {
			continue
		}
		m.partner, o.partner = o, m
		out = append(out, renamedPair{m, o, fmt.Sprintf("content %.0f%% similar", 100*cd.sim)})
	}
	return out, nil
}

// candidates lists, for each left sketch, the right sketches sharing at
// least a quarter of its values, through an index of the right values.
func candidates(sa, sb [][]uint64) [][]int {
	index := map[uint64][]int{}
	for j, s := range sb {
		for _, v := range s {
			if l := index[v]; len(l) <= maxCommonValue {
				index[v] = append(l, j)
			}
		}
	}
	out := make([][]int, len(sa))
	count := map[int]int{}
	for i, s := range sa {
		clear(count)
		for _, v := range s {
			if l := index[v]; len(l) <= maxCommonValue {
				for _, j := range l {
					count[j]++
				}
			}
		}
		for j, n := range count {
			if n >= sketchK/4 || n >= len(s)/4 && n > 0 && len(s) < sketchK {
				out[i] = append(out[i], j)
			}
		}
		sort.Ints(out[i])
	}
	return out
}
