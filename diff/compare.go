package diff

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/reprove/reprove/diff/archive"
)

// Format is one file format the engine understands. Each lives in its own
// file and is registered in formats; detection is by content, never by name.
// The set is closed: compare uses the engine's internals.
type Format interface {
	// Name is the format's short name, as shown in Node.Format.
	Name() string
	// Detect reports whether head, the first bytes of an input (up to
	// headSize, 36 KiB: an ISO 9660 volume descriptor is at 32 KiB),
	// starts a value of this format.
	Detect(head []byte) bool
	// compare explains how a and b, both of this format and known to differ,
	// differ. An error means the input is malformed; the engine then compares
	// the pair as bytes and says so.
	compare(c *comparer, a, b *input, depth int) (*Node, error)
}

// formats in detection order: strong magic first, weak guesses last.
var formats = []Format{
	elfFormat{},
	peFormat{},
	machoFormat{},
	classFormat{},
	rpmFormat{},
	squashfsFormat{},
	iso9660Format{},
	sqliteFormat{},
	pngFormat{},
	pycFormat{},
	moFormat{},
	zipFormat{},
	gzipFormat{},
	bzip2Format{},
	xzFormat{},
	zstdFormat{},
	arFormat{},
	cpioFormat{},
	tarFormat{},
	lzmaFormat{},
	pdfFormat{},
	jsonFormat{},
	deb822Format{},
	md5sumsFormat{},
	textFormat{},
	binaryFormat{},
}

const headSize = 36 << 10

// Formats lists the names of the formats the engine recognises, in
// detection order, plus "dir".
func Formats() []string {
	names := []string{"dir"}
	for _, f := range formats {
		names = append(names, f.Name())
	}
	return names
}

func detect(head []byte) Format {
	for _, f := range formats {
		if f.Detect(head) {
			return f
		}
	}
	return binaryFormat{}
}

// comparer holds the state of one comparison: options, limits hit, report
// bytes spent, temporary files, normalizations that changed something.
type comparer struct {
	ctx         context.Context
	opts        Options
	norm        map[string]bool
	tmpDir      string
	tmpRelease  func() // unlocks tmpDir (see reclaim.go)
	closers     []io.Closer
	mu          sync.Mutex        // guards open, tmpDir, tempBytes and reportBytes: sides are listed concurrently
	open        map[*os.File]bool // files opened for members, closed by release or at the end
	tempBytes   int64             // bytes in temporary files now, against Options.MaxTempSize
	reportBytes int64
	limMu       sync.Mutex // guards limits and limitSeen
	limits      []string
	limitSeen   map[string]bool
	normHits    map[string][]string // pass → inputs where it hid a difference
	excludeHits []int               // per Options.Exclude pattern, members it matched
	suppressed  int
}

// fatalError marks errors that are not about malformed input (temporary
// files, cancellation): they stop the comparison.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// tempLimitError says a member was not unpacked because its temporary copy
// would pass Options.MaxTempSize; the pair is then compared as bytes.
type tempLimitError struct{ name string }

func (e *tempLimitError) Error() string {
	return "unpacking " + e.name + " would pass the temporary space limit"
}

// reserve accounts for n more bytes of temporary files; false when that
// would pass MaxTempSize.
func (c *comparer) reserve(n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tempBytes+n > c.opts.MaxTempSize {
		return false
	}
	c.tempBytes += n
	return true
}

// budgetWriter writes to a temporary file while the temporary space budget
// allows, counting what it reserved; releasing the file's input returns it.
type budgetWriter struct {
	c    *comparer
	f    *os.File
	name string
	n    int64
}

func (w *budgetWriter) Write(p []byte) (int, error) {
	if !w.c.reserve(int64(len(p))) {
		return 0, &tempLimitError{w.name}
	}
	n, err := w.f.Write(p)
	w.n += int64(len(p))
	if err != nil {
		return n, &fatalError{fmt.Errorf("writing temporary copy of %s: %w", w.name, err)}
	}
	return n, nil
}

