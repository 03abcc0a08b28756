package report

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	slsaprov "github.com/in-toto/attestation/go/predicates/provenance/v1"
	vsa "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// AttestationKind says which in-toto predicate an attestation carries.
type AttestationKind string

const (
	// AttestVerificationSummary is a SLSA Verification Summary v1 about the
	// published artifact: did its rebuild reproduce it (PASSED/FAILED).
	AttestVerificationSummary AttestationKind = "verification-summary"
	// AttestProvenance is a SLSA Provenance v1 about the rebuilt output:
	// how reprove built it, from which pinned inputs.
	AttestProvenance AttestationKind = "provenance"
)

const (
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// StatementType is the in-toto Statement v1 type.
	StatementType = ita.StatementTypeUri
	// PredicateVerificationSummary is the SLSA Verification Summary v1 type.
	PredicateVerificationSummary = "https://slsa.dev/verification_summary/v1"
	// PredicateProvenance is the SLSA Provenance v1 type.
	PredicateProvenance = "https://slsa.dev/provenance/v1"
	// DefaultVerifierID is the verifier and builder id when Result.Tool.ID is empty.
	DefaultVerifierID = "https://github.com/reprove/reprove"
	// BuildType is the buildType of reprove's provenance: a rebuild in a
	// network-less container from the manifest in externalParameters.
	BuildType = "https://github.com/reprove/reprove/buildtypes/rebuild/v1"
)

// Custom verifiedLevels of a PASSED verification summary. SLSA reserves the
// SLSA_ prefix; reprove checks reproducibility, not a SLSA build level.
const (
	LevelReproducible                   = "REPROVE_REPRODUCIBLE"
	LevelReproducibleAfterNormalization = "REPROVE_REPRODUCIBLE_AFTER_NORMALIZATION"
	levelFailed                         = "FAILED"
)

// Errors VerifyAttestation returns (wrapped, with the details).
var (
	// ErrEnvelope: the file is not a DSSE envelope.
	ErrEnvelope = errors.New("not a DSSE envelope")
	// ErrPayloadType: the envelope does not carry an in-toto statement.
	ErrPayloadType = errors.New("wrong DSSE payload type")
	// ErrSignature: no signature verifies with the given key.
	ErrSignature = errors.New("signature does not verify")
	// ErrStatement: the signed payload is not a valid in-toto Statement v1.
	ErrStatement = errors.New("not an in-toto Statement v1")
)

// Statement returns the unsigned in-toto Statement v1 JSON of the given
// kind for res. Attest signs exactly these bytes.
func Statement(res *Result, kind AttestationKind) ([]byte, error) {
	if res == nil {
		return nil, errors.New("making attestation: no result")
	}
	var st *ita.Statement
	var err error
	switch kind {
	case AttestVerificationSummary:
		st, err = verificationSummary(res)
	case AttestProvenance:
		st, err = provenance(res)
	default:
		return nil, fmt.Errorf("making attestation: unknown kind %q: use %q or %q", kind, AttestVerificationSummary, AttestProvenance)
	}
	if err != nil {
		return nil, fmt.Errorf("making %s attestation for %s: %w", kind, res.displayName(), err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("making %s attestation for %s: invalid statement: %w", kind, res.displayName(), err)
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding %s statement: %w", kind, err)
	}
	// protojson varies its whitespace on purpose; settle it so the signed
	// bytes are the same for the same result.
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("encoding %s statement: %w", kind, err)
	}
	return json.Marshal(v)
}

// Attest returns a DSSE envelope (JSON) holding the in-toto statement of the
// given kind for res, signed by signer over the DSSE pre-authentication
// encoding. The signer must hold an Ed25519 key (LoadPrivateKey).
func Attest(res *Result, signer crypto.Signer, kind AttestationKind) ([]byte, error) {
	if signer == nil {
		return nil, errors.New("signing attestation: no key; pass --sign-key with a key from reprove key generate")
	}
	pub, ok := signer.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("signing attestation: the key is a %T, but reprove signs with Ed25519 keys", signer.Public())
	}
	payload, err := Statement(res, kind)
	if err != nil {
		return nil, err
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	es, err := dsse.NewEnvelopeSigner(dsseKey{signer: signer, pub: pub, id: id})
	if err != nil {
		return nil, fmt.Errorf("signing attestation: %w", err)
	}
	env, err := es.SignPayload(context.Background(), PayloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("signing attestation: %w", err)
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding DSSE envelope: %w", err)
	}
	return append(b, '\n'), nil
}

