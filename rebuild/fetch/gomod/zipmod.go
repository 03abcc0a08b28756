package gomod

import (
	"archive/zip"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// goModFromZip writes the go.mod that go would use for m, taken from its
// (already verified) zip: the zip's go.mod, or "module PATH" for a module
// that has none, as the go command synthesizes.
func goModFromZip(zipPath string, m module.Version, dst string) error {
	z, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("reading %s@%s zip: %w", m.Path, m.Version, err)
	}
	defer z.Close()
	want := m.Path + "@" + m.Version + "/go.mod"
	for _, f := range z.File {
		if f.Name != want {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		const max = 16 << 20
		b, err := io.ReadAll(io.LimitReader(rc, max+1))
		rc.Close()
		if err != nil {
			return fmt.Errorf("reading go.mod of %s@%s: %w", m.Path, m.Version, err)
		}
		if len(b) > max {
			return fmt.Errorf("go.mod of %s@%s is larger than %d bytes", m.Path, m.Version, max)
		}
		return os.WriteFile(dst, b, 0o444)
	}
	return os.WriteFile(dst, []byte("module "+modfile.AutoQuote(m.Path)+"\n"), 0o444)
}
