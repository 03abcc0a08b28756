package report

// renderTextAlso lists the other published files compared, one line each.
func renderTextAlso(ew *errWriter, res *Result, p palette) {
	for _, a := range res.Also {
		c := p.pass
		if a.Verdict != Reproducible {
			c = p.fail
		}
		ew.printf("  %-10s %s %s\n", "also", c.Sprint(verdictMark(a.Verdict)), termSafe(a.URI))
		ew.printf("  %-10s %s\n", "", termSafe(fileOf(a.Rebuilt, a.Digest)))
	}
}

// LevelReproducibleApproximated is the verifiedLevel of a PASSED summary
// whose inputs were approximated (a derived .buildinfo): the artifact was
// rebuilt bit for bit, but not from inputs pinned by its publisher.
const LevelReproducibleApproximated = "REPROVE_REPRODUCIBLE_APPROXIMATED_INPUTS"