// dsseKey adapts an Ed25519 crypto.Signer (or only its public key, for
// verifying) to the DSSE Signer and Verifier interfaces.
type dsseKey struct {
	signer crypto.Signer
	pub    ed25519.PublicKey
	id     string
}

func (k dsseKey) Sign(_ context.Context, data []byte) ([]byte, error) {
	// Ed25519 signs the message itself: no pre-hash (crypto.Hash(0)).
	return k.signer.Sign(rand.Reader, data, crypto.Hash(0))
}

func (k dsseKey) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(k.pub, data, sig) {
		return ErrSignature
	}
	return nil
}

func (k dsseKey) KeyID() (string, error)   { return k.id, nil }
func (k dsseKey) Public() crypto.PublicKey { return k.pub }

// VerifiedStatement is what a verified attestation says.
type VerifiedStatement struct {
	KeyID         string          // the keyid of the signature that verified
	Type          string          // in-toto statement type
	PredicateType string          // e.g. PredicateVerificationSummary
	Subjects      []Subject       // what the statement is about
	Predicate     json.RawMessage // the predicate, as signed
	// VerificationResult is "PASSED" or "FAILED" for a verification summary,
	// empty for other predicates.
	VerificationResult string
	Payload            []byte // the signed statement bytes
}

// Subject is one thing a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// VerifyAttestation checks a DSSE envelope signed by Attest: the payload type
// must be in-toto's, a signature must verify with pub over the DSSE
// pre-authentication encoding of the payload, and the payload must be an
// in-toto Statement v1. Errors wrap ErrEnvelope, ErrPayloadType,
// ErrSignature or ErrStatement and say what to check.
func VerifyAttestation(pub crypto.PublicKey, envelope []byte) (*VerifiedStatement, error) {
	edPub, ok := pub.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("verifying attestation: the key is a %T, but reprove attestations use Ed25519 keys", pub)
	}
	id, err := KeyID(edPub)
	if err != nil {
		return nil, err
	}
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return nil, fmt.Errorf("verifying attestation: %w: %v", ErrEnvelope, err)
	}
	if env.PayloadType == "" && env.Payload == "" {
		return nil, fmt.Errorf("verifying attestation: %w: no payloadType or payload field", ErrEnvelope)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("verifying attestation: %w: %q, expected %q", ErrPayloadType, env.PayloadType, PayloadType)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("verifying attestation: %w: the envelope has no signatures", ErrSignature)
	}
	if _, err := env.DecodeB64Payload(); err != nil {
		return nil, fmt.Errorf("verifying attestation: %w: payload is not base64: %v", ErrEnvelope, err)
	}
	ev, err := dsse.NewEnvelopeVerifier(dsseKey{pub: edPub, id: id})
	if err != nil {
		return nil, fmt.Errorf("verifying attestation: %w", err)
	}
	accepted, payload, err := ev.VerifyAndDecode(context.Background(), &env)
	if err != nil || len(accepted) == 0 {
		return nil, signatureError(env.Signatures, id)
	}
	vs, err := parseStatement(payload)
	if err != nil {
		return nil, fmt.Errorf("verifying attestation: the signature is good but %w", err)
	}
	vs.KeyID = accepted[0].KeyID
	return vs, nil
}

// signatureError says why no signature verified: signed by another key, or
// the payload (or signature) changed after signing.
func signatureError(sigs []dsse.Signature, keyID string) error {
	var others []string
	for _, s := range sigs {
		if s.KeyID == "" || s.KeyID == keyID {
			return fmt.Errorf("verifying attestation: %w with key %s: the payload or the signature was changed after signing", ErrSignature, keyID)
		}
		others = append(others, s.KeyID)
	}
	return fmt.Errorf("verifying attestation: %w: signed by key %s, not by the given key %s; check you passed the right public key",
		ErrSignature, strings.Join(others, ", "), keyID)
}

func parseStatement(payload []byte) (*VerifiedStatement, error) {
	var st ita.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	if st.GetType() != StatementType {
		return nil, fmt.Errorf("%w: _type is %q", ErrStatement, st.GetType())
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	var raw struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatement, err)
	}
	vs := &VerifiedStatement{
		Type:          st.GetType(),
		PredicateType: st.GetPredicateType(),
		Predicate:     raw.Predicate,
		Payload:       payload,
	}
	for _, s := range st.GetSubject() {
		vs.Subjects = append(vs.Subjects, Subject{Name: s.GetName(), Digest: s.GetDigest()})
	}
	if vs.PredicateType == PredicateVerificationSummary {
		if f, ok := st.GetPredicate().GetFields()["verificationResult"]; ok {
			vs.VerificationResult = f.GetStringValue()
		}
	}
	return vs, nil
}

