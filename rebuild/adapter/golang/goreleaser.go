package golang

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reprove/reprove/internal/bounded"
)

// A goreleaser configuration is read from the source at the pinned commit.
// It is hostile input: it is read from a confined folder, bounded in size,
// parsed into plain values (aliases expanded by the YAML library, which
// refuses excessive aliasing), and every list and string is bounded.
const (
	maxReleaseConfig = 1 << 20  // bytes of .goreleaser.yaml
	maxReleaseBuilds = 64       // builds[] entries
	maxReleaseList   = 256      // entries of one list (ldflags, env, goos…)
	maxReleaseString = 16 << 10 // bytes of one string
)

// releaseConfigNames are the files goreleaser reads, in its order.
var releaseConfigNames = []string{
	".config/goreleaser.yml", ".config/goreleaser.yaml",
	".goreleaser.yml", ".goreleaser.yaml", "goreleaser.yml", "goreleaser.yaml",
}

// releaseConfig is the part of a goreleaser configuration (schema v1 or v2)
// that says how binaries are built.
type releaseConfig struct {
	File        string         `yaml:"-"` // which file it was read from
	Version     int            `yaml:"version"`
	ProjectName string         `yaml:"project_name"`
	Env         stringList     `yaml:"env"`
	Builds      []releaseBuild `yaml:"builds"`
	Build       *releaseBuild  `yaml:"build"` // the old single-build form
}

// releaseBuild is one builds[] entry.
type releaseBuild struct {
	ID        string       `yaml:"id"`
	Builder   string       `yaml:"builder"`
	Dir       string       `yaml:"dir"`
	Main      string       `yaml:"main"`
	Binary    string       `yaml:"binary"`
	Skip      string       `yaml:"skip"` // a bool or a template
	Goos      stringList   `yaml:"goos"`
	Goarch    stringList   `yaml:"goarch"`
	Goamd64   stringList   `yaml:"goamd64"`
	Targets   stringList   `yaml:"targets"`
	Ignore    []ignored    `yaml:"ignore"`
	Env       stringList   `yaml:"env"`
	Ldflags   stringList   `yaml:"ldflags"`
	Flags     stringList   `yaml:"flags"`
	Tags      stringList   `yaml:"tags"`
	Overrides []overridden `yaml:"overrides"`
}

type ignored struct {
	Goos   string `yaml:"goos"`
	Goarch string `yaml:"goarch"`
}

type overridden struct {
	Goos    string     `yaml:"goos"`
	Goarch  string     `yaml:"goarch"`
	Goamd64 string     `yaml:"goamd64"`
	Ldflags stringList `yaml:"ldflags"`
	Env     stringList `yaml:"env"`
}

// stringList is a YAML string or list of strings (goreleaser accepts both
// for ldflags, flags and the like).
type stringList []string

