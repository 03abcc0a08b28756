package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

func newKeyPair(t *testing.T) (priv, pub string) {
	t.Helper()
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	if err := GenerateKey(priv, pub); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func statementMap(t *testing.T, res *Result, kind AttestationKind) map[string]any {
	t.Helper()
	b, err := Statement(res, kind)
	if err != nil {
		t.Fatalf("Statement(%s, %s): %v", res.Verdict, kind, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVerificationSummaryStatement(t *testing.T) {
	for _, tc := range []struct {
		v              Verdict
		result, levels string
	}{
		{Reproducible, "PASSED", LevelReproducible},
		{ReproducibleAfterNormalization, "PASSED", LevelReproducibleAfterNormalization},
		{NotReproducible, "FAILED", "FAILED"},
	} {
		res := sampleResult(tc.v)
		got := statementMap(t, res, AttestVerificationSummary)
		want := map[string]any{
			"_type":         "https://in-toto.io/Statement/v1",
			"predicateType": "https://slsa.dev/verification_summary/v1",
			"subject": []any{map[string]any{
				"name":   "hello-1.0.tar.gz",
				"digest": map[string]any{"sha256": strings.TrimPrefix(artifactDigest, "sha256:")},
			}},
			"predicate": map[string]any{
				"verifier": map[string]any{
					"id":      "https://github.com/reprove/reprove",
					"version": map[string]any{"reprove": "v0.3.0"},
				},
				"timeVerified": "2024-05-01T09:00:12.300Z",
				"resourceUri":  "https://example.org/hello-1.0.tar.gz",
				"policy": map[string]any{
					"uri":    "fixtures/hello/reprove.yaml",
					"digest": map[string]any{"sha256": strings.TrimPrefix(manifestDigest, "sha256:")},
				},
				"verificationResult": tc.result,
				"verifiedLevels":     []any{tc.levels},
				"reprove": map[string]any{
					"offline":           false,
					"artifactSource":    "network",
					"artifactFetchedAt": "2024-05-01T09:00:00.1Z",
				},
			},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: statement (-want +got):\n%s", tc.v, d)
		}
	}
	// The check could not be made: nothing to attest.
	if _, err := Statement(sampleResult(Error), AttestVerificationSummary); err == nil || !strings.Contains(err.Error(), "could not be made") {
		t.Errorf("Statement(error result) error = %v; want a refusal", err)
	}
	if _, err := Statement(ForDiff("a", "b", sampleTree()), AttestVerificationSummary); err == nil {
		t.Error("Statement accepted a plain diff result")
	}
	if _, err := Statement(sampleResult(Reproducible), "sbom"); err == nil {
		t.Error("Statement accepted kind sbom")
	}
}

// A PASSED statement names the digest computed over the compared bytes in
// this run, and only when those bytes are the declared and the rebuilt ones.
func TestVerificationSummaryBindsTheComparedBytes(t *testing.T) {
	other := "sha256:" + strings.Repeat("ab", 32)
	cases := map[string]struct {
		edit    func(*Result)
		wantErr string
	}{
		"compared bytes are not the declared artifact": {func(r *Result) { r.Artifact.File.Digest, r.Rebuilt.Digest = other, other }, "are not the declared artifact"},
		"fetched digest is not the declared one":       {func(r *Result) { r.Artifact.Digest = other }, "are not the declared artifact"},
		"rebuilt output is other bytes":                {func(r *Result) { r.Rebuilt.Digest = other }, "rebuilt output's digest"},
		"no digest computed in this run":               {func(r *Result) { r.Artifact.File = nil }, "no digest computed over the compared artifact"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := sampleResult(Reproducible)
			tc.edit(res)
			if _, err := Statement(res, AttestVerificationSummary); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Statement error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	// A member: the subject is the member, by its own digest.
	res := sampleResult(Reproducible)
	res.Artifact.Member = "hello-1.0/bin/hello"
	res.Artifact.File.Digest, res.Rebuilt.Digest = other, other
	got := statementMap(t, res, AttestVerificationSummary)
	want := []any{map[string]any{"name": "hello-1.0.tar.gz#hello-1.0/bin/hello", "digest": map[string]any{"sha256": strings.Repeat("ab", 32)}}}
	if d := cmp.Diff(want, got["subject"]); d != "" {
		t.Errorf("member subject (-want +got):\n%s", d)
	}
}

func TestProvenanceStatement(t *testing.T) {
	res := sampleResult(NotReproducible)
	got := statementMap(t, res, AttestProvenance)
	if got["predicateType"] != "https://slsa.dev/provenance/v1" {
		t.Errorf("predicateType = %v", got["predicateType"])
	}
	wantSubject := []any{map[string]any{"name": "hello-1.0.tar.gz", "digest": map[string]any{"sha256": strings.TrimPrefix(rebuiltDigest, "sha256:")}}}
	if d := cmp.Diff(wantSubject, got["subject"]); d != "" {
		t.Errorf("subject (-want +got):\n%s", d)
	}
	pred := got["predicate"].(map[string]any)
	bd := pred["buildDefinition"].(map[string]any)
	wantBD := map[string]any{
		"buildType":          BuildType,
		"externalParameters": mustJSON(t, res.Manifest.Body),
		"internalParameters": map[string]any{
			"backend":     "runc",
			"environment": []any{"CGO_ENABLED=0", "LANG=C.UTF-8", "SOURCE_DATE_EPOCH=1700000000", "TZ=UTC"},
		},
		"resolvedDependencies": []any{
			map[string]any{
				"uri":         "git+https://example.org/hello.git",
				"digest":      map[string]any{"sha256": strings.TrimPrefix(srcDigest, "sha256:"), "gitCommit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"},
				"annotations": map[string]any{"kind": "source", "dest": "/src"},
			},
			map[string]any{
				"uri":         "gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64",
				"digest":      map[string]any{"sha256": strings.TrimPrefix(toolchainDig, "sha256:")},
				"annotations": map[string]any{"kind": "source", "dest": "/opt/go"},
			},
			map[string]any{
				"name":   "builder",
				"uri":    "oci://registry.example/library/debian@" + builderDigest,
				"digest": map[string]any{"sha256": strings.TrimPrefix(builderDigest, "sha256:")},
			},
		},
	}
	if d := cmp.Diff(wantBD, bd); d != "" {
		t.Errorf("buildDefinition (-want +got):\n%s", d)
	}
	rd := pred["runDetails"].(map[string]any)
	wantRD := map[string]any{
		"builder":  map[string]any{"id": "https://github.com/reprove/reprove", "version": map[string]any{"reprove": "v0.3.0"}},
		"metadata": map[string]any{"startedOn": "2024-05-01T09:00:00Z", "finishedOn": "2024-05-01T09:00:12.300Z"},
		"byproducts": []any{
			map[string]any{"name": "timings", "mediaType": "application/json",
				"content": base64.StdEncoding.EncodeToString([]byte(`{"durationNs":{"build":10000000000,"compare":1100000000,"fetch":1200000000}}`))},
			map[string]any{"name": "build-log", "uri": "file:///var/cache/reprove/logs/hello-1.0.log", "mediaType": "text/plain"},
		},
	}
	if d := cmp.Diff(wantRD, rd); d != "" {
		t.Errorf("runDetails (-want +got):\n%s", d)
	}

	// Without a rebuilt output there is no provenance.
	if _, err := Statement(sampleResult(Error), AttestProvenance); err == nil || !strings.Contains(err.Error(), "no rebuilt output") {
		t.Errorf("provenance of a failed build: error = %v", err)
	}
	// Without the manifest body, externalParameters refers to the manifest.
	res.Manifest.Body = nil
	got = statementMap(t, res, AttestProvenance)
	ext := got["predicate"].(map[string]any)["buildDefinition"].(map[string]any)["externalParameters"]
	want := map[string]any{"manifest": map[string]any{"path": "fixtures/hello/reprove.yaml", "digest": manifestDigest}}
	if d := cmp.Diff(want, ext); d != "" {
		t.Errorf("externalParameters without body (-want +got):\n%s", d)
	}
}

func TestStatementIsStable(t *testing.T) {
	a, err := Statement(sampleResult(NotReproducible), AttestProvenance)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		b, _ := Statement(sampleResult(NotReproducible), AttestProvenance)
		if !bytes.Equal(a, b) {
			t.Fatalf("Statement bytes differ between calls:\n%s\n%s", a, b)
		}
	}
}

func TestAttestAndVerify(t *testing.T) {
	privPath, pubPath := newKeyPair(t)
	signer, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []AttestationKind{AttestVerificationSummary, AttestProvenance} {
		env, err := Attest(sampleResult(Reproducible), signer, kind)
		if err != nil {
			t.Fatalf("Attest(%s): %v", kind, err)
		}
		var e dsse.Envelope
		if err := json.Unmarshal(env, &e); err != nil {
			t.Fatal(err)
		}
		if e.PayloadType != "application/vnd.in-toto+json" || len(e.Signatures) != 1 {
			t.Errorf("envelope payloadType %q with %d signatures", e.PayloadType, len(e.Signatures))
		}
		vs, err := VerifyAttestation(pub, env)
		if err != nil {
			t.Fatalf("VerifyAttestation(%s): %v", kind, err)
		}
		id, _ := KeyID(pub)
		if vs.KeyID != id || vs.Type != StatementType || len(vs.Subjects) != 1 || vs.Subjects[0].Name != "hello-1.0.tar.gz" {
			t.Errorf("verified statement = %+v", vs)
		}
		switch kind {
		case AttestVerificationSummary:
			if vs.PredicateType != PredicateVerificationSummary || vs.VerificationResult != "PASSED" {
				t.Errorf("VSA verified as %s/%q", vs.PredicateType, vs.VerificationResult)
			}
		case AttestProvenance:
			if vs.PredicateType != PredicateProvenance || vs.VerificationResult != "" {
				t.Errorf("provenance verified as %s/%q", vs.PredicateType, vs.VerificationResult)
			}
		}
	}
}

// TestVerifyAttestationRejects covers each way an envelope can be bad.
func TestVerifyAttestationRejects(t *testing.T) {
	privPath, pubPath := newKeyPair(t)
	signer, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good, err := Attest(sampleResult(NotReproducible), signer, AttestVerificationSummary)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(e *dsse.Envelope)) []byte {
		var e dsse.Envelope
		if err := json.Unmarshal(good, &e); err != nil {
			t.Fatal(err)
		}
		f(&e)
		b, _ := json.Marshal(e)
		return b
	}
	payload := func() []byte {
		var e dsse.Envelope
		json.Unmarshal(good, &e)
		p, _ := e.DecodeB64Payload()
		return p
	}()
	signedBy := func(k ed25519.PrivateKey, ptype string, p []byte) []byte {
		env, err := (&dsseEnvelopeForTest{}).sign(k, ptype, p)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	for _, tc := range []struct {
		name string
		pub  any
		env  []byte
		is   error
		want string
	}{
		{"tampered payload", pub, edit(func(e *dsse.Envelope) {
			e.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte("FAILED"), []byte("PASSED"), -1))
		}), ErrSignature, "changed after signing"},
		{"tampered payload type", pub, edit(func(e *dsse.Envelope) { e.PayloadType = "application/json" }), ErrPayloadType, `"application/json"`},
		{"wrong key", ed25519.PublicKey(otherPub), good, ErrSignature, "not by the given key"},
		{"no signatures", pub, edit(func(e *dsse.Envelope) { e.Signatures = nil }), ErrSignature, "no signatures"},
		{"signature garbage", pub, edit(func(e *dsse.Envelope) { e.Signatures[0].Sig = base64.StdEncoding.EncodeToString([]byte("nope")) }), ErrSignature, "changed after signing"},
		{"not json", pub, []byte("not an envelope"), ErrEnvelope, "DSSE"},
		{"empty object", pub, []byte("{}"), ErrEnvelope, "no payloadType"},
		{"payload not base64", pub, edit(func(e *dsse.Envelope) { e.Payload = "%%%" }), ErrEnvelope, "base64"},
		{"signed, but not a statement", pub, signedBy(privOf(signer), PayloadType, []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)), ErrStatement, "the signature is good but"},
		{"signed, wrong statement type", pub, signedBy(privOf(signer), PayloadType, bytes.Replace(payload, []byte("Statement/v1"), []byte("Statement/v9"), 1)), ErrStatement, "Statement/v9"},
		{"other key signed a good statement", pub, signedBy(otherPriv, PayloadType, payload), ErrSignature, "not by the given key"},
		{"non-ed25519 key", "a string", good, nil, "Ed25519"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyAttestation(tc.pub, tc.env)
			if err == nil {
				t.Fatal("VerifyAttestation accepted it")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// dsseEnvelopeForTest signs arbitrary payloads, to build envelopes Attest never would.
type dsseEnvelopeForTest struct{}

func (dsseEnvelopeForTest) sign(k ed25519.PrivateKey, ptype string, payload []byte) ([]byte, error) {
	id, err := KeyID(k.Public())
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(k, dsse.PAE(ptype, payload))
	return json.Marshal(dsse.Envelope{PayloadType: ptype, Payload: base64.StdEncoding.EncodeToString(payload),
		Signatures: []dsse.Signature{{KeyID: id, Sig: base64.StdEncoding.EncodeToString(sig)}}})
}

func privOf(s any) ed25519.PrivateKey { return s.(ed25519.PrivateKey) }

func TestGenerateKey(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k"), filepath.Join(dir, "k.pub")
	if err := GenerateKey(priv, pub); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(priv)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v; want 0600", st.Mode().Perm())
	}
	privPEM, _ := os.ReadFile(priv)
	pubPEM, _ := os.ReadFile(pub)
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) || !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----\n")) {
		t.Errorf("PEM types: %q / %q", firstLine(string(privPEM)), firstLine(string(pubPEM)))
	}
	// Refuses to overwrite, and leaves what is there untouched.
	for _, paths := range [][2]string{{priv, filepath.Join(dir, "new.pub")}, {filepath.Join(dir, "new"), pub}} {
		err := GenerateKey(paths[0], paths[1])
		if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
			t.Errorf("GenerateKey(%s, %s) over an existing key: error = %v", paths[0], paths[1], err)
		}
		for _, p := range []string{filepath.Join(dir, "new"), filepath.Join(dir, "new.pub")} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("failed GenerateKey left %s behind", p)
			}
		}
	}
	if again, _ := os.ReadFile(priv); !bytes.Equal(again, privPEM) {
		t.Error("private key changed by a refused GenerateKey")
	}
	if err := GenerateKey(priv, priv); err == nil {
		t.Error("GenerateKey accepted one path for both keys")
	}
	// Loaders refuse the wrong kind of file with a clear error.
	if _, err := LoadPrivateKey(pub); err == nil || !strings.Contains(err.Error(), `expected "PRIVATE KEY"`) {
		t.Errorf("LoadPrivateKey(public key) error = %v", err)
	}
	if _, err := LoadPublicKey(priv); err == nil || !strings.Contains(err.Error(), `expected "PUBLIC KEY"`) {
		t.Errorf("LoadPublicKey(private key) error = %v", err)
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("hello"), 0o600)
	if _, err := LoadPublicKey(junk); err == nil || !strings.Contains(err.Error(), "no PEM block") {
		t.Errorf("LoadPublicKey(junk) error = %v", err)
	}
}