// verificationSummary is the SLSA VSA v1 statement about the published artifact.
func verificationSummary(res *Result) (*ita.Statement, error) {
	var result string
	var levels []string
	switch res.Verdict {
	case Reproducible:
		result, levels = "PASSED", []string{LevelReproducible}
		if len(res.Approximated) > 0 {
			levels = []string{LevelReproducibleApproximated}
		}
	case ReproducibleAfterNormalization:
		result, levels = "PASSED", []string{LevelReproducibleAfterNormalization}
	case NotReproducible:
		result, levels = "FAILED", []string{levelFailed}
	default:
		return nil, fmt.Errorf("the check could not be made (%s), so there is nothing to attest; fix the error and verify again", firstLine(res.Error))
	}
	if res.IsDiff() {
		return nil, errors.New("a plain diff verifies nothing; attest the result of reprove verify")
	}
	subject, err := comparedSubject(res, result == "PASSED")
	if err != nil {
		return nil, err
	}
	if res.FinishedAt.IsZero() {
		return nil, errors.New("the result has no finishedAt time to state as timeVerified")
	}
	pred := &vsa.VerificationSummary{
		Verifier:           &vsa.VerificationSummary_Verifier{Id: verifierID(res)},
		TimeVerified:       timestamppb.New(res.FinishedAt),
		ResourceUri:        res.Artifact.URI,
		Policy:             &vsa.VerificationSummary_Policy{Uri: res.Manifest.Path},
		VerificationResult: result,
		VerifiedLevels:     levels,
	}
	if res.Manifest.Digest != "" {
		d, err := digestMap(res.Manifest.Digest)
		if err != nil {
			return nil, fmt.Errorf("manifest.digest: %w", err)
		}
		pred.Policy.Digest = d
	}
	if pred.Policy.Uri == "" && len(pred.Policy.Digest) == 0 {
		return nil, errors.New("the result names no manifest (path or digest) to state as the policy")
	}
	m, err := protoToMap(pred)
	if err != nil {
		return nil, err
	}
	// VSA v1 also names the verifier's version, which the proto lacks.
	if v, ok := m["verifier"].(map[string]any); ok {
		v["version"] = map[string]any{toolName(res): toolVersion(res)}
	}
	// Where the compared bytes came from in this run (an extension field:
	// VSA v1 has none for it): a nightly job's PASSED from the network is
	// not the same statement as one from a cache (--offline).
	ext := map[string]any{"offline": res.Offline, "artifactSource": res.Artifact.Source}
	if !res.Artifact.FetchedAt.IsZero() {
		ext["artifactFetchedAt"] = res.Artifact.FetchedAt.UTC().Format(time.RFC3339Nano)
	}
	m["reprove"] = ext
	return statement(subject, PredicateVerificationSummary, m)
}

// comparedSubject is what a verification summary is about: the bytes that
// were compared, named by the digest computed over them in this run (the
// member's, when one member of an archive was compared). A PASSED statement
// also needs those bytes to be the rebuilt ones and, for a whole artifact,
// the declared ones: a result that does not say so is refused rather than
// signed.
func comparedSubject(res *Result, passed bool) (*ita.ResourceDescriptor, error) {
	f := res.Artifact.File
	if f == nil || f.Digest == "" {
		return nil, errors.New("the result names no digest computed over the compared artifact (artifact.file.digest), so there is no subject to attest")
	}
	name := artifactName(res, false)
	if res.Artifact.Member != "" {
		name += "#" + res.Artifact.Member
	}
	if passed {
		if res.Artifact.Member == "" && (f.Digest != res.Artifact.Digest || (res.Artifact.Declared != "" && f.Digest != res.Artifact.Declared)) {
			return nil, fmt.Errorf("refusing a PASSED attestation: the compared bytes (%s) are not the declared artifact (%s)", f.Digest, res.Artifact.Declared)
		}
		if res.Verdict == Reproducible && (res.Rebuilt == nil || res.Rebuilt.Digest != f.Digest) {
			return nil, fmt.Errorf("refusing a PASSED attestation: the rebuilt output's digest is not the compared artifact's (%s)", f.Digest)
		}
	}
	subject, err := descriptor(name, f.Digest)
	if err != nil {
		return nil, fmt.Errorf("artifact.file.digest: %w", err)
	}
	return subject, nil
}

