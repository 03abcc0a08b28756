package main

// The exit-code policy, decided here and nowhere else. Pipeline stages
// return values and typed errors; this file maps them to codes.
//
//	0  reproducible (or reproducible after the requested normalizations);
//	   diff: identical or equivalent; attestation verify: valid and as expected
//	1  not reproducible; diff: different; attestation verify: invalid or not
//	   as expected
//	2  usage or input error: unknown flag or command, missing argument, bad
//	   flag value, bad manifest, unpinned or unconfined input, digest
//	   mismatch, nothing to infer from, unreadable or unwritable file, a
//	   bad .buildinfo, recipe or archive signature, packages the archive
//	   does not have
//	3  fetch or build failure (also compare failure and Ctrl-C during them):
//	   the check could not be made

import (
	"errors"
	"fmt"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/adapter/debian"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/image"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/report"
)

// Exit codes, stable for cron jobs.
const (
	exitOK              = 0
	exitNotReproducible = 1
	exitUsage           = 2
	exitFailure         = 3
)

// errorClass is what kind of failure an error is; its exit code follows
// from it, and error results record it (report.Result.ErrorClass).
type errorClass string

const (
	classUsage   errorClass = "usage"   // how reprove was called
	classInput   errorClass = "input"   // what reprove was given
	classInvalid errorClass = "invalid" // an attestation that does not check out
	classFetch   errorClass = "fetch"
	classBuild   errorClass = "build"
	classCompare errorClass = "compare"
	// the history database failed (a server down, a file that is not a
	// database): the result could not be read or recorded
	classDatabase errorClass = "database"
)

func (c errorClass) code() int {
	switch c {
	case classInvalid:
		return exitNotReproducible
	case classFetch, classBuild, classCompare, classDatabase:
		return exitFailure
	}
	return exitUsage
}

// inputErrors are the typed errors that blame what reprove was given.
var inputErrors = []error{
	manifest.ErrInvalid, fetch.ErrDigestMismatch, fetch.ErrUnpinned, fetch.ErrConfined,
	adapter.ErrNotApplicable, adapter.ErrCannotInfer,
	debian.ErrBadBuildInfo, debian.ErrNoSourcePackage, deb.ErrSignature, deb.ErrUnresolved, deb.ErrNoSource,
	image.ErrRecipe,
}

// classify names the kind of failure err is. An error that is neither
// typed nor from a fetch, build or compare stage is an input error: the
// commands that do not fetch or build (diff, report, key, attestation)
// fail only on what they were given.
func classify(err error) errorClass {
	var ue *usageError
	switch {
	case errors.As(err, &ue), errors.Is(err, rebuild.ErrUsage):
		return classUsage
	case errors.Is(err, errAttestationInvalid):
		return classInvalid
	case errors.Is(err, errDatabase):
		return classDatabase
	}
	for _, e := range inputErrors {
		if errors.Is(err, e) {
			return classInput
		}
	}
	switch rebuild.ErrorStage(err) {
	case rebuild.StageFetch:
		return classFetch
	case rebuild.StageBuild:
		return classBuild
	case rebuild.StageCompare:
		return classCompare
	}
	return classInput
}

// exitCode is the code a command that ended with err exits with.
func exitCode(err error) int {
	var ve *verdictError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ve):
		return ve.code
	}
	return classify(err).code()
}

// verdictCode is the code a finished check exits with.
func verdictCode(v report.Verdict) int {
	switch v {
	case report.Reproducible, report.ReproducibleAfterNormalization:
		return exitOK
	case report.NotReproducible:
		return exitNotReproducible
	}
	return exitFailure
}

// usageError is a mistake in how reprove was called: an unknown flag or
// command, a missing argument, a bad flag value. It is printed as one line
// with a pointer to the command's --help, never with the help itself.
type usageError struct {
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// verdictError ends a command whose answer is negative without an error
// to print: verify's not-reproducible verdict, diff's "different". Its
// code is the answer's.
type verdictError struct{ code int }

func (e *verdictError) Error() string { return "" }

// answer is the error a command returns for an exit code that is its
// answer (0 returns nil).
func answer(code int) error {
	if code == exitOK {
		return nil
	}
	return &verdictError{code: code}
}
