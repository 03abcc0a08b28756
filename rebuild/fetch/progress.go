package fetch

import (
	"io"
	"sync"
	"time"
)

// progress sends ev to the cache's callback, if any.
func (c *Cache) progress(ev Event) {
	if c.Progress != nil {
		c.Progress(ev)
	}
}

// progressReader reports bytes read from r as events of phase, at most every
// progressEvery and once more at its end.
func (c *Cache) progressReader(r io.Reader, uri, phase string, total int64) io.Reader {
	if c.Progress == nil {
		return r
	}
	if total <= 0 {
		total = -1
	}
	c.progress(Event{URI: uri, Phase: phase, Done: 0, Total: total})
	return &progressReader{r: r, emit: c.Progress, ev: Event{URI: uri, Phase: phase, Total: total}}
}

const progressEvery = 100 * time.Millisecond

type progressReader struct {
	r    io.Reader
	emit Progress
	mu   sync.Mutex
	ev   Event
	last time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ev.Done += int64(n)
	now := time.Now()
	if err == io.EOF {
		p.emit(p.ev)
	} else if n > 0 && now.Sub(p.last) >= progressEvery {
		p.last = now
		p.emit(p.ev)
	}
	return n, err
}
