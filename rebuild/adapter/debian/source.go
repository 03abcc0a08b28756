package debian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
	"pault.ag/go/debian/control"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
)

// srcFile is one file of the source package, pinned by sha256.
type srcFile struct {
	name string
	uri  string // where the manifest fetches it from
	hash deb.FileHash
}

// location is a folder files are fetched from: beside the artifact (a
// local folder or a URL) or an archive's pool folder.
type location struct {
	base  string // "file:///abs/dir" or "https://host/path"
	where string // for notes
}

func (l location) uri(name string) string { return l.base + "/" + name }

// besideArtifact is the folder the artifact URI names.
func besideArtifact(uri string) (location, bool) {
	switch {
	case strings.HasPrefix(uri, "file://"):
		return location{base: "file://" + path.Dir(strings.TrimPrefix(uri, "file://")), where: "beside the .deb"}, true
	case strings.HasPrefix(uri, "https://"), strings.HasPrefix(uri, "http://"):
		u := uri
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		return location{base: u[:strings.LastIndex(u, "/")], where: "beside the .deb"}, true
	}
	return location{}, false
}

// fetchFile brings loc/name into the cache, checked against want (a hex
// sha256; empty pins it on first use).
func (x *inference) fetchFile(ctx context.Context, loc location, name, want string, size int64) (*fetch.Blob, error) {
	// The pipeline's --replace-source rewrites apply to what is fetched;
	// the manifest keeps the declared URI.
	uri := x.in.Env.Fetcher.Rewrite(loc.uri(name))
	o := fetch.PutOptions{URI: uri, Size: size}
	if want != "" {
		o.Want = digest.NewDigestFromEncoded(digest.SHA256, want)
		if b, _, err := x.in.Env.Fetcher.Cache().Blob(ctx, o.Want); err != nil || b != nil {
			return b, err
		}
	}
	if p, ok := strings.CutPrefix(uri, "file://"); ok {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return x.in.Env.Fetcher.Cache().Put(ctx, f, o)
	}
	return x.in.Env.Fetcher.Cache().Download(ctx, x.client(), uri, o)
}

func (x *inference) client() *http.Client { return x.in.Env.HTTPClient() }

// exists says whether loc/name can be had (a HEAD request for URLs).
func (x *inference) exists(ctx context.Context, loc location, name string) bool {
	uri := x.in.Env.Fetcher.Rewrite(loc.uri(name))
	if p, ok := strings.CutPrefix(uri, "file://"); ok {
		fi, err := os.Stat(p)
		return err == nil && fi.Mode().IsRegular()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, uri, nil)
	if err != nil {
		return false
	}
	resp, err := x.client().Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// sourcePackage finds the .dsc of the source package, pinned by the
// .buildinfo when it lists one, else by the archive's signed Sources
// index, else on first use (said in the notes), and every file it lists,
// each checked against the .dsc's Checksums-Sha256.
func (x *inference) sourcePackage(ctx context.Context) (control.Paragraph, []srcFile, error) {
	dscName := x.srcName + "_" + stripEpoch(x.srcVersion) + ".dsc"
	var locs []location
	if l, ok := besideArtifact(x.in.Artifact.URI); ok {
		locs = append(locs, l)
	}
	want, pinnedBy := "", ""
	if x.bi != nil && !x.derived {
		if n, h, ok := x.bi.DSC(); ok && n == dscName {
			want, pinnedBy = h.SHA256, "the .buildinfo"
		}
	}
	if sp, err := x.archive.FindSource(ctx, x.srcName, x.srcVersion); err == nil {
		locs = append(locs, location{base: sp.Archive.URI + "/" + sp.Directory, where: "the archive " + sp.Archive.String()})
		if h, ok := sp.Files[dscName]; ok && want == "" {
			want, pinnedBy = h.SHA256, "the archive's signed Sources index"
		} else if ok && h.SHA256 != want {
			return control.Paragraph{}, nil, fmt.Errorf("%s: the .buildinfo pins sha256:%s, the archive's Sources index sha256:%s: %w", dscName, want, h.SHA256, fetch.ErrDigestMismatch)
		}
	} else if !errors.Is(err, deb.ErrNoSource) {
		x.note("the archive's Sources index could not be read (%v)", err)
	}
	for _, loc := range locs {
		if !x.exists(ctx, loc, dscName) {
			continue
		}
		return x.fetchSource(ctx, loc, dscName, want, pinnedBy)
	}
	return control.Paragraph{}, nil, fmt.Errorf("%w: the source package %s (%s) is neither beside the .deb nor in the archives' Sources indices; an old version needs --debian-snapshot", ErrNoSourcePackage, x.srcName, dscName)
}

// fetchSource fetches the .dsc at loc and the files it lists from there.
func (x *inference) fetchSource(ctx context.Context, loc location, dscName, want, pinnedBy string) (control.Paragraph, []srcFile, error) {
	b, err := x.fetchFile(ctx, loc, dscName, want, 0)
	if err != nil {
		return control.Paragraph{}, nil, fmt.Errorf("source package: %w", err)
	}
	if pinnedBy == "" {
		pinnedBy = "first use: neither the .buildinfo nor the archive's signed Sources index names it"
	}
	x.note("source package %s %s: %s from %s, sha256:%s pinned by %s", x.srcName, x.srcVersion, dscName, loc.where, b.Digest.Encoded(), pinnedBy)
	data, err := os.ReadFile(b.Path)
	if err != nil {
		return control.Paragraph{}, nil, err
	}
	paras, err := deb.ParseParagraphs(data)
	if err != nil || len(paras) == 0 {
		return control.Paragraph{}, nil, fmt.Errorf("%w: %s: %v", ErrBadBuildInfo, dscName, errOr(err, "no fields"))
	}
	dsc := paras[0]
	if dsc.Values["Source"] != x.srcName || dsc.Values["Version"] != x.srcVersion {
		return control.Paragraph{}, nil, fmt.Errorf("%w: %s is source %q version %q, not %s %s", ErrBadBuildInfo, dscName, dsc.Values["Source"], dsc.Values["Version"], x.srcName, x.srcVersion)
	}
	files := []srcFile{{name: dscName, uri: loc.uri(dscName), hash: deb.FileHash{SHA256: b.Digest.Encoded(), Size: b.Size}}}
	listed, err := checksums(dsc.Values["Checksums-Sha256"])
	if err != nil {
		return control.Paragraph{}, nil, fmt.Errorf("%s: %w", dscName, err)
	}
	for _, name := range sortedKeys(listed) {
		h := listed[name]
		if _, err := x.fetchFile(ctx, loc, name, h.SHA256, h.Size); err != nil {
			return control.Paragraph{}, nil, fmt.Errorf("%s, listed in %s: %w", name, dscName, err)
		}
		files = append(files, srcFile{name: name, uri: loc.uri(name), hash: h})
	}
	return dsc, files, nil
}

// stripEpoch drops "EPOCH:" from a version, as file names do.
func stripEpoch(v string) string {
	if i := strings.Index(v, ":"); i >= 0 {
		return v[i+1:]
	}
	return v
}
