package difftest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
)

// Layer is one image layer: the tar, stored gzip-compressed.
type Layer []byte

// OCILayout writes an OCI image layout to dir with one manifest (platform
// linux/amd64), the given config JSON and layers, and returns dir.
func OCILayout(dir string, config []byte, layers ...Layer) string {
	blob := func(data []byte) string {
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])
		WriteFile(dir, filepath.Join("blobs", "sha256", h), data)
		return "sha256:" + h
	}
	type desc struct {
		MediaType string            `json:"mediaType"`
		Digest    string            `json:"digest"`
		Size      int               `json:"size"`
		Platform  map[string]string `json:"platform,omitempty"`
	}
	var ls []desc
	for _, l := range layers {
		gz := Gzip(l, 9, "", Epoch)
		ls = append(ls, desc{"application/vnd.oci.image.layer.v1.tar+gzip", blob(gz), len(gz), nil})
	}
	man, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        desc{"application/vnd.oci.image.config.v1+json", blob(config), len(config), nil},
		"layers":        ls,
	})
	must(err)
	idx, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []desc{{"application/vnd.oci.image.manifest.v1+json", blob(man), len(man),
			map[string]string{"os": "linux", "architecture": "amd64"}}},
	})
	must(err)
	WriteFile(dir, "index.json", idx)
	WriteFile(dir, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return dir
}

// Config returns a minimal image config JSON with the given creation time.
func Config(created string, env ...string) []byte {
	b, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": created,
		"config": map[string]any{"Env": env},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{}},
	})
	must(err)
	return b
}

// Hex is a helper for build IDs in tests.
func Hex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("bad hex %q: %v", s, err))
	}
	return b
}
