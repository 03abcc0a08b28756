package archive

import (
	"archive/tar"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// tarReader reads tar archives with archive/tar (v7, ustar, PAX, GNU,
// sparse files expanded with their holes).
type tarReader struct {
	src *position
	tr  *tar.Reader
}

func newTar(src *position) *tarReader { return &tarReader{src: src, tr: tar.NewReader(src)} }

var tarTypes = map[byte]Type{
	tar.TypeReg: TypeFile, tar.TypeRegA: TypeFile, tar.TypeGNUSparse: TypeFile, tar.TypeCont: TypeFile,
	tar.TypeDir: TypeDir, tar.TypeSymlink: TypeSymlink, tar.TypeLink: TypeHardlink,
	tar.TypeChar: TypeChar, tar.TypeBlock: TypeBlock, tar.TypeFifo: TypeFifo,
}

// paxStandard are PAX records archive/tar folds into Header fields.
var paxStandard = map[string]bool{"path": true, "linkpath": true, "size": true, "uid": true, "gid": true,
	"uname": true, "gname": true, "mtime": true, "atime": true, "ctime": true}

func (t *tarReader) next() (*Header, io.Reader, error) {
	for {
		th, err := t.tr.Next()
		if err != nil {
			return nil, nil, err
		}
		if th.Typeflag == tar.TypeXGlobalHeader {
			continue // pax comments, e.g. git archive's commit id
		}
		h := &Header{Name: th.Name, Mode: th.FileInfo().Mode() & modeBits, UID: th.Uid, GID: th.Gid,
			Uname: th.Uname, Gname: th.Gname, ModTime: th.ModTime, HasOwner: true, HasModTime: true,
			Size: th.Size, Linkname: th.Linkname, Devmajor: th.Devmajor, Devminor: th.Devminor, Tar: th, Offset: -1}
		h.Type = tarTypes[th.Typeflag]
		if h.Type == "" {
			h.Type = TypeOther
		}
		h.Sparse = th.Typeflag == tar.TypeGNUSparse
		h.Extra = append(h.Extra, Field{"header", th.Format.String()})
		if !th.AccessTime.IsZero() {
			h.Extra = append(h.Extra, Field{"atime", th.AccessTime.UTC().Format(time.RFC3339Nano)})
		}
		if !th.ChangeTime.IsZero() {
			h.Extra = append(h.Extra, Field{"ctime", th.ChangeTime.UTC().Format(time.RFC3339Nano)})
		}
		var keys []string
		for k := range th.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				h.Sparse = true
			} else if !paxStandard[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			h.Extra = append(h.Extra, Field{"pax:" + k, strconv.Quote(th.PAXRecords[k])})
		}
		if !h.Sparse && h.Type == TypeFile {
			h.Offset = t.src.offset()
		}
		return h, t.tr, nil
	}
}
