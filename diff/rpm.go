package diff

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// rpmFormat compares RPM packages: the signature and main header tags,
// as `rpm -qp --dump`-like lines, then the payload (a compressed cpio
// archive) through the engine, read by diff/archive. The build time is an
// embedded date, the build host a host name, digests of changed files are
// consequences.
type rpmFormat struct{}

func (rpmFormat) Name() string { return "rpm" }

// Detect: the RPM lead magic.
func (rpmFormat) Detect(h []byte) bool { return bytes.HasPrefix(h, archive.RPMMagic) }

// rpmTagNames names the main header tags reports show; others by number.
var rpmTagNames = map[uint32]string{1000: "NAME", 1001: "VERSION", 1002: "RELEASE", 1003: "EPOCH", 1004: "SUMMARY", 1005: "DESCRIPTION",
	1006: "BUILDTIME", 1007: "BUILDHOST", 1009: "SIZE", 1010: "DISTRIBUTION", 1011: "VENDOR", 1014: "LICENSE", 1015: "PACKAGER",
	1016: "GROUP", 1020: "URL", 1021: "OS", 1022: "ARCH", 1028: "FILESIZES", 1030: "FILEMODES", 1033: "FILERDEVS",
	1034: "FILEMTIMES", 1035: "FILEDIGESTS", 1036: "FILELINKTOS", 1037: "FILEFLAGS", 1039: "FILEUSERNAME", 1040: "FILEGROUPNAME",
	1044: "SOURCERPM", 1047: "PROVIDENAME", 1048: "REQUIREFLAGS", 1049: "REQUIRENAME", 1050: "REQUIREVERSION", 1064: "RPMVERSION",
	1080: "CHANGELOGTIME", 1081: "CHANGELOGNAME", 1082: "CHANGELOGTEXT", 1094: "COOKIE", 1116: "DIRINDEXES", 1117: "BASENAMES",
	1118: "DIRNAMES", 1122: "OPTFLAGS", 1124: "PAYLOADFORMAT", 1125: "PAYLOADCOMPRESSOR", 1126: "PAYLOADFLAGS", 1132: "PLATFORM",
	5011: "FILEDIGESTALGO", 5092: "PAYLOADDIGEST", 5093: "PAYLOADDIGESTALGO", 5097: "PAYLOADDIGESTALT"}

// rpmSigNames names signature header tags.
var rpmSigNames = map[uint32]string{62: "HEADERSIGNATURES", 267: "DSA", 268: "RSA", 269: "SHA1", 273: "SHA256", 1000: "SIZE",
	1002: "PGP", 1004: "MD5", 1005: "GPG", 1007: "PAYLOADSIZE", 1008: "RESERVEDSPACE"}

// rpmTagCauses are the causes a change in a main header tag suggests.
var rpmTagCauses = map[string]CauseID{"BUILDTIME": CauseEmbeddedDate, "BUILDHOST": CauseHostname, "COOKIE": CauseHostname,
	"FILEMTIMES": CauseTimestamps, "CHANGELOGTIME": CauseTimestamps, "FILEDIGESTS": CauseChecksums, "PAYLOADDIGEST": CauseChecksums,
	"PAYLOADDIGESTALT": CauseChecksums, "FILEMODES": CauseFileMode, "FILEUSERNAME": CauseUIDGID, "FILEGROUPNAME": CauseUIDGID}

// rpmLines renders tags as "NAME: value" lines (one per value of an
// array), and the values of each named tag for causes.
func rpmLines(tags []archive.RPMTag, names map[uint32]string) ([]string, map[string]string) {
	var out []string
	values := map[string]string{}
	for _, t := range tags {
		name := names[t.Tag]
		if name == "" {
			name = "tag " + strconv.FormatUint(uint64(t.Tag), 10)
		}
		values[name] = strings.Join(t.Values, " ")
		for _, v := range t.Values {
			out = append(out, name+": "+v)
		}
	}
	return out, values
}

func (rpmFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	read := func(in *input) (*archive.RPM, error) { return archive.ReadRPM(in.ra, in.size, in.name, c.opts.Limits) }
	ra, rb, err := bothInputs(a, b, read)
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	sa, _ := rpmLines(ra.Signature, rpmSigNames)
	sb, _ := rpmLines(rb.Signature, rpmSigNames)
	ha, va := rpmLines(ra.Header, rpmTagNames)
	hb, vb := rpmLines(rb.Header, rpmTagNames)
	details := c.compareViews(a, b, "rpm", []view{{"rpm -qp --dump {} (header)", "rpm header", ha}}, []view{{"rpm -qp --dump {} (header)", "rpm header", hb}}, false)
	if !equalStrings(sa, sb) {
		n := c.viewNode(a, b, "rpm", view{"rpm -qp --dump {} (signature)", "rpm signature", sa}, sb, false)
		addCause(n, CauseChecksums, "the signature header holds digests and sizes of the header and payload")
		details = append(details, n)
	}
	for _, n := range details {
		if n.Name1 != "rpm -qp --dump {} (header)" {
			continue
		}
		for tag, cause := range rpmTagCauses {
			valueChange(n, cause, tag, va[tag], vb[tag])
		}
		sortEvidence(n)
	}
	pa := subInput(a, "payload", ra.PayloadOffset, max(0, a.size-ra.PayloadOffset))
	pb := subInput(b, "payload", rb.PayloadOffset, max(0, b.size-rb.PayloadOffset))
	payload, err := c.compare(pa, pb, depth+1)
	if err != nil {
		return nil, fmt.Errorf("comparing the payloads: %w", err)
	}
	if payload != nil {
		details = append(details, payload)
	}
	return c.finishFormat(a, b, "rpm", before, details, "the headers and payloads are equal; the bytes differ in padding"), nil
}
