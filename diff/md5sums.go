package diff

import (
	"bufio"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// md5sumsFormat compares a .deb's md5sums (and any "HASH  PATH" listing)
// by path, not by line position: one line per path whose hash differs, or
// that is only on one side.
type md5sumsFormat struct{}

func (md5sumsFormat) Name() string { return "md5sums" }

var md5sumsLine = regexp.MustCompile(`^[0-9a-f]{32,128}  \S.*$`)

// Detect: text whose complete lines in the head are all "HEX  PATH".
func (md5sumsFormat) Detect(h []byte) bool {
	if !looksText(h) {
		return false
	}
	lines := strings.Split(string(h), "\n")
	if len(lines) > 1 {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		if !md5sumsLine.MatchString(l) {
			return false
		}
	}
	return len(lines) > 0
}

// maxMD5sumsSize is the largest listing compared by path.
const maxMD5sumsSize = 64 << 20

func readSums(in *input) (map[string]string, error) {
	if in.size > maxMD5sumsSize {
		return nil, fmt.Errorf("larger than %d MiB", maxMD5sumsSize>>20)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(in.reader())
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			continue
		}
		if !md5sumsLine.MatchString(l) {
			return nil, fmt.Errorf("line %q is not HASH  PATH", l)
		}
		sum, p, _ := strings.Cut(l, "  ")
		out[p] = sum
	}
	return out, sc.Err()
}

func (md5sumsFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	sa, err := readSums(a)
	if err != nil {
		return nil, err
	}
	sb, err := readSums(b)
	if err != nil {
		return nil, err
	}
	paths := map[string]bool{}
	for p := range sa {
		paths[p] = true
	}
	for p := range sb {
		paths[p] = true
	}
	var sorted []string
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	var la, lb []string
	for _, p := range sorted {
		if sa[p] == sb[p] {
			continue
		}
		if sa[p] != "" {
			la = append(la, sa[p]+"  "+p)
		}
		if sb[p] != "" {
			lb = append(lb, sb[p]+"  "+p)
		}
	}
	n := newNode(a, b, KindContent, "md5sums")
	if len(la) == 0 && len(lb) == 0 {
		n.Kind = KindOrder
		n.Comments = []string{"the same paths and hashes in another order"}
		addCause(n, CauseFileOrder, fmt.Sprintf("the same %d paths and hashes in another order", len(sorted)))
		return n, nil
	}
	c.linesDiff(n, la, lb, false)
	what := fmt.Sprintf("matched by path: %d of %d paths differ", max(len(la), len(lb)), len(sorted))
	n.Comments = append(n.Comments, what+"; each follows from the file's own difference")
	addCause(n, CauseChecksums, what)
	return n, nil
}
