package manifest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/docker/go-units"
)

// UnmarshalJSON reads "30m", "1h30m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		p, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration: write it like 30m, 1h30m or 90s", v)
		}
		*d = Duration(p)
	case float64:
		*d = Duration(time.Duration(v * float64(time.Second)))
	default:
		return fmt.Errorf("want a duration like 30m, got %s", b)
	}
	return nil
}

// MarshalJSON writes the duration as Go writes it ("30m0s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// MarshalYAML writes the duration as Go writes it ("30m0s").
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// IsZero lets YAML omit an unset duration.
func (d Duration) IsZero() bool { return d == 0 }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalJSON reads "4GiB", "512MiB", "2g" or a number of bytes.
func (s *ByteSize) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		n, err := units.RAMInBytes(v)
		if err != nil {
			return fmt.Errorf("%q is not a size: write it like 4GiB or 512MiB", v)
		}
		*s = ByteSize(n)
	case float64:
		*s = ByteSize(v)
	default:
		return fmt.Errorf("want a size like 4GiB, got %s", b)
	}
	return nil
}

// MarshalJSON writes the size in binary units ("4GiB").
func (s ByteSize) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML writes the size in binary units ("4GiB").
func (s ByteSize) MarshalYAML() (any, error) { return s.String(), nil }

// IsZero lets YAML omit an unset size.
func (s ByteSize) IsZero() bool { return s == 0 }

func (s ByteSize) String() string {
	for _, u := range []struct {
		n    int64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if int64(s) >= u.n && int64(s)%u.n == 0 {
			return fmt.Sprintf("%d%s", int64(s)/u.n, u.name)
		}
	}
	return fmt.Sprintf("%d", int64(s))
}
