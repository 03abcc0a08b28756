package manifest

import (
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Encode writes m as YAML, in the field order of the format's documentation,
// with header as a leading comment (each line prefixed with "# ").
func Encode(w io.Writer, m *Manifest, header string) error {
	var node yaml.Node
	if err := node.Encode(m); err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	node.HeadComment = header
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	return enc.Close()
}
