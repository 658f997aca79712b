# tests/cli/common.sh - helpers for end-to-end tests (sourced by tests/cli/*.sh).
#
# Run by tests/run-test: SCANQ_TMP is a private scratch dir, SCANQ_REDIS points at a
# private redis-server, PATH holds the built programs and scanq-synth.
set -eu
T=$SCANQ_TMP
BIN="$SCANQ_TESTS/cli/bin"
RSOCK=${SCANQ_REDIS#unix://}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

rcli() {
	redis-cli -s "$RSOCK" "$@"
}

# make_videos DIR VEHICLES CHAPTERS: short synthetic survey videos in DIR/videos.
make_videos() {
	scanq-synth --out "$1" --vehicles "$2" --chapters "$3" --duration 2 \
		--width 320 --height 180 --fps 10 --quiet
}

# write_acq TASKDIR ACQ OUTROOT: acquisition.yaml with the mini command backends.
write_acq() {
	mkdir -p "$1"
	cat >"$1/acquisition.yaml" <<EOY
acquisition: $2
output_root: $3
extract: { fps: 2, width: 160, height: -1, quality: 5 }
reconstruct:
  backend: command
  command: [$BIN/mini-reconstruct, "{frames}", "{output}"]
  timeout: 2m
stitch:
  backend: command
  command: [$BIN/mini-stitch, "{output}", "{inputs}"]
retry: { max_attempts: ${SCANQ_TEST_ATTEMPTS:-3}, backoff: 200ms }
EOY
}

# write_task TASKDIR GROUP NAME VIDEO...
write_task() {
	_dir=$1 _group=$2 _name=$3
	shift 3
	{
		echo "group: $_group"
		echo "name: $_name"
		echo "videos:"
		for _v in "$@"; do echo "  - $_v"; done
	} >"$_dir/$_name.yaml"
}

# wait_for SECONDS CMD...: retry CMD until it succeeds or time runs out.
wait_for() {
	_limit=$1
	shift
	_end=$(($(date +%s) + _limit))
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.2
	done
}

# status_json: one snapshot document.
status_json() {
	scanq-status --once --json
}

# stage_count ACQ STAGE FIELD: a number from the status snapshot.
stage_count() {
	status_json | jq -r --arg a "$1" --arg s "$2" --arg f "$3" \
		'.acquisitions[] | select(.name == $a) | .stages[$s][$f]'
}