// provenance is the SLSA Provenance v1 statement about the rebuilt output.
func provenance(res *Result) (*ita.Statement, error) {
	if res.IsDiff() {
		return nil, errors.New("a plain diff builds nothing; make provenance from the result of reprove verify")
	}
	if res.Rebuilt == nil || res.Rebuilt.Digest == "" {
		return nil, errors.New("the result has no rebuilt output with a digest (the build did not finish), so there is no provenance to state")
	}
	subject, err := descriptor(artifactName(res, true), res.Rebuilt.Digest)
	if err != nil {
		return nil, fmt.Errorf("rebuilt.digest: %w", err)
	}

	ext, err := externalParameters(res)
	if err != nil {
		return nil, err
	}
	env := make([]any, len(res.Environment))
	for i, e := range res.Environment {
		env[i] = e
	}
	internal, err := structpb.NewStruct(map[string]any{"backend": res.Backend, "environment": env})
	if err != nil {
		return nil, fmt.Errorf("encoding internalParameters: %w", err)
	}
	var deps []*ita.ResourceDescriptor
	for i, in := range res.Inputs {
		rd := &ita.ResourceDescriptor{Uri: in.URI, Digest: map[string]string{}}
		if in.Digest != "" {
			d, err := digestMap(in.Digest)
			if err != nil {
				return nil, fmt.Errorf("inputs[%d].digest: %w", i, err)
			}
			rd.Digest = d
		}
		if in.Rev != "" {
			rd.Digest["gitCommit"] = in.Rev
		}
		ann := map[string]any{"kind": in.Kind}
		if in.Dest != "" {
			ann["dest"] = in.Dest
		}
		if rd.Annotations, err = structpb.NewStruct(ann); err != nil {
			return nil, fmt.Errorf("encoding inputs[%d] annotations: %w", i, err)
		}
		deps = append(deps, rd)
	}
	if res.Builder.Image != "" || res.Builder.Digest != "" {
		rd := &ita.ResourceDescriptor{Name: "builder", Uri: res.Builder.Image}
		if res.Builder.Digest != "" {
			if rd.Digest, err = digestMap(res.Builder.Digest); err != nil {
				return nil, fmt.Errorf("builder.digest: %w", err)
			}
		}
		deps = append(deps, rd)
	}

	meta := &slsaprov.BuildMetadata{}
	if !res.StartedAt.IsZero() {
		meta.StartedOn = timestamppb.New(res.StartedAt)
	}
	if !res.FinishedAt.IsZero() {
		meta.FinishedOn = timestamppb.New(res.FinishedAt)
	}
	var byproducts []*ita.ResourceDescriptor
	if len(res.Timings) > 0 {
		t := make(map[string]int64, len(res.Timings))
		for _, tm := range res.Timings {
			t[tm.Phase] += int64(tm.Duration)
		}
		b, err := json.Marshal(map[string]any{"durationNs": t})
		if err != nil {
			return nil, fmt.Errorf("encoding timings: %w", err)
		}
		byproducts = append(byproducts, &ita.ResourceDescriptor{Name: "timings", MediaType: "application/json", Content: b})
	}
	if res.BuildLog != "" {
		byproducts = append(byproducts, &ita.ResourceDescriptor{Name: "build-log", Uri: fileURI(res.BuildLog), MediaType: "text/plain"})
	}
	pred := &slsaprov.Provenance{
		BuildDefinition: &slsaprov.BuildDefinition{
			BuildType:            BuildType,
			ExternalParameters:   ext,
			InternalParameters:   internal,
			ResolvedDependencies: deps,
		},
		RunDetails: &slsaprov.RunDetails{
			Builder: &slsaprov.Builder{
				Id:      verifierID(res),
				Version: map[string]string{toolName(res): toolVersion(res)},
			},
			Metadata:   meta,
			Byproducts: byproducts,
		},
	}
	if err := pred.Validate(); err != nil {
		return nil, fmt.Errorf("invalid provenance: %w", err)
	}
	m, err := protoToMap(pred)
	if err != nil {
		return nil, err
	}
	return statement(subject, PredicateProvenance, m)
}

// externalParameters is the manifest as parsed; when the result does not
// carry its body, a reference to it by path and digest.
func externalParameters(res *Result) (*structpb.Struct, error) {
	var m map[string]any
	if res.Manifest.Body != nil {
		b, err := json.Marshal(res.Manifest.Body)
		if err != nil {
			return nil, fmt.Errorf("encoding manifest.body: %w", err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("manifest.body is not an object: %w", err)
		}
	}
	if len(m) == 0 {
		if res.Manifest.Digest == "" && res.Manifest.Path == "" {
			return nil, errors.New("the result carries no manifest (body, path or digest) to state as externalParameters")
		}
		m = map[string]any{"manifest": map[string]any{"path": res.Manifest.Path, "digest": res.Manifest.Digest}}
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("encoding externalParameters: %w", err)
	}
	return s, nil
}

func statement(subject *ita.ResourceDescriptor, predicateType string, predicate map[string]any) (*ita.Statement, error) {
	p, err := structpb.NewStruct(predicate)
	if err != nil {
		return nil, fmt.Errorf("encoding predicate: %w", err)
	}
	return &ita.Statement{
		Type:          StatementType,
		Subject:       []*ita.ResourceDescriptor{subject},
		PredicateType: predicateType,
		Predicate:     p,
	}, nil
}

func protoToMap(m proto.Message) (map[string]any, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding predicate: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("encoding predicate: %w", err)
	}
	return out, nil
}

