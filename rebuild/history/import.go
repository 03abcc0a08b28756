package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/reprove/reprove/internal/bounded"
	"github.com/reprove/reprove/report"
)

// ImportStats is what Import did.
type ImportStats struct {
	Added    int      // results recorded
	Existing int      // results that were recorded already
	Entries  []Entry  // the entries added, in the order read
	Skipped  []string // JSON files in folders that are not reprove results
	Failed   []ImportError
}

// ImportError is a file that could not be imported.
type ImportError struct {
	Path string
	Err  error
}

func (e ImportError) Error() string { return e.Path + ": " + e.Err.Error() }

// ErrImport is returned (wrapped) by Import when some file failed.
var ErrImport = errors.New("some results were not imported")

// Import records the results in paths: result JSON files (reprove verify
// --json, batch's DIR/<name>/result.json), or folders searched recursively
// for *.json files. In folders, JSON files that are not reprove results (no
// reprove.result schemaVersion, such as summary.json) are skipped; any other
// file that cannot be read or recorded is listed in Failed, the others are
// still imported, and the error wraps ErrImport. Only regular files are
// read (no FIFOs or devices, no symbolic links inside folders), each at most
// MaxResultSize bytes. A database error stops the import.
func (h *DB) Import(ctx context.Context, paths ...string) (ImportStats, error) {
	im := importer{h: h}
	for _, p := range paths {
		files, err := resultFiles(p)
		if err != nil {
			im.st.Failed = append(im.st.Failed, ImportError{Path: p, Err: err})
			continue
		}
		for _, f := range files {
			if err := im.add(ctx, f); err != nil {
				return im.st, err
			}
		}
	}
	if err := im.flush(ctx); err != nil {
		return im.st, err
	}
	if len(im.st.Failed) > 0 {
		return im.st, fmt.Errorf("%w: %d file(s) failed, first %v", ErrImport, len(im.st.Failed), im.st.Failed[0])
	}
	return im.st, nil
}

// importBatch is how many results one transaction records: a commit per
// result would cost more than the result.
const importBatch = 500

// importer reads files and records their results a batch at a time.
type importer struct {
	h       *DB
	st      ImportStats
	pending []row
}

// add reads one file; it returns an error only for database errors, which
// stop the import.
func (im *importer) add(ctx context.Context, f resultFile) error {
	data, err := readResultFile(f.path, im.h.MaxResultSize)
	if err != nil {
		im.st.Failed = append(im.st.Failed, ImportError{Path: f.path, Err: err})
		return nil
	}
	if f.inDir && !looksLikeResult(data) {
		im.st.Skipped = append(im.st.Skipped, f.path)
		return nil
	}
	r, err := parseRow(data, im.h.clock())
	if err != nil {
		im.st.Failed = append(im.st.Failed, ImportError{Path: f.path, Err: err})
		return nil
	}
	im.pending = append(im.pending, r)
	if len(im.pending) >= importBatch {
		return im.flush(ctx)
	}
	return nil
}

func (im *importer) flush(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	es, err := im.h.recordRows(ctx, im.pending)
	im.pending = im.pending[:0]
	if err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	for _, e := range es {
		if e.Existing {
			im.st.Existing++
			continue
		}
		im.st.Added++
		im.st.Entries = append(im.st.Entries, *e)
	}
	return nil
}

// resultFile is a file to import; inDir is true when a folder search found
// it, so that a JSON file that is not a result is skipped, not an error.
type resultFile struct {
	path  string
	inDir bool
}

func resultFiles(p string) ([]resultFile, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []resultFile{{path: p}}, nil
	}
	var files []resultFile
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".json") {
			files = append(files, resultFile{path: path, inDir: true})
		}
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, err
}

// looksLikeResult is whether data is a JSON object whose schemaVersion names
// a reprove result.
func looksLikeResult(data []byte) bool {
	var head struct {
		SchemaVersion string `json:"schemaVersion"`
	}
	if json.Unmarshal(data, &head) != nil {
		return false
	}
	return strings.HasPrefix(head.SchemaVersion, "reprove.result/")
}

// errInvalid marks a result that cannot be recorded as it is.
var errInvalid = errors.New("invalid result")

// ParseResult reads a result JSON document (checked against the result
// schema by report.ReadJSON) and checks that it can be recorded.
func ParseResult(data []byte) (*report.Result, error) {
	res, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if _, err := newRow(res, recordOptions{}, time.Time{}); err != nil {
		return nil, err
	}
	return res, nil
}

// parseRow is ParseResult's result as the row Record would write.
func parseRow(data []byte, now time.Time) (row, error) {
	res, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return row{}, err
	}
	return newRow(res, recordOptions{}, now)
}

// readResultFile reads a result file: a regular file, bounded.
func readResultFile(path string, max int64) ([]byte, error) {
	data, err := bounded.ReadFile(path, max)
	if _, ok := err.(*bounded.TooLargeError); ok {
		return nil, fmt.Errorf("%w for a result", err)
	}
	return data, err
}
