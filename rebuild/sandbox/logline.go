package sandbox

import (
	"bytes"
	"io"
)

// maxLogLine bounds the partial line a lineWriter keeps.
const maxLogLine = 4 << 10

// lineWriter writes through to w and calls fn with each complete line
// (Spec.OnLogLine). It is used by one goroutine at a time.
type lineWriter struct {
	w    io.Writer
	fn   func(string)
	line []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	for rest := p[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			l.line = append(l.line, rest[:min(len(rest), maxLogLine-len(l.line))]...)
			break
		}
		l.line = append(l.line, rest[:min(i, maxLogLine-len(l.line))]...)
		l.fn(string(l.line))
		l.line, rest = l.line[:0], rest[i+1:]
	}
	return n, err
}

// flush passes on a last line that had no newline.
func (l *lineWriter) flush() {
	if len(l.line) > 0 {
		l.fn(string(l.line))
		l.line = l.line[:0]
	}
}
