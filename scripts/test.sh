#!/usr/bin/env bash
# Installs what is missing, vets, and runs every test, including the ones
# that run real containers, and each fuzz target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
. scripts/postgres.sh
reprove_setup

# A throw-away PostgreSQL for the history tests (REPROVE_TEST_POSTGRES), torn
# down on exit; the tests fail on CI without it.
fuzzlog=
rootlog=
rootpid=
cleanup() {
	if [ -n "$rootpid" ]; then kill "$rootpid" 2>/dev/null || true; fi
	reprove_postgres_stop
	rm -f ${fuzzlog:+"$fuzzlog"} ${rootlog:+"$rootlog"}
}
trap cleanup EXIT
# A killed run (Ctrl-C, a CI timeout) still tears the server down.
trap 'exit 130' INT
trap 'exit 143' TERM
reprove_postgres_start

export REPROVE_TEST_DEBS=$PWD/.cache/debs
mkdir -p "$REPROVE_TEST_DEBS"
# Machines that reach the package registries run the end-to-end tests too.
if [ "${CI:-}" = true ]; then export REPROVE_E2E=${REPROVE_E2E:-1}; fi

echo "==> go vet" >&2
go vet ./...
echo "==> gofmt" >&2
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt-formatted: $unformatted" >&2; exit 1; fi

echo "==> go test" >&2
# Every package runs under the race detector but the root one, whose tests
# mostly run the reprove binary (built without -race) in containers: under
# -race only the test process's own work (building the tests' builder
# images, hashing) is several times slower, and nothing more is checked.
# The root package's in-process tests (progress bars, flag handling, the
# exit policy, the history commands) run under -race on their own. The
# root package runs beside the others, as one go test would run it.
# The whole-toolchain rebuild takes tens of minutes: never in the main run.
rootpkg=$(go list .)
rootlog=$(mktemp)
REPROVE_E2E_TOOLCHAIN= go test -count=1 -timeout 25m . >"$rootlog" 2>&1 &
rootpid=$!
status=0
REPROVE_E2E_TOOLCHAIN= go test -race -count=1 -timeout 25m $(go list ./... | grep -vx "$rootpkg") || status=1
inproc=$(grep -ho '^func Test[A-Za-z0-9_]*' progress_test.go cli_test.go exit_test.go cmd_history_test.go | sed 's/^func //' | paste -sd'|')
go test -race -count=1 -timeout 10m -run "^($inproc)\$" . || status=1
wait "$rootpid" || status=1
rootpid=
cat "$rootlog"
if [ "$status" != 0 ]; then exit 1; fi
if [ "${REPROVE_E2E_TOOLCHAIN:-}" = 1 ]; then
	echo "==> a whole Go release rebuilt from a bootstrap (TestE2EToolchainDistribution)" >&2
	REPROVE_E2E=1 go test -count=1 -timeout 120m -run '^TestE2EToolchainDistribution$' .
fi

echo "==> fuzz targets (briefly)" >&2
# The budget is a count of executions, not a duration: with a duration, Go 1.26's
# fuzz coordinator can report its own -fuzztime deadline as a failure ("context
# deadline exceeded", no failing input written) when a worker is mid-run at the
# boundary (golang/go#75804, fixed in Go 1.27). A count has no deadline to race.
fuzztime=${REPROVE_FUZZTIME:-5000x}
fuzzlog=$(mktemp)
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for t in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "--- $pkg $t" >&2
		# A fuzz run that outlives its -fuzztime by minutes has hung: fail.
		if ! timeout 300 go test "$pkg" -run '^$' -fuzz "^$t\$" -fuzztime "$fuzztime" >"$fuzzlog" 2>&1; then
			tail -40 "$fuzzlog" >&2
			exit 1
		fi
	done
done
echo "==> all tests passed" >&2