// UnmarshalYAML reads a scalar or a sequence of scalars, bounded.
func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*l = nil
			return nil
		}
		if len(n.Value) > maxReleaseString {
			return fmt.Errorf("line %d: a string of %d bytes (at most %d)", n.Line, len(n.Value), maxReleaseString)
		}
		*l = stringList{n.Value}
		return nil
	case yaml.SequenceNode:
		if len(n.Content) > maxReleaseList {
			return fmt.Errorf("line %d: a list of %d entries (at most %d)", n.Line, len(n.Content), maxReleaseList)
		}
		out := make(stringList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode || len(c.Value) > maxReleaseString {
				return fmt.Errorf("line %d: want a string of at most %d bytes", c.Line, maxReleaseString)
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// parseReleaseConfig parses a goreleaser configuration.
func parseReleaseConfig(data []byte) (*releaseConfig, error) {
	if len(data) > maxReleaseConfig {
		return nil, fmt.Errorf("%d bytes, more than the %d reprove reads", len(data), maxReleaseConfig)
	}
	var c releaseConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if c.Build != nil && len(c.Builds) == 0 {
		c.Builds = []releaseBuild{*c.Build}
	}
	if len(c.Builds) == 0 {
		// goreleaser builds the module root with its defaults.
		c.Builds = []releaseBuild{{}}
	}
	if len(c.Builds) > maxReleaseBuilds {
		return nil, fmt.Errorf("%d builds (at most %d)", len(c.Builds), maxReleaseBuilds)
	}
	for _, s := range []string{c.ProjectName} {
		if len(s) > maxReleaseString {
			return nil, fmt.Errorf("project_name of %d bytes (at most %d)", len(s), maxReleaseString)
		}
	}
	return &c, nil
}

// readReleaseConfig reads the first goreleaser configuration goreleaser
// would read in dir, or returns nil when there is none. Only regular files
// inside dir are read (os.Root: no symbolic link out of it).
func readReleaseConfig(dir string) (*releaseConfig, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, name := range releaseConfigNames {
		data, err := bounded.ReadFileIn(root, name, maxReleaseConfig)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		c, err := parseReleaseConfig(data)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		c.File = name
		return c, nil
	}
	return nil, nil
}

// target is the platform a binary was built for, as goreleaser names it.
type target struct{ goos, goarch, goamd64 string }

func (t target) String() string {
	s := t.goos + "_" + t.goarch
	if t.goarch == "amd64" {
		s += "_" + t.goamd64
	}
	return s
}

// matches says whether build b builds the package at pkgDir (relative to
// the repository, "." for its root) for t, and why not.
func (b releaseBuild) matches(pkgDir string, t target) (bool, string) {
	if b.Builder != "" && b.Builder != "go" {
		return false, "builder " + b.Builder
	}
	if s := strings.TrimSpace(b.Skip); s == "true" {
		return false, "skip: true"
	}
	main := b.Main
	if main == "" {
		main = "."
	}
	main = strings.TrimSuffix(main, "/main.go")
	if got := path.Clean(path.Join(orDot(b.Dir), main)); got != path.Clean(pkgDir) {
		return false, "main " + got
	}
	if !b.buildsFor(t) {
		return false, "no " + t.String() + " target"
	}
	return true, ""
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

// buildsFor says whether t is among the build's targets.
func (b releaseBuild) buildsFor(t target) bool {
	if len(b.Targets) > 0 {
		for _, tt := range b.Targets {
			if tt == t.String() || tt == t.goos+"_"+t.goarch || tt == "go_first_class" || tt == "go_118_first_class" {
				return true
			}
		}
		return false
	}
	in := func(l []string, v string, def ...string) bool {
		if len(l) == 0 {
			l = def
		}
		for _, x := range l {
			if x == v {
				return true
			}
		}
		return false
	}
	if !in(b.Goos, t.goos, "linux", "darwin", "windows") || !in(b.Goarch, t.goarch, "amd64", "arm64", "386") {
		return false
	}
	if t.goarch == "amd64" && !in(b.Goamd64, t.goamd64, "v1") {
		return false
	}
	for _, ig := range b.Ignore {
		if (ig.Goos == "" || ig.Goos == t.goos) && (ig.Goarch == "" || ig.Goarch == t.goarch) {
			return false
		}
	}
	return true
}

// details are the build's ldflags and env for t, after its overrides.
func (b releaseBuild) details(t target) (ldflags, env []string) {
	ldflags, env = b.Ldflags, b.Env
	for _, o := range b.Overrides {
		if o.Goos == t.goos && o.Goarch == t.goarch && (o.Goamd64 == "" || o.Goamd64 == t.goamd64) {
			if len(o.Ldflags) > 0 {
				ldflags = o.Ldflags
			}
			env = append(append([]string(nil), env...), o.Env...)
			break
		}
	}
	if len(ldflags) == 0 {
		ldflags = []string{goreleaserDefaultLdflags}
	}
	return ldflags, env
}

// goreleaserDefaultLdflags are the link flags goreleaser uses when a build
// sets none.
const goreleaserDefaultLdflags = "-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}} -X main.builtBy=goreleaser"
