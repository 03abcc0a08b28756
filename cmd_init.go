package main

import (
	"context"
	"errors"
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
	Target  string
	Output  string
	Force   bool
	Replace []string
	Builder string
	Fetch   fetchConfig
	Debian  debianConfig
}

// runInit writes the first inferred candidate manifest for a person to review.
func runInit(ctx context.Context, cfg initConfig) error {
	if cfg.Output != "-" {
		if _, err := os.Stat(cfg.Output); err == nil && !cfg.Force {
			return usagef("%s exists; pass --force to overwrite it", cfg.Output)
		}
		if err := writable(cfg.Output); err != nil {
			return usagef("--output %s: %v", cfg.Output, err)
		}
	}
	if err := errors.Join(cfg.Fetch.check(), checkInfer(cfg.Replace, cfg.Builder)); err != nil {
		return err
	}
	p := newProgress(cfg.Quiet)
	ec := envConfig(cfg.common, "", cfg.Replace, cfg.Builder, cfg.Fetch, diffConfig{}, p)
	cfg.Debian.apply(&ec)
	e, err := rebuild.NewEnv(ec)
	if err != nil {
		p.Close()
		return err
	}
	defer e.Close()
	plan, _, err := e.Infer(ctx, cfg.Target)
	p.Close()
	if err != nil {
		return err
	}
	c := plan.Candidates[0]
	var header strings.Builder
	fmt.Fprintf(&header, "Inferred by reprove %s (%s adapter) from %s.\nReview every input before trusting a verdict.", version(), plan.Adapter, cfg.Target)
	for _, n := range plan.Notes {
		header.WriteString("\n" + n)
	}
	if plan.Check != "" {
		header.WriteString("\nCheck: " + plan.Check)
	}
	header.WriteString("\nThis is candidate " + c.Name + from(c.From))
	if len(plan.Candidates) > 1 {
		header.WriteString("; others that `reprove verify ARTIFACT` also tries:")
		for _, o := range plan.Candidates[1:] {
			header.WriteString("\n  - " + o.Name + from(o.From))
		}
	}
	return report.WriteTo(cfg.Output, os.Stdout, func(w io.Writer) error {
		return manifest.Encode(w, c.Manifest, header.String())
	})
}

func from(f string) string {
	if f == "" {
		return ""
	}
	return " (from " + f + ")"
}
