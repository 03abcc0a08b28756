package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// OCI image layouts (directories with oci-layout and index.json) and image
// tarballs (the same layout in a tar, or `docker save`'s manifest.json form)
// are compared by role rather than by file name: blob names are digests, so
// they always differ when content does. Index, manifests, configs and layers
// are paired (manifests by platform, layers by position) and each pair is
// compared as JSON or, for layers, as compressed tars.

// blobStore opens a file of an image by its path inside the layout.
type blobStore func(p string) (*input, error)

// read returns the whole of a small document (an index, a manifest), at
// most 16 MiB of it.
func (s blobStore) read(p string) ([]byte, error) {
	in, err := s(p)
	if err != nil {
		return nil, err
	}
	defer in.done()
	return readAllLimited(in, 16<<20)
}

func isOCILayoutDir(p string) bool {
	for _, f := range []string{"oci-layout", "index.json"} {
		if st, err := os.Stat(filepath.Join(p, f)); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

func cleanImagePath(p string) (string, error) {
	q := path.Clean("/" + strings.TrimPrefix(p, "./"))[1:]
	if q == "" || strings.HasPrefix(q, "../") {
		return "", fmt.Errorf("path %q points outside the image", p)
	}
	return q, nil
}

func dirBlobs(c *comparer, in *input) blobStore {
	return func(p string) (*input, error) {
		q, err := cleanImagePath(p)
		if err != nil {
			return nil, err
		}
		full := filepath.Join(in.path, filepath.FromSlash(q))
		st, err := os.Lstat(full)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", q)
		}
		f, err := os.Open(full)
		if err != nil {
			return nil, err
		}
		return c.fileInput(f, joinName(in.name, q), q, st.Size(), false), nil
	}
}

func isOCITar(l *listing) bool {
	has := map[string]bool{}
	for _, m := range l.members {
		has[strings.TrimPrefix(m.name, "./")] = true
	}
	return (has["oci-layout"] && has["index.json"]) || has["manifest.json"]
}

func listingBlobs(l *listing, parent *input) blobStore {
	idx := map[string]*member{}
	for _, m := range l.members {
		if q, err := cleanImagePath(m.name); err == nil && m.typ == "file" {
			idx[q] = m
		}
	}
	return func(p string) (*input, error) {
		q, err := cleanImagePath(p)
		if err != nil {
			return nil, err
		}
		m := idx[q]
		if m == nil {
			return nil, fmt.Errorf("%s not found in the image", q)
		}
		in, err := m.open(joinName(parent.name, q))
		if err != nil {
			return nil, err
		}
		in.label = q
		return in, nil
	}
}

// ociCompare compares two images given their blob stores.
func ociCompare(c *comparer, a, b *input, sa, sb blobStore, depth int) (*Node, error) {
	oc := &ociComparer{c: c, a: a, b: b, sa: sa, sb: sb, depth: depth}
	before := c.hidden()
	idx, err := sa("index.json")
	idx.done()
	if err != nil {
		err = oc.docker()
		if err != nil {
			return nil, err
		}
	} else {
		if err := oc.pair("oci-layout", "oci-layout", "oci-layout"); err != nil {
			return nil, err
		}
		if err := oc.index("index.json", "index.json", "index.json", 0); err != nil {
			return nil, err
		}
	}
	if len(oc.details) == 0 {
		if n := c.unexplained(a, b, "oci", before, "the images have the same index, manifests, configs and layers; the bytes differ elsewhere (other files, archive encoding)"); n != nil {
			oc.details = append(oc.details, n)
		}
	}
	return wrap(a, b, "oci", oc.details), nil
}

type ociComparer struct {
	c       *comparer
	a, b    *input
	sa, sb  blobStore
	depth   int
	details []*Node
}

// pair compares the files pa and pb under a shared label.
func (oc *ociComparer) pair(label, pa, pb string) error {
	ia, erra := oc.sa(pa)
	ib, errb := oc.sb(pb)
	defer ia.done()
	defer ib.done()
	if erra != nil || errb != nil {
		if erra != nil && errb != nil {
			return nil
		}
		n := &Node{Source1: joinName(oc.a.name, label), Source2: joinName(oc.b.name, label), Name1: label, Name2: label, Kind: KindAdded}
		if errb != nil {
			n.Kind = KindRemoved
		}
		oc.details = append(oc.details, n)
		return nil
	}
	ia.name, ib.name = joinName(oc.a.name, label), joinName(oc.b.name, label)
	ia.label, ib.label = label, label
	n, err := oc.c.compare(ia, ib, oc.depth+1)
	if err != nil {
		return err
	}
	if n != nil {
		oc.details = append(oc.details, n)
	}
	return nil
}

func readAllLimited(in *input, limit int64) ([]byte, error) {
	if in.size > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than %d", in.name, in.size, limit)
	}
	return io.ReadAll(in.reader())
}