func newComparer(ctx context.Context, a, b string, opts Options) (*comparer, error) {
	if err := ValidateNormalizations(opts.Normalize); err != nil {
		return nil, err
	}
	opts = opts.withDefaults(a, b)
	for _, g := range opts.Exclude {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("exclude pattern %q is not a valid glob (doublestar syntax: *, **, ?, [a-z], {a,b})", g)
		}
	}
	c := &comparer{excludeHits: make([]int, len(opts.Exclude)), ctx: ctx, opts: opts, norm: map[string]bool{}, limitSeen: map[string]bool{}, open: map[*os.File]bool{}, normHits: map[string][]string{}}
	for _, n := range opts.Normalize {
		c.norm[n] = true
	}
	return c, nil
}

func (c *comparer) close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		errs = append(errs, c.closers[i].Close())
	}
	for f := range c.open {
		errs = append(errs, f.Close())
	}
	if c.tmpDir != "" {
		errs = append(errs, os.RemoveAll(c.tmpDir))
		c.tmpRelease()
	}
	return errors.Join(errs...)
}

// openTop opens a command-line input.
func (c *comparer) openTop(p, name string) (*input, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading input %s: %w", p, err)
	}
	if st.IsDir() {
		return &input{name: name, label: name, path: p, dir: true}, nil
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("input %s is neither a regular file nor a directory", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("opening input %s: %w", p, err)
	}
	c.closers = append(c.closers, f)
	return &input{name: name, label: name, size: st.Size(), ra: f}, nil
}

// tempFile makes a temporary file that lives until the comparison ends.
func (c *comparer) tempFile() (*os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tmpDir == "" {
		d, release, err := makeTempDir(c.opts.TempDir)
		if err != nil {
			return nil, &fatalError{fmt.Errorf("making a temporary directory under %s (set Options.TempDir): %w", c.opts.TempDir, err)}
		}
		c.tmpDir, c.tmpRelease = d, release
	}
	f, err := os.CreateTemp(c.tmpDir, "member-")
	if err != nil {
		return nil, &fatalError{fmt.Errorf("making a temporary file: %w", err)}
	}
	c.open[f] = true
	return f, nil
}

// fileInput makes an input of an open file that release closes; a
// temporary one is also removed and its size returned to the temporary
// space budget.
func (c *comparer) fileInput(f *os.File, name, label string, size int64, temp bool) *input {
	c.mu.Lock()
	c.open[f] = true
	c.mu.Unlock()
	return &input{name: name, label: label, size: size, ra: f, release: func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.open[f] {
			delete(c.open, f)
			f.Close()
			if temp {
				os.Remove(f.Name())
				c.tempBytes -= size
			}
		}
	}}
}

