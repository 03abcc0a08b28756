package archive

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// RPM packages: a 96-byte lead, a signature header, the main header, then
// the payload (a compressed cpio archive, which Open and NewReader read
// like any other). ReadRPM decodes the two headers under the table size
// limit. It is written here because the maintained Go RPM readers are
// either not served to this project or need cgo for their zstd decoder
// and index the header store without bounds checks.

// RPMMagic starts every RPM package (the lead).
var RPMMagic = []byte{0xed, 0xab, 0xee, 0xdb}

var rpmHeaderMagic = []byte{0x8e, 0xad, 0xe8, 0x01}

// RPMTag is one entry of an RPM header: its tag number, data type and
// values rendered as text (integers in decimal, binary data in hex).
type RPMTag struct {
	Tag    uint32
	Type   uint32
	Values []string
}

// RPM is a package's two headers and where its payload starts.
type RPM struct {
	Signature     []RPMTag
	Header        []RPMTag
	PayloadOffset int64
}

// maxRPMBinary bounds the bytes of one binary value rendered in hex.
const maxRPMBinary = 256

// ReadRPM decodes the headers of the RPM package in ra (size bytes),
// named name in errors; a header past lim.MaxTableSize is a *LimitError.
func ReadRPM(ra io.ReaderAt, size int64, name string, lim Limits) (*RPM, error) {
	lim = lim.WithDefaults()
	lead := make([]byte, 96)
	if _, err := ra.ReadAt(lead, 0); err != nil || !bytes.HasPrefix(lead, RPMMagic) {
		return nil, fmt.Errorf("%s: not an RPM package (no lead)", name)
	}
	sig, end, err := readRPMHeader(ra, size, 96, name, "signature header", lim)
	if err != nil {
		return nil, err
	}
	end = (end + 7) &^ 7 // the signature header is padded to 8 bytes
	hdr, end, err := readRPMHeader(ra, size, end, name, "header", lim)
	if err != nil {
		return nil, err
	}
	return &RPM{Signature: sig, Header: hdr, PayloadOffset: end}, nil
}

// readRPMHeader decodes the header structure at off and returns where it ends.
func readRPMHeader(ra io.ReaderAt, size, off int64, name, what string, lim Limits) ([]RPMTag, int64, error) {
	intro := make([]byte, 16)
	if _, err := ra.ReadAt(intro, off); err != nil {
		return nil, 0, fmt.Errorf("%s: reading the %s: %w", name, what, noEOF(err))
	}
	if !bytes.HasPrefix(intro, rpmHeaderMagic) {
		return nil, 0, fmt.Errorf("%s: bad %s magic at offset %d", name, what, off)
	}
	count, store := int64(binary.BigEndian.Uint32(intro[8:])), int64(binary.BigEndian.Uint32(intro[12:]))
	total := count*16 + store
	if total > lim.MaxTableSize {
		return nil, 0, newLimitError(name, what, "table size", lim, "a header of "+Size(total))
	}
	if off+16+total > size {
		return nil, 0, fmt.Errorf("%s: the %s (%d entries, %d bytes) runs past the end", name, what, count, store)
	}
	buf := make([]byte, total)
	if _, err := ra.ReadAt(buf, off+16); err != nil {
		return nil, 0, fmt.Errorf("%s: reading the %s: %w", name, what, noEOF(err))
	}
	index, data := buf[:count*16], buf[count*16:]
	tags := make([]RPMTag, 0, count)
	for i := int64(0); i < count; i++ {
		e := index[i*16:]
		t := RPMTag{Tag: binary.BigEndian.Uint32(e), Type: binary.BigEndian.Uint32(e[4:])}
		vals, err := rpmValues(t.Type, int64(binary.BigEndian.Uint32(e[8:])), int64(binary.BigEndian.Uint32(e[12:])), data)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %s tag %d: %w", name, what, t.Tag, err)
		}
		t.Values = vals
		tags = append(tags, t)
	}
	return tags, off + 16 + total, nil
}

var rpmIntSize = map[uint32]int64{2: 1, 3: 2, 4: 4, 5: 8}

// rpmValues renders count values of type typ stored at off in data.
func rpmValues(typ uint32, off, count int64, data []byte) ([]string, error) {
	if off > int64(len(data)) || count > int64(len(data))+1 {
		return nil, errors.New("value past the end of the store")
	}
	d := data[off:]
	var out []string
	switch typ {
	case 0:
		return nil, nil
	case 1, 2, 3, 4, 5:
		w := max(rpmIntSize[typ], 1)
		if count*w > int64(len(d)) {
			return nil, errors.New("values past the end of the store")
		}
		for i := int64(0); i < count; i++ {
			var v uint64
			for _, x := range d[i*w : (i+1)*w] {
				v = v<<8 | uint64(x)
			}
			out = append(out, strconv.FormatUint(v, 10))
		}
	case 6, 8, 9:
		if typ == 6 {
			count = 1
		}
		for i := int64(0); i < count; i++ {
			n := bytes.IndexByte(d, 0)
			if n < 0 {
				return nil, errors.New("unterminated string")
			}
			out = append(out, string(d[:n]))
			d = d[n+1:]
		}
	case 7:
		if count > int64(len(d)) {
			return nil, errors.New("binary value past the end of the store")
		}
		v := hex.EncodeToString(d[:min(count, maxRPMBinary)])
		if count > maxRPMBinary {
			v += fmt.Sprintf("… (%d bytes)", count)
		}
		out = append(out, v)
	default:
		return nil, fmt.Errorf("unknown data type %d", typ)
	}
	return out, nil
}
