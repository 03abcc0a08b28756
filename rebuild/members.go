package rebuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/report"
)

// MaxExecutableMembers bounds how many executable-looking members of one
// archive are extracted and shown to the adapters.
const MaxExecutableMembers = 256

// MembersError says an archive artifact was named without a member: it
// lists the members the adapters recognise, so that the user names one or
// passes --all-members. It is a usage error (exit 2).
type MembersError struct {
	Target  string
	Kind    string   // "Go binaries"
	Members []string // as the archive names them, in archive order
}

func (e *MembersError) Error() string {
	if len(e.Members) == 0 {
		return fmt.Sprintf("%s is an archive and nothing in it is an artifact an adapter recognises; name a member (%s#path/in/archive) or write a manifest by hand", e.Target, e.Target)
	}
	return fmt.Sprintf("%s is an archive holding %d %s: %s; verify one with %s#%s, or each with --all-members",
		e.Target, len(e.Members), e.Kind, strings.Join(e.Members, ", "), e.Target, e.Members[0])
}

// Unwrap makes it a usage error.
func (e *MembersError) Unwrap() error { return ErrUsage }

// executableMagic are the first bytes of ELF, Mach-O (thin and fat) and PE files.
var executableMagic = [][]byte{
	[]byte("\x7fELF"), {0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe},
	{0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}, []byte("MZ"),
}

func looksExecutable(head []byte) bool {
	for _, m := range executableMagic {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

// recognisedMembers lists the members of the archive at path that a
// registered Recognizer claims, with the kind of the first that claims
// any. It returns no error and no members when path is not an archive.
func (e *Env) recognisedMembers(ctx context.Context, f *fetch.Fetcher, path string) (string, []string, error) {
	names, err := e.executableMembers(ctx, path)
	if err != nil || len(names) == 0 {
		return "", nil, err
	}
	for _, a := range adapter.Registered() {
		rec, ok := a.(adapter.Recognizer)
		if !ok {
			continue
		}
		var found []string
		for _, n := range names {
			p, err := f.Member(ctx, path, n)
			if err != nil {
				return "", nil, fmt.Errorf("artifact member %s: %w", n, err)
			}
			if rec.Recognizes(p) {
				found = append(found, n)
			}
		}
		if len(found) > 0 {
			return rec.Kind(), found, nil
		}
	}
	return "", nil, nil
}

// executableMembers names the file members of a tar or zip archive whose
// first bytes are an executable's, in archive order.
func (e *Env) executableMembers(ctx context.Context, path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	r, err := archive.Open(fh, fi.Size(), path, e.cfg.Limits)
	if err != nil || (r.Format() != archive.Tar && r.Format() != archive.Zip) {
		if r != nil {
			r.Close()
		}
		return nil, nil // not an archive
	}
	defer r.Close()
	var names []string
	for len(names) < MaxExecutableMembers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing %w", err)
		}
		if h.Type != archive.TypeFile || h.Size < 4 {
			continue
		}
		head := make([]byte, 4)
		if _, err := io.ReadFull(r, head); err != nil {
			return nil, fmt.Errorf("reading member %s of %s: %w", h.Name, path, err)
		}
		if looksExecutable(head) {
			names = append(names, archive.MatchName(h.Name))
		}
	}
	return names, nil
}

// VerifyEachMember verifies, one after the other, every member of an
// archive artifact (named without #member) that an adapter recognises:
// the Go binaries of an npm package, say. Each gets its own Result, in
// archive order; the error is the first that stopped a check.
func (e *Env) VerifyEachMember(ctx context.Context, target string) ([]*report.Result, error) {
	if IsManifest(target) {
		return nil, fmt.Errorf("%w: --all-members is for an archive artifact, not a manifest (%s)", ErrUsage, target)
	}
	if _, member := SplitMember(target); member != "" {
		return nil, fmt.Errorf("%w: --all-members verifies every member of an archive; name the archive without #%s", ErrUsage, member)
	}
	_, _, err := e.Infer(ctx, target)
	var me *MembersError
	switch {
	case err == nil:
		return nil, fmt.Errorf("%w: %s is verified whole (no members to choose among); drop --all-members", ErrUsage, target)
	case !errors.As(err, &me):
		return nil, err
	case len(me.Members) == 0:
		return nil, err
	}
	var (
		results []*report.Result
		first   error
	)
	for _, m := range me.Members {
		res, err := e.VerifyTarget(ctx, target+"#"+m)
		if res != nil {
			results = append(results, res)
		}
		if err != nil && first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return results, first
}
