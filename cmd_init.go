package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/report"
)

type initConfig struct {
	common
	Target    string
	Output    string
	Force     bool
	Replace   []string
	Builder   string
	Fetch     fetchConfig
	Debian    rebuild.DebianConfig
	BuildInfo string
}

// runInit writes the first inferred candidate manifest for a person to review.
func runInit(ctx context.Context, cfg initConfig) error {
	if cfg.Output != "-" && !cfg.Force {
		if _, err := os.Stat(cfg.Output); err == nil {
			return fmt.Errorf("%w: %s exists; pass --force to overwrite it", rebuild.ErrUsage, cfg.Output)
		}
	}
	ec := envConfig(cfg.common, "", cfg.Replace, cfg.Builder, cfg.Fetch, diffConfig{}, newProgress(cfg.Quiet))
	ec.Debian, ec.BuildInfo = cfg.Debian, cfg.BuildInfo
	e, err := rebuild.NewEnv(ec)
	if err != nil {
		return err
	}
	plan, _, err := e.Infer(ctx, cfg.Target)
	if err != nil {
		return err
	}
	c := plan.Candidates[0]
	var header strings.Builder
	fmt.Fprintf(&header, "Inferred by reprove %s (%s adapter) from %s.\nReview every input before trusting a verdict.", version(), plan.Adapter, cfg.Target)
	for _, n := range plan.Notes {
		header.WriteString("\n" + n)
	}
	if len(plan.Candidates) > 1 {
		header.WriteString("\nThis is candidate " + c.Name + "; others that `reprove verify ARTIFACT` also tries:")
		for _, o := range plan.Candidates[1:] {
			header.WriteString("\n  - " + o.Name)
		}
	}
	return report.WriteTo(cfg.Output, os.Stdout, func(w io.Writer) error {
		return manifest.Encode(w, c.Manifest, header.String())
	})
}
