package image

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fileLayer is an uncompressed layer read from disk: its digest and diff
// id are the same.
type fileLayer struct{ f *layerFile }

func (l fileLayer) Digest() (v1.Hash, error)             { return v1.NewHash(l.f.digest) }
func (l fileLayer) DiffID() (v1.Hash, error)             { return v1.NewHash(l.f.digest) }
func (l fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.f.path) }
func (l fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.f.path) }
func (l fileLayer) Size() (int64, error)                 { return l.f.size, nil }
func (l fileLayer) MediaType() (types.MediaType, error)  { return types.OCIUncompressedLayer, nil }

// imageConfig fixes everything about an image that is not its files.
type imageConfig struct {
	epoch     time.Time
	arch      string // Debian architecture
	env       map[string]string
	createdBy string
}

// ociArch is the OCI name of a Debian architecture.
func ociArch(debArch string) string {
	switch debArch {
	case "i386":
		return "386"
	case "armhf", "armel":
		return "arm"
	case "ppc64el":
		return "ppc64le"
	}
	return debArch
}

// assemble makes a one-layer OCI image with a fixed config.
func assemble(l *layerFile, c imageConfig) (v1.Image, error) {
	env := []string{"PATH=" + DefaultPath}
	var keys []string
	for k := range c.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "PATH" {
			env[0] = "PATH=" + c.env[k]
			continue
		}
		env = append(env, k+"="+c.env[k])
	}
	created := v1.Time{Time: c.epoch.UTC()}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	base, err := mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: ociArch(c.arch), OS: "linux", Created: created,
		Config: v1.Config{Env: env, WorkingDir: "/"},
	})
	if err != nil {
		return nil, fmt.Errorf("setting image config: %w", err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: fileLayer{l}, MediaType: types.OCIUncompressedLayer,
		History: v1.History{Created: created, CreatedBy: c.createdBy},
	})
	if err != nil {
		return nil, fmt.Errorf("adding the layer: %w", err)
	}
	return mutate.CreatedAt(img, created)
}

// WriteLayout writes img as an OCI image layout in dir (which must not
// hold another) and returns its manifest digest.
func WriteLayout(img v1.Image, dir string) (string, error) {
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("computing image digest: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", fmt.Errorf("writing OCI layout in %s: %w", dir, err)
	}
	if err := p.AppendImage(img); err != nil {
		return "", fmt.Errorf("writing image %s into OCI layout %s: %w", d, dir, err)
	}
	return d.String(), nil
}
