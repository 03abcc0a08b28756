-- 0001: one row per recorded result, and each target's latest row.
--
-- Times are Unix nanoseconds (UTC), so both databases order and compare them
-- the same way. artifact_digest is '' when the run did not fetch the artifact.
-- The last four columns are derived from the target's earlier rows (ordered by
-- finished_at, then id): prev_id is the row before, prev_digest the digest of
-- the latest earlier row that fetched the artifact; Record keeps them right
-- when results arrive out of order.
CREATE TABLE results (
	id              @ID@,
	target_key      TEXT    NOT NULL,
	name            TEXT    NOT NULL,
	finished_at     BIGINT  NOT NULL,
	verdict         TEXT    NOT NULL,
	exit_code       INTEGER NOT NULL,
	artifact_uri    TEXT    NOT NULL,
	artifact_digest TEXT    NOT NULL,
	rebuilt_digest  TEXT    NOT NULL,
	causes          TEXT    NOT NULL,
	error           TEXT    NOT NULL,
	duration_ns     BIGINT  NOT NULL,
	reprove_version TEXT    NOT NULL,
	recorded_at     BIGINT  NOT NULL,
	result_digest   TEXT    NOT NULL UNIQUE,
	result_json     TEXT    NOT NULL,
	prev_id         BIGINT,
	prev_digest     TEXT    NOT NULL DEFAULT '',
	transition      INTEGER NOT NULL DEFAULT 0,
	regression      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX results_by_target ON results (target_key, finished_at, id);
CREATE INDEX results_transitions ON results (target_key, finished_at, id) WHERE transition <> 0;
CREATE INDEX results_regressions ON results (finished_at, id) WHERE regression <> 0;

CREATE TABLE targets (
	target_key TEXT   NOT NULL PRIMARY KEY,
	latest_id  BIGINT NOT NULL
);
