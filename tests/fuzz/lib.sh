# tests/fuzz/lib.sh - what smoke and run share: the harnesses, the clang build
# they live in and the flags each runs with. Sourced; needs FUZZ_SRC (the
# source root) and sets FUZZ_BUILD (SCANQ_FUZZ_BUILD, else build-fuzz there).

FUZZ_TARGETS="taskfile ply siftpts redis_url sftp_url record frames evidence"
FUZZ_BUILD=${SCANQ_FUZZ_BUILD:-$FUZZ_SRC/build-fuzz}

# fuzz_known NAME: 0 if NAME is a harness.
fuzz_known() {
	for t in $FUZZ_TARGETS; do
		[ "$t" = "$1" ] && return 0
	done
	return 1
}

# fuzz_build LOG: configures (once) and builds the harnesses with clang. Returns
# 77 when there is no clang at all, 1 when the build fails (LOG says why).
fuzz_build() {
	command -v clang >/dev/null 2>&1 || return 77
	if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
		CC=clang meson setup "$FUZZ_BUILD" "$FUZZ_SRC" -Dfuzz=true >"$1" 2>&1 || return 1
	fi
	nice ninja -C "$FUZZ_BUILD" fuzz >>"$1" 2>&1 || return 1
}

# Longest input the fuzzer makes: about the largest real file the reader
# meets, enough for every structure in it without slowing each run.
fuzz_max_len() {
	case $1 in
	redis_url | sftp_url) echo 512 ;;
	ply | siftpts) echo 32768 ;;
	*) echo 16384 ;;
	esac
}

# fuzz_run NAME WORKDIR SECONDS [FLAG...]: fuzzes NAME for SECONDS from its
# committed corpus (read only) into WORKDIR/corpus, crash inputs into
# WORKDIR/artifacts/, with any further libFuzzer flags. libFuzzer's output goes
# to stdout/stderr; returns its exit status (0: no finding).
fuzz_run() {
	name=$1 work=$2 secs=$3
	shift 3
	seeds="$FUZZ_SRC/tests/fuzz/corpus/$name"
	mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
	# the harnesses' scratch folders (one a process, left behind by a crash)
	fuzz_rc=0
	TMPDIR="$work/tmp" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=0" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1" \
		"$FUZZ_BUILD/tests/fuzz/fuzz_$name" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len="$(fuzz_max_len "$name")" \
		-dict="$FUZZ_SRC/tests/fuzz/dict/$name.dict" -artifact_prefix="$work/artifacts/" \
		-print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 "$@" \
		"$work/corpus" "$seeds" || fuzz_rc=$?
	rm -rf "$work/tmp"
	return "$fuzz_rc"
}
