package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/report"
)

type reportConfig struct {
	common
	Input   string
	Outputs outputConfig
}

// runReport renders a saved JSON result again.
func runReport(cfg reportConfig) error {
	if _, _, err := cfg.Outputs.checkOutputs(); err != nil {
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
	return writeReports(res, cfg.common, cfg.Outputs, nil)
}

func runKeyGenerate(private, public string) error {
	return report.GenerateKey(private, public)
}

// attestationCheck is what `reprove attestation verify` checks.
type attestationCheck struct {
	Key      string // public key file
	File     string // the DSSE envelope
	Artifact string // --artifact: a file that must be a subject
	Expect   string // --expect: PASSED or FAILED
}

// errAttestationInvalid marks a signature or statement that does not check
// out, or one that does not say what was expected: exit 1. Other errors
// (unreadable key or file, bad flags) are usage or input errors: exit 2.
var errAttestationInvalid = errors.New("attestation not valid")

func runAttestationVerify(w io.Writer, ac attestationCheck) error {
	if ac.Expect != "" && ac.Expect != "PASSED" && ac.Expect != "FAILED" {
		return usagef("--expect %q: use PASSED or FAILED", ac.Expect)
	}
	pub, err := report.LoadPublicKey(ac.Key)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	env, err := os.ReadFile(ac.File)
	if err != nil {
		return fmt.Errorf("reading the attestation: %w", err)
	}
	var digest string
	if ac.Artifact != "" {
		if digest, _, err = rebuild.FileDigest(ac.Artifact); err != nil {
			return fmt.Errorf("--artifact: %w", err)
		}
	}
	st, err := report.VerifyAttestation(pub, env)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errAttestationInvalid, ac.File, err)
	}
	if err := st.Expect(digest, ac.Expect); err != nil {
		return fmt.Errorf("%w: %s: %v", errAttestationInvalid, ac.File, err)
	}
	fmt.Fprintf(w, "OK: signature by %s is valid\n%s\n", ac.Key, st.Summary())
	switch {
	case ac.Artifact != "" && ac.Expect != "":
		fmt.Fprintf(w, "OK: %s (%s) is its subject, and the result is %s\n", ac.Artifact, digest, ac.Expect)
	case ac.Artifact != "":
		fmt.Fprintf(w, "OK: %s (%s) is its subject; its result was not checked (pass --expect PASSED)\n", ac.Artifact, digest)
	case ac.Expect != "":
		fmt.Fprintf(w, "OK: the result is %s; which artifact it is about was not checked (pass --artifact FILE)\n", ac.Expect)
	default:
		fmt.Fprintln(w, "Only the signature was checked: pass --artifact FILE and --expect PASSED to check what it says about an artifact.")
	}
	return nil
}