// spill copies r into memory when small, else into a temporary file, and
// returns it as an input.
func (c *comparer) spill(name, label string, r io.Reader) (*input, error) {
	const memMax = 256 << 10
	buf := make([]byte, memMax+1)
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return memInput(name, label, buf[:n]), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	f, err := c.tempFile()
	if err != nil {
		return nil, err
	}
	w := &budgetWriter{c: c, f: f, name: name}
	// A partial copy is dropped the way a finished one is released.
	discard := func() { c.fileInput(f, name, label, w.n, true).done() }
	if _, err := w.Write(buf[:n]); err != nil {
		discard()
		return nil, err
	}
	if _, err := io.Copy(w, r); err != nil {
		discard()
		var le *tempLimitError
		var fe *fatalError
		if errors.As(err, &le) || errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return c.fileInput(f, name, label, w.n, true), nil
}

func (c *comparer) limit(msg string) {
	c.limMu.Lock()
	defer c.limMu.Unlock()
	if !c.limitSeen[msg] {
		c.limitSeen[msg] = true
		c.limits = append(c.limits, msg)
	}
}

// spend accounts for diff text added to the report; false means the report
// size limit is reached and the text must be dropped.
func (c *comparer) spend(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reportBytes+int64(n) > c.budget() {
		c.limit(fmt.Sprintf("report size limit of %d bytes reached: later diffs are omitted (raise --max-report-size)", c.opts.MaxReportSize))
		return false
	}
	c.reportBytes += int64(n)
	return true
}

func (c *comparer) setUnified(n *Node, text string) {
	if text == "" {
		return
	}
	if !c.spend(len(text)) {
		n.Comments = append(n.Comments, "diff omitted: report size limit reached")
		return
	}
	n.Unified = text
}

func (c *comparer) setHex(n *Node, text string) {
	if text == "" {
		return
	}
	if !c.spend(len(text)) {
		n.Comments = append(n.Comments, "hex diff omitted: report size limit reached")
		return
	}
	n.Hex = text
}

// maxNormPaths bounds the inputs listed for one normalization pass.
const maxNormPaths = 200

// normalized reports whether pass is on; when it is, it records that the
// pass hid a difference in the input named where.
func (c *comparer) normalized(pass, where string) bool {
	if pass == "" || !c.norm[pass] {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	paths := c.normHits[pass]
	if len(paths) < maxNormPaths && (len(paths) == 0 || paths[len(paths)-1] != where) {
		paths = append(paths, where)
	}
	c.normHits[pass] = paths
	c.suppressed++
	return true
}

// hidden is how many differences normalizations hid so far.
func (c *comparer) hidden() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.suppressed
}

// excluded reports whether a member path matches an --exclude glob
// (doublestar syntax: "*" stays within one path segment, "**" spans any
// number). A pattern without "/" matches the member's base name; one with
// "/" matches its whole path inside its container, with or without a
// leading "./". Each match is counted, so that a pattern that matched
// nothing can be said.
func (c *comparer) excluded(memberPath string) bool {
	trimmed := strings.TrimPrefix(strings.TrimPrefix(memberPath, "./"), "/")
	for i, g := range c.opts.Exclude {
		var ok bool
		if strings.Contains(g, "/") {
			ok = doublestar.MatchUnvalidated(strings.TrimPrefix(g, "./"), trimmed)
		} else {
			ok = doublestar.MatchUnvalidated(g, path.Base(trimmed))
		}
		if ok {
			c.mu.Lock()
			c.excludeHits[i]++
			c.mu.Unlock()
			return true
		}
	}
	return false
}

// excludeWarnings says which --exclude patterns matched no member.
func (c *comparer) excludeWarnings() []string {
	var out []string
	for i, g := range c.opts.Exclude {
		if c.excludeHits[i] == 0 {
			out = append(out, fmt.Sprintf("--exclude %q matched no member: \"*\" stays within one folder level; use \"**/NAME\" for any depth", g))
		}
	}
	return out
}

func (c *comparer) progress(stage, name string) {
	if c.opts.Progress != nil {
		c.opts.Progress(stage, name)
	}
}

func newNode(a, b *input, kind Kind, format string) *Node {
	return &Node{Source1: a.name, Source2: b.name, Name1: a.label, Name2: b.label, Kind: kind, Format: format, Size1: a.size, Size2: b.size}
}

// compare is the engine's one recursive step: it returns nil when a and b
// hold the same bytes, else a Node explaining how they differ.
func (c *comparer) compare(a, b *input, depth int) (*Node, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	c.progress("compare", a.name)
	if a.dir || b.dir {
		if a.dir && b.dir {
			return dirFormat{}.compare(c, a, b, depth)
		}
		n := &Node{Source1: a.name, Source2: b.name, Name1: a.label, Name2: b.label, Kind: KindContent}
		n.Comments = append(n.Comments, fmt.Sprintf("type differs: %s vs %s", typeWord(a.dir), typeWord(b.dir)))
		return n, nil
	}
	same, err := sameContent(a, b)
	if err != nil {
		return nil, fmt.Errorf("comparing %s and %s: %w", a.name, b.name, err)
	}
	if same {
		return nil, nil
	}
	ha, err := a.head(headSize)
	if err != nil {
		return nil, err
	}
	hb, err := b.head(headSize)
	if err != nil {
		return nil, err
	}
	fa, fb := detect(ha), detect(hb)
	if depth >= c.opts.MaxDepth && isContainer(fa) {
		c.limit(fmt.Sprintf("depth limit of %d reached: deeper containers compared as bytes (raise --max-depth)", c.opts.MaxDepth))
		n, err := c.compareLeaf(a, b, fa, fb)
		if n != nil {
			n.Comments = append(n.Comments, fmt.Sprintf("depth limit %d reached: compared as bytes", c.opts.MaxDepth))
		}
		return n, err
	}
	if fa.Name() != fb.Name() {
		return c.compareFormats(a, b, fa, fb, depth)
	}
	n, err := safeCompare(fa, c, a, b, depth)
	if err != nil {
		var fe *fatalError
		if errors.As(err, &fe) || c.ctx.Err() != nil {
			return nil, err
		}
		n, lerr := c.compareLeaf(a, b, leafFormat(ha), leafFormat(hb))
		if lerr != nil {
			return nil, lerr
		}
		comment := fmt.Sprintf("malformed %s: %v; compared as bytes", fa.Name(), err)
		if le := (*tempLimitError)(nil); errors.As(err, &le) {
			c.limit(fmt.Sprintf("temporary space limit of %d bytes reached: members that would unpack past it are compared as bytes (raise --max-temp-size)", c.opts.MaxTempSize))
			comment = fmt.Sprintf("%s: temporary space limit of %d bytes reached while unpacking %s; compared as bytes", fa.Name(), c.opts.MaxTempSize, le.name)
		}
		if le := (*archive.LimitError)(nil); errors.As(err, &le) {
			c.limit(fmt.Sprintf("%s limit reached: inputs past it are compared as bytes (raise --%s)", le.Limit, le.Flag))
			comment = fmt.Sprintf("%s: %v; compared as bytes", fa.Name(), le)
		}
		if n != nil {
			n.Comments = append([]string{comment}, n.Comments...)
		}
		return n, nil
	}
	return n, nil
}

// compareFormats compares inputs of different formats: two compression
// streams by their decompressed contents, anything else as bytes, with
// the file type change as the cause (text against JSON is no such change).
func (c *comparer) compareFormats(a, b *input, fa, fb Format, depth int) (*Node, error) {
	if streamCompression(fa) != archive.None && streamCompression(fb) != archive.None {
		return c.compareRecompressed(a, b, fa, fb, depth)
	}
	n, err := c.compareLeaf(a, b, fa, fb)
	if n == nil {
		return n, err
	}
	what := fmt.Sprintf("format differs: %s vs %s", fa.Name(), fb.Name())
	n.Comments = append([]string{what}, n.Comments...)
	if !isTextual(fa) || !isTextual(fb) {
		clearCauses(n)
		addCause(n, CauseFileType, fmt.Sprintf("format: %s → %s", fa.Name(), fb.Name()))
	}
	return n, err
}

// leafFormat is how a member that could not be opened is compared: as text
// when its head looks like text, else as bytes with a hex dump.
func leafFormat(head []byte) Format {
	if looksText(head) {
		return textFormat{}
	}
	return binaryFormat{}
}

func typeWord(dir bool) string {
	if dir {
		return "directory"
	}
	return "file"
}

func isContainer(f Format) bool {
	switch f.(type) {
	case textFormat, binaryFormat, jsonFormat, deb822Format, md5sumsFormat, classFormat, pycFormat, moFormat, pngFormat, pdfFormat, sqliteFormat:
		return false
	}
	return true
}

// isTextual says whether f's inputs are text (plain, JSON, Debian
// control-style fields or a checksum listing), which a line diff shows.
func isTextual(f Format) bool {
	switch f.(type) {
	case textFormat, jsonFormat, deb822Format, md5sumsFormat:
		return true
	}
	return false
}

// compareLeaf compares a and b as text when both look like text, else as
// bytes with a hex dump.
func (c *comparer) compareLeaf(a, b *input, fa, fb Format) (*Node, error) {
	if isTextual(fa) && isTextual(fb) {
		return textFormat{}.compare(c, a, b, 0)
	}
	return binaryFormat{}.compare(c, a, b, 0)
}

// wrap makes the container node for a and b holding details; nil when
// details is empty.
func wrap(a, b *input, format string, details []*Node) *Node {
	if len(details) == 0 {
		return nil
	}
	n := newNode(a, b, KindContainer, format)
	n.Details = details
	return n
}

// unexplained is the node a container adds when its bytes differ but no
// member, metadata or order difference was found: the difference is in the
// encoding (headers, padding, compression). It is not added when a
// normalization hid differences in this container.
func (c *comparer) unexplained(a, b *input, format string, suppressedBefore int, what string) *Node {
	if c.hidden() > suppressedBefore {
		return nil
	}
	n := newNode(a, b, KindMetadata, format)
	n.Name1, n.Name2 = "encoding", "encoding"
	n.Source1, n.Source2 = a.name+" (encoding)", b.name+" (encoding)"
	n.Comments = []string{what}
	addCause(n, CauseArchiveFormat, what)
	return n
}

// Compare compares a and b, paths to files or directories, and returns the
// tree of their differences, or nil when they are identical (or identical
// once the requested normalizations ran).
func Compare(ctx context.Context, a, b string, opts Options) (*Node, error) {
	reclaim(opts)
	c, err := newComparer(ctx, a, b, opts)
	if err != nil {
		return nil, err
	}
	n, err := c.run(a, b)
	if cerr := c.close(); err == nil && cerr != nil {
		err = fmt.Errorf("removing temporary files: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	c.boundTree(n)
	return n, nil
}

func (c *comparer) run(a, b string) (*Node, error) {
	ia, err := c.openTop(a, c.opts.Name1)
	if err != nil {
		return nil, err
	}
	ib, err := c.openTop(b, c.opts.Name2)
	if err != nil {
		return nil, err
	}
	n, err := c.compare(ia, ib, 0)
	if err != nil {
		return nil, fmt.Errorf("comparing %s with %s: %w", a, b, err)
	}
	return n, nil
}

// Run compares a and b like Compare and summarises: Identical when the bytes
// are equal (found at hashing speed, nothing else done), the causes ranked,
// the limits hit and the normalizations that changed bytes.
func Run(ctx context.Context, a, b string, opts Options) (*Summary, error) {
	reclaim(opts)
	if err := ValidateNormalizations(opts.Normalize); err != nil {
		return nil, err
	}
	sa, err := os.Stat(a)
	if err != nil {
		return nil, fmt.Errorf("reading input %s: %w", a, err)
	}
	sb, err := os.Stat(b)
	if err != nil {
		return nil, fmt.Errorf("reading input %s: %w", b, err)
	}
	s := &Summary{}
	if sa.Mode().IsRegular() && sb.Mode().IsRegular() {
		da, db, err := hashFiles(a, b)
		if err != nil {
			return nil, err
		}
		s.Digest1, s.Digest2 = "sha256:"+hex.EncodeToString(da), "sha256:"+hex.EncodeToString(db)
		if s.Digest1 == s.Digest2 {
			s.Identical, s.Equivalent = true, true
			return s, nil
		}
	}
	c, err := newComparer(ctx, a, b, opts)
	if err != nil {
		return nil, err
	}
	root, err := c.run(a, b)
	if cerr := c.close(); err == nil && cerr != nil {
		err = fmt.Errorf("removing temporary files: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	c.boundTree(root)
	s.Root = root
	s.Identical = root == nil && c.suppressed == 0 && s.Digest1 == s.Digest2
	s.Equivalent = root == nil
	s.Limits = c.limits
	for p := range c.normHits {
		s.Normalizations = append(s.Normalizations, p)
	}
	sort.Strings(s.Normalizations)
	for _, p := range s.Normalizations {
		s.NormalizedAt = append(s.NormalizedAt, NormalizationHit{Pass: p, Paths: c.normHits[p]})
	}
	s.Causes = rankCauses(root)
	s.Warnings = c.excludeWarnings()
	return s, nil
}

// reclaim removes what killed comparisons left in the temporary folder
// first; an error only means something is left for the next run.
func reclaim(opts Options) { _, _ = ReclaimTemp(opts.TempDir) }

// safeCompare turns a panic in a format's parser (a bug, or a library's)
// into a malformed-input error, so untrusted bytes never crash the caller.
func safeCompare(f Format, c *comparer, a, b *input, depth int) (n *Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("parser failed: %v", r)
		}
	}()
	return f.compare(c, a, b, depth)
}