func blobPath(d v1.Descriptor) string { return path.Join("blobs", d.Digest.Algorithm, d.Digest.Hex) }

func (oc *ociComparer) index(label, pa, pb string, level int) error {
	if level > 4 {
		return fmt.Errorf("image indexes nested more than 4 deep")
	}
	if err := oc.pair(label, pa, pb); err != nil {
		return err
	}
	xa, err := oc.parseIndex(oc.sa, pa)
	if err != nil {
		return err
	}
	xb, err := oc.parseIndex(oc.sb, pb)
	if err != nil {
		return err
	}
	key := func(d v1.Descriptor, i int) string {
		if d.Platform != nil {
			return d.Platform.String()
		}
		return fmt.Sprintf("#%d", i+1)
	}
	byKey := map[string]v1.Descriptor{}
	for i, d := range xb.Manifests {
		byKey[key(d, i)] = d
	}
	for i, da := range xa.Manifests {
		k := key(da, i)
		db, ok := byKey[k]
		if !ok || da.Digest == db.Digest {
			continue
		}
		sub := "manifest " + k
		if da.MediaType.IsIndex() && db.MediaType.IsIndex() {
			if err := oc.index(sub, blobPath(da), blobPath(db), level+1); err != nil {
				return err
			}
			continue
		}
		if err := oc.manifest(sub, blobPath(da), blobPath(db)); err != nil {
			return err
		}
	}
	return nil
}

func (oc *ociComparer) parseIndex(s blobStore, p string) (*v1.IndexManifest, error) {
	raw, err := s.read(p)
	if err != nil {
		return nil, err
	}
	return v1.ParseIndexManifest(strings.NewReader(string(raw)))
}

func (oc *ociComparer) manifest(label, pa, pb string) error {
	if err := oc.pair(label, pa, pb); err != nil {
		return err
	}
	parse := func(s blobStore, p string) (*v1.Manifest, error) {
		raw, err := s.read(p)
		if err != nil {
			return nil, err
		}
		return v1.ParseManifest(strings.NewReader(string(raw)))
	}
	ma, err := parse(oc.sa, pa)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", pa, err)
	}
	mb, err := parse(oc.sb, pb)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", pb, err)
	}
	if ma.Config.Digest != mb.Config.Digest {
		if err := oc.pair(label+"/config", blobPath(ma.Config), blobPath(mb.Config)); err != nil {
			return err
		}
	}
	return oc.layers(label, descPaths(ma.Layers), descPaths(mb.Layers))
}

func descPaths(ds []v1.Descriptor) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = blobPath(d)
	}
	return out
}

func (oc *ociComparer) layers(label string, la, lb []string) error {
	if len(la) != len(lb) {
		n := &Node{Source1: joinName(oc.a.name, label), Source2: joinName(oc.b.name, label), Name1: label, Name2: label, Kind: KindMetadata, Format: "oci",
			Comments: []string{fmt.Sprintf("layer count: %d → %d", len(la), len(lb))}}
		oc.details = append(oc.details, n)
	}
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] == lb[i] && strings.HasPrefix(la[i], "blobs/") {
			continue // same digest, same bytes
		}
		if err := oc.pair(fmt.Sprintf("%s/layer %d of %d", label, i+1, len(la)), la[i], lb[i]); err != nil {
			return err
		}
	}
	return nil
}

// docker compares `docker save` tarballs through their manifest.json.
func (oc *ociComparer) docker() error {
	if err := oc.pair("manifest.json", "manifest.json", "manifest.json"); err != nil {
		return err
	}
	type entry struct {
		Config string
		Layers []string
	}
	parse := func(s blobStore) ([]entry, error) {
		raw, err := s.read("manifest.json")
		if err != nil {
			return nil, err
		}
		var es []entry
		if err := json.Unmarshal(raw, &es); err != nil {
			return nil, fmt.Errorf("manifest.json: %w", err)
		}
		return es, nil
	}
	ea, err := parse(oc.sa)
	if err != nil {
		return err
	}
	eb, err := parse(oc.sb)
	if err != nil {
		return err
	}
	for i := 0; i < len(ea) && i < len(eb); i++ {
		label := fmt.Sprintf("image %d", i+1)
		// docker save names files by digest or by directory; compare them all.
		if err := oc.pair(label+"/config", ea[i].Config, eb[i].Config); err != nil {
			return err
		}
		if err := oc.layers(label, ea[i].Layers, eb[i].Layers); err != nil {
			return err
		}
	}
	return nil
}