// TestOpenSSL checks the keys and the signature with an independent
// implementation: openssl reads both keys, and verifies the envelope's
// signature over a PAE this test computes by hand from the DSSE spec.
func TestOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is not installed (Debian package openssl)")
		}
		t.Skip("openssl is not installed")
	}
	run := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}
	dir := t.TempDir()
	privPath, pubPath := newKeyPair(t)
	if out, err := run("pkey", "-in", privPath, "-noout"); err != nil {
		t.Fatalf("openssl cannot read the private key: %v\n%s", err, out)
	}
	out, err := run("pkey", "-pubin", "-in", pubPath, "-text", "-noout")
	if err != nil || !strings.Contains(out, "ED25519 Public-Key") {
		t.Fatalf("openssl cannot read the public key as Ed25519: %v\n%s", err, out)
	}
	// openssl derives the same public key from our private key.
	derived, err := run("pkey", "-in", privPath, "-pubout")
	pubPEM, _ := os.ReadFile(pubPath)
	if err != nil || derived != string(pubPEM) {
		t.Errorf("openssl's public key from our private key differs:\n%s\nvs ours\n%s", derived, pubPEM)
	}

	signer, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	env, err := Attest(sampleResult(NotReproducible), signer, AttestVerificationSummary)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
	pae := []byte("DSSEv1 " + itoa(len(e.PayloadType)) + " " + e.PayloadType + " " + itoa(len(payload)) + " ")
	pae = append(pae, payload...)
	paePath, sigPath := filepath.Join(dir, "pae.bin"), filepath.Join(dir, "sig.bin")
	os.WriteFile(paePath, pae, 0o600)
	os.WriteFile(sigPath, sig, 0o600)
	if out, err := run("pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", paePath, "-sigfile", sigPath); err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("openssl does not verify the envelope signature over the PAE: %v\n%s", err, out)
	}
	// Tampered payload: openssl refuses.
	tampered := bytes.Replace(pae, []byte("FAILED"), []byte("PASSED"), 1)
	os.WriteFile(paePath, tampered, 0o600)
	if out, err := run("pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", paePath, "-sigfile", sigPath); err == nil {
		t.Errorf("openssl verified a tampered PAE:\n%s", out)
	}
	// Wrong key: openssl refuses.
	_, otherPub := newKeyPair(t)
	os.WriteFile(paePath, pae, 0o600)
	if out, err := run("pkeyutl", "-verify", "-pubin", "-inkey", otherPub, "-rawin", "-in", paePath, "-sigfile", sigPath); err == nil {
		t.Errorf("openssl verified with the wrong key:\n%s", out)
	}

	// Keys openssl makes load too, and sign envelopes we verify.
	osslPriv, osslPub := filepath.Join(dir, "ossl.pem"), filepath.Join(dir, "ossl.pub")
	if out, err := run("genpkey", "-algorithm", "ed25519", "-out", osslPriv); err != nil {
		t.Fatalf("openssl genpkey: %v\n%s", err, out)
	}
	if out, err := run("pkey", "-in", osslPriv, "-pubout", "-out", osslPub); err != nil {
		t.Fatalf("openssl pkey -pubout: %v\n%s", err, out)
	}
	s2, err := LoadPrivateKey(osslPriv)
	if err != nil {
		t.Fatalf("loading an openssl key: %v", err)
	}
	p2, err := LoadPublicKey(osslPub)
	if err != nil {
		t.Fatalf("loading an openssl public key: %v", err)
	}
	env2, err := Attest(sampleResult(Reproducible), s2, AttestProvenance)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyAttestation(p2, env2); err != nil {
		t.Errorf("envelope signed with an openssl key does not verify: %v", err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func FuzzVerifyAttestation(f *testing.F) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	good, err := Attest(sampleResult(Reproducible), priv, AttestVerificationSummary)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AAAA"}]}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, env []byte) {
		vs, err := VerifyAttestation(pub, env)
		if err == nil && vs == nil {
			t.Fatal("no error and no statement")
		}
		if err == nil && !bytes.Contains(env, []byte("signatures")) {
			t.Fatalf("verified an envelope without signatures: %q", env)
		}
	})
}
