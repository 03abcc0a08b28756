package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// JUnit body limits: enough for a CI log, not a flood.
const (
	junitMaxDiffLines = 20
	junitMaxNodes     = 50
	junitMaxCauses    = 3 // causes named in a failure message
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties *junitProps     `xml:"properties,omitempty"`
	Cases      []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"` // xmlSafe: CDATA is not escaped
}

// RenderJUnit writes results as JUnit XML: one test suite, one test case per
// verified artifact. A not-reproducible result is a failure whose message
// names the top causes; an error result is an error; the body of either is
// the text report (causes with fixes, the start of the diff tree).
func RenderJUnit(w io.Writer, results []*Result) error {
	suite := junitSuite{Name: "reprove verify"}
	var total time.Duration
	var first time.Time
	tool := ""
	for i, res := range results {
		if res == nil {
			return fmt.Errorf("rendering JUnit: result %d is missing", i)
		}
		tc := junitTestCase{
			Classname: "reprove." + string(modeOrVerify(res.Mode)),
			Name:      res.displayName(),
			Time:      seconds(res.Duration()),
		}
		total += res.Duration()
		if !res.StartedAt.IsZero() && (first.IsZero() || res.StartedAt.Before(first)) {
			first = res.StartedAt
		}
		if tool == "" && res.Tool.Version != "" {
			tool = res.Tool.Name + " " + res.Tool.Version
		}
		var body bytes.Buffer
		if err := RenderText(&body, res, RenderOptions{MaxDiffLines: junitMaxDiffLines, MaxNodes: junitMaxNodes}); err != nil {
			return fmt.Errorf("rendering JUnit case %q: %w", tc.Name, err)
		}
		switch res.Verdict {
		case Reproducible, ReproducibleAfterNormalization:
			tc.SystemOut = body.String()
		case NotReproducible:
			suite.Failures++
			tc.Failure = &junitProblem{Message: failureMessage(res), Type: string(res.Verdict), Body: xmlSafe(body.String())}
		default:
			suite.Errors++
			tc.Error = &junitProblem{Message: res.VerdictLabel() + ": " + firstLine(res.Error), Type: string(Error), Body: xmlSafe(body.String())}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(results)
	suite.Time = seconds(total)
	if !first.IsZero() {
		suite.Timestamp = first.UTC().Format("2006-01-02T15:04:05")
	}
	if tool != "" {
		suite.Properties = &junitProps{Props: []junitProp{{Name: "tool", Value: tool}}}
	}
	doc := junitSuites{
		Name: "reprove", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite},
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JUnit XML: %w", err)
	}
	var out bytes.Buffer
	out.WriteString(xml.Header)
	out.Write(b)
	out.WriteByte('\n')
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	return nil
}

// failureMessage is "not reproducible: Embedded timestamps; File order (+2 more causes)".
func failureMessage(res *Result) string {
	causes := res.RankedCauses()
	if len(causes) == 0 {
		n := res.DifferenceCount()
		return fmt.Sprintf("%s: %d %s, no known cause", res.VerdictLabel(), n, plural(n, "difference", "differences"))
	}
	var titles []string
	for i, c := range causes {
		if i == junitMaxCauses {
			break
		}
		titles = append(titles, c.Title)
	}
	msg := res.VerdictLabel() + ": " + strings.Join(titles, "; ")
	if more := len(causes) - len(titles); more > 0 {
		msg += fmt.Sprintf(" (+%d more %s)", more, plural(more, "cause", "causes"))
	}
	return msg
}

func modeOrVerify(m Mode) Mode {
	if m == "" {
		return ModeVerify
	}
	return m
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// xmlSafe replaces the characters XML 1.0 cannot carry at all (most control
// characters, invalid UTF-8), which a diff of binary files may hold.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
