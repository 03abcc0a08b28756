package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/reprove/reprove/report"
)

type reportConfig struct {
	common
	Input   string
	Outputs outputConfig
}

// runReport renders a saved JSON result again.
func runReport(cfg reportConfig) error {
	if err := cfg.Outputs.check(); err != nil {
		return err
	}
	f, err := os.Open(cfg.Input)
	if err != nil {
		return fmt.Errorf("reading result: %w", err)
	}
	defer f.Close()
	res, err := report.ReadJSON(f)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Input, err)
	}
	return writeReports(res, cfg.common, cfg.Outputs)
}

func runKeyGenerate(private, public string) error {
	return report.GenerateKey(private, public)
}

func runAttestationVerify(w io.Writer, keyPath, file string) error {
	pub, err := report.LoadPublicKey(keyPath)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	env, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	st, err := report.VerifyAttestation(pub, env)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(w, "OK: signature by %s is valid\n%s\n", keyPath, st.Summary())
	return nil
}

func runOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