func descriptor(name, digest string) (*ita.ResourceDescriptor, error) {
	d, err := digestMap(digest)
	if err != nil {
		return nil, err
	}
	return &ita.ResourceDescriptor{Name: name, Digest: d}, nil
}

// digestMap turns "sha256:abc…" into {"sha256": "abc…"}.
func digestMap(d string) (map[string]string, error) {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || alg == "" || hex == "" {
		return nil, fmt.Errorf("digest %q is not algorithm:hex (sha256:…)", d)
	}
	return map[string]string{alg: strings.ToLower(hex)}, nil
}

// artifactName is the subject name: the file name of the published artifact
// (of the compared member, for the rebuilt output when one was named).
func artifactName(res *Result, rebuilt bool) string {
	if rebuilt && res.Artifact.Member != "" {
		return path.Base(res.Artifact.Member)
	}
	u := res.Artifact.URI
	if pu, err := url.Parse(u); err == nil && pu.Path != "" {
		u = pu.Path
	} else if pu != nil && pu.Opaque != "" {
		u = pu.Opaque
	}
	if b := path.Base(u); b != "." && b != "/" && b != "" {
		return b
	}
	return res.displayName()
}

func fileURI(p string) string {
	if strings.Contains(p, "://") {
		return p
	}
	if path.IsAbs(p) {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return p
}

func verifierID(res *Result) string {
	if res.Tool.ID != "" {
		return res.Tool.ID
	}
	return DefaultVerifierID
}

func toolName(res *Result) string {
	if res.Tool.Name != "" {
		return res.Tool.Name
	}
	return "reprove"
}

func toolVersion(res *Result) string {
	if res.Tool.Version != "" {
		return res.Tool.Version
	}
	return "devel"
}

// ErrNotAsExpected is wrapped when a valid statement does not say what
// its checker asked for (another subject, another verification result).
var ErrNotAsExpected = errors.New("the attestation does not say what was expected")

// Expect checks what a verified statement says: with digest set
// ("sha256:…"), that it is one of its subjects; with result set ("PASSED"
// or "FAILED"), that it is a verification summary with that result.
// Failures wrap ErrNotAsExpected.
func (v *VerifiedStatement) Expect(digest, result string) error {
	if digest != "" {
		alg, hex, _ := strings.Cut(digest, ":")
		found := false
		var have []string
		for _, s := range v.Subjects {
			if s.Digest[alg] == hex {
				found = true
			}
			have = append(have, s.Name+" "+alg+":"+s.Digest[alg])
		}
		if !found {
			return fmt.Errorf("%w: the artifact (%s) is not a subject of the statement (it is about %s)", ErrNotAsExpected, digest, strings.Join(have, ", "))
		}
	}
	if result != "" {
		if v.PredicateType != PredicateVerificationSummary {
			return fmt.Errorf("%w: a %s result was expected, but the statement is a %s, not a verification summary", ErrNotAsExpected, result, v.PredicateType)
		}
		if v.VerificationResult != result {
			return fmt.Errorf("%w: the verification result is %s, not %s", ErrNotAsExpected, v.VerificationResult, result)
		}
	}
	return nil
}

// Summary says in one line what a verified attestation states, for people:
// "https://slsa.dev/verification_summary/v1: hello.tar.gz sha256:… PASSED (key 1a2b…)".
func (v *VerifiedStatement) Summary() string {
	var subj []string
	for _, s := range v.Subjects {
		d := ""
		if h, ok := s.Digest["sha256"]; ok {
			d = " sha256:" + h
		}
		subj = append(subj, s.Name+d)
	}
	line := v.PredicateType + ": " + strings.Join(subj, ", ")
	if v.VerificationResult != "" {
		line += " " + v.VerificationResult
	}
	if len(v.KeyID) > 16 {
		return line + " (key " + v.KeyID[:16] + "…)"
	}
	return line + " (key " + v.KeyID + ")"
}
