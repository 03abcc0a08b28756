package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Output is one report to write: a format and where to ("-" is stdout).
type Output struct {
	Format Format
	Path   string
}

// writeWhole renders fully first, so an error leaves w untouched.
func writeWhole(w io.Writer, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteOutputs renders res once per output. Files are written whole or not
// at all (a temporary file renamed into place); "-" goes to stdout. At most
// one output may be "-", so machine formats never interleave.
func WriteOutputs(stdout io.Writer, res *Result, outs []Output, opts RenderOptions) error {
	dash := 0
	for _, o := range outs {
		if o.Path == "-" {
			dash++
		}
		if o.Path == "" {
			return fmt.Errorf("writing %s report: no path; give a file or - for stdout", o.Format)
		}
	}
	if dash > 1 {
		return errors.New("writing reports: more than one report goes to stdout (-); give all but one a file")
	}
	for _, o := range outs {
		o := o
		err := WriteTo(o.Path, stdout, func(w io.Writer) error { return Render(w, o.Format, res, opts) })
		if err != nil {
			return fmt.Errorf("writing %s report to %s: %w", o.Format, o.Path, err)
		}
	}
	return nil
}

// WriteTo calls write with stdout when path is "-", otherwise with a
// temporary file next to path that is renamed to path (mode 0644) once
// write and Close succeed, so a reader never sees half a report. A path
// that is a device or pipe (/dev/null, a FIFO) is written in place:
// renaming over it would replace it with a file.
func WriteTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return writeWhole(stdout, write)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := writeWhole(f, write); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
