package difftest

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// Squashfs builds a squashfs image of files (regular files and folders,
// every mtime Epoch) with go-diskfs in dir, then sets its mkfs time and
// its root folder's mtime, which go-diskfs takes from the clock.
func Squashfs(dir string, mkfs time.Time, files ...Entry) []byte {
	img := filepath.Join(dir, "image.sqfs")
	f, err := os.Create(img)
	must(err)
	fsys, err := squashfs.Create(file.New(f, false), 0, 0, 0)
	must(err)
	for _, e := range files {
		if e.Type == '5' {
			must(fsys.Mkdir(strings.TrimSuffix(e.Name, "/")))
			continue
		}
		if d := filepath.Dir(e.Name); d != "." {
			must(fsys.Mkdir(d))
		}
		w, err := fsys.OpenFile(e.Name, os.O_CREATE|os.O_RDWR)
		must(err)
		_, err = w.Write(e.Body)
		must(err)
		must(w.Close())
	}
	must(filepath.WalkDir(fsys.Workspace(), func(p string, _ fs.DirEntry, err error) error {
		must(err)
		return os.Chtimes(p, Epoch, Epoch)
	}))
	must(fsys.Finalize(squashfs.FinalizeOptions{NoCompressInodes: true}))
	must(f.Close())
	out, err := os.ReadFile(img)
	must(err)
	le := binary.LittleEndian
	le.PutUint32(out[8:], uint32(mkfs.Unix()))
	root := le.Uint64(out[32:])
	at := le.Uint64(out[64:]) + root>>16 + 2 + root&0xffff
	le.PutUint32(out[at+8:], uint32(Epoch.Unix()))
	return out
}

// ISO builds an ISO 9660 image (no extensions) of files in its root
// folder, with created as every volume and recording date.
func ISO(volume string, created time.Time, files ...Entry) []byte {
	const sector = 2048
	rootLBA, firstFile := 20, 21
	var dir bytes.Buffer
	both32 := func(v uint32) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, v)
		binary.BigEndian.PutUint32(b[4:], v)
		return b
	}
	recDate := []byte{byte(created.Year() - 1900), byte(created.Month()), byte(created.Day()), byte(created.Hour()), byte(created.Minute()), byte(created.Second()), 0}
	record := func(lba, size int, flags byte, id string) {
		n := 33 + len(id)
		if n%2 == 1 {
			n++
		}
		r := make([]byte, n)
		r[0] = byte(n)
		copy(r[2:], both32(uint32(lba)))
		copy(r[10:], both32(uint32(size)))
		copy(r[18:], recDate)
		r[25] = flags
		r[28], r[29], r[30], r[31] = 1, 0, 0, 1
		r[32] = byte(len(id))
		copy(r[33:], id)
		dir.Write(r)
	}
	record(rootLBA, sector, 2, "\x00")
	record(rootLBA, sector, 2, "\x01")
	lba := firstFile
	for _, f := range files {
		record(lba, len(f.Body), 0, strings.ToUpper(f.Name)+";1")
		lba += (len(f.Body) + sector - 1) / sector
	}
	out := make([]byte, lba*sector)
	pvd := out[16*sector:]
	pad := func(at, n int, s string) { copy(pvd[at:at+n], s+strings.Repeat(" ", n-len(s))) }
	pvd[0], pvd[6] = 1, 1
	copy(pvd[1:], "CD001")
	pad(8, 32, "LINUX")
	pad(40, 32, volume)
	copy(pvd[80:], both32(uint32(lba)))
	pvd[120], pvd[123], pvd[124], pvd[127] = 1, 1, 1, 1
	binary.LittleEndian.PutUint16(pvd[128:], sector)
	binary.BigEndian.PutUint16(pvd[130:], sector)
	copy(pvd[132:], both32(10))
	binary.LittleEndian.PutUint32(pvd[140:], 18)
	binary.BigEndian.PutUint32(pvd[148:], 19)
	copy(pvd[156:], dir.Bytes()[:34])
	for _, f := range []int{190, 318, 446, 574} {
		pad(f, 128, "")
	}
	stamp := created.UTC().Format("20060102150405") + "00"
	for _, at := range []int{813, 830} {
		copy(pvd[at:], stamp)
	}
	for _, at := range []int{847, 864} {
		copy(pvd[at:], strings.Repeat("0", 16))
	}
	pvd[881] = 1
	term := out[17*sector:]
	term[0], term[6] = 255, 1
	copy(term[1:], "CD001")
	copy(out[18*sector:], []byte{1, 0, byte(rootLBA), 0, 0, 0, 1, 0, 0, 0})
	copy(out[19*sector:], []byte{1, 0, 0, 0, 0, byte(rootLBA), 0, 1, 0, 0})
	copy(out[rootLBA*sector:], dir.Bytes())
	lba = firstFile
	for _, f := range files {
		copy(out[lba*sector:], f.Body)
		lba += (len(f.Body) + sector - 1) / sector
	}
	return out
}

// SQLite builds a database in dir by running statements, and returns its
// bytes.
func SQLite(dir string, statements ...string) []byte {
	p := filepath.Join(dir, "db.sqlite")
	os.Remove(p)
	db, err := sql.Open("sqlite", p)
	must(err)
	for _, s := range statements {
		_, err := db.Exec(s)
		must(err)
	}
	must(db.Close())
	out, err := os.ReadFile(p)
	must(err)
	return out
}
