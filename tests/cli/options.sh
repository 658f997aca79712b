# options.sh - what the programs say to an operator: -h and --help everywhere,
# option errors that name the option, its value and what was expected (exit 2),
# the variables read once, a worker that says which of its --gpus it cannot see,
# and --drain's exit status when a job it ran was dead-lettered.
. "$SCANQ_TESTS/cli/common.sh"

# usage_error WANT CMD...: CMD exits 2 (usage) and says WANT on stderr.
usage_error() {
	_want=$1
	shift
	_rc=0
	"$@" >/dev/null 2>"$T/err.txt" || _rc=$?
	[ $_rc = 2 ] || fail "$*: exit $_rc, expected 2; it said: $(cat "$T/err.txt")"
	grep -qF -- "$_want" "$T/err.txt" || fail "$*: said '$(cat "$T/err.txt")', expected '$_want'"
}

# --- -h and --help: the usage on stdout, exit 0 ------------------------------------
for p in scanq-enqueue scanq-worker scanq-status scanq-repair scanq-ctl; do
	for h in -h --help; do
		rc=0
		$p $h >"$T/help.txt" 2>"$T/err.txt" || rc=$?
		[ $rc = 0 ] || fail "$p $h: exit $rc: $(cat "$T/err.txt")"
		grep -q "^usage: $p" "$T/help.txt" || fail "$p $h: $(cat "$T/help.txt")"
		grep -q -- "--redis URL" "$T/help.txt" || fail "$p $h: no --redis"
		grep -q "(env SCANQ_REDIS)" "$T/help.txt" || fail "$p $h: the variable is not named"
	done
	usage_error "$p: unknown option '--bogus'" $p --bogus
	usage_error "$p: option '--redis' needs a value" $p --redis
done
echo "-h and --help: ok"

# --- values that are wrong say what would be right --------------------------------
# (a worker given --drain and nothing to do exits at once, should it accept them)
usage_error "scanq-worker: invalid --lease '1ms' (expected a duration of 1s..1d, e.g. 30s)" \
	scanq-worker --lease 1ms --acq none --drain
usage_error "scanq-worker: invalid --lease '0x10s'" scanq-worker --lease 0x10s --acq none --drain
usage_error "scanq-worker: invalid --lease 'nan'" scanq-worker --lease nan --acq none --drain
usage_error "scanq-worker: invalid --stage 'reconstuct' (expected extract, reconstruct, stitch)" \
	scanq-worker --stage reconstuct
usage_error "scanq-worker: invalid --stage: an empty item in 'extract,'" scanq-worker --stage extract,
usage_error "scanq-worker: invalid -n '0' (expected 1..1024)" scanq-worker -n 0
usage_error "scanq-worker: invalid -n 'two' (expected 1..1024)" scanq-worker -n two
usage_error "scanq-worker: invalid --acq 'a/b' (expected an acquisition name" scanq-worker --acq a/b --drain
usage_error "scanq-worker: option '--drain' takes no value" scanq-worker --drain=yes
usage_error "scanq-worker: unexpected argument 'extract'" scanq-worker extract
usage_error "scanq-worker: --local runs one stage or all" \
	scanq-worker --local x.yaml --stage extract,reconstruct
usage_error "scanq-worker: invalid SCANQ_THREADS 'many' (expected 1..1024)" \
	env SCANQ_THREADS=many scanq-worker --acq none --drain
usage_error "scanq-enqueue: invalid SCANQ_STALL_TIMEOUT_MS 'soon' (expected milliseconds" \
	env SCANQ_STALL_TIMEOUT_MS=soon scanq-enqueue --check "$T/nothing"
usage_error "scanq-enqueue: no task directory given" scanq-enqueue --check
usage_error "scanq-repair: no task directory given" scanq-repair --apply
usage_error "scanq-status: invalid --interval 'soon' (expected a duration of 100ms..1d" \
	scanq-status --interval soon --once
echo "option errors: ok"

# --lease 1s is the least accepted; a flag wins over its variable
scanq-worker --lease 1s --acq none --drain 2>"$T/w.log" || fail "--lease 1s: $(cat "$T/w.log")"
SCANQ_REDIS=unix:///nonexistent scanq-worker --redis "$SCANQ_REDIS" --acq none --drain \
	2>"$T/w.log" || fail "--redis over SCANQ_REDIS: $(cat "$T/w.log")"

# --- --gpus naming GPUs this host cannot see --------------------------------------
mkdir -p "$T/nosmi" "$T/fakebin"
WORKER=$(command -v scanq-worker)
PATH="$T/nosmi" "$WORKER" --gpus 0 --acq none --drain 2>"$T/w.log" ||
	fail "worker without nvidia-smi: $(cat "$T/w.log")"
grep -q "gpu 0: cannot see it: nvidia-smi is missing or failed" "$T/w.log" ||
	fail "no word about the missing nvidia-smi: $(cat "$T/w.log")"
cat >"$T/fakebin/nvidia-smi" <<'EOS'
#!/bin/sh
case "$*" in
*index,uuid*) printf '0, GPU-0a1b2c3d-0000\n1, GPU-9f8e7d6c-1111\n' ;;
*) echo 8000 ;;
esac
EOS
chmod +x "$T/fakebin/nvidia-smi"
PATH="$T/fakebin:$PATH" scanq-worker -n 3 --gpus 0,GPU-9f8e7d6c,7 --acq none --drain \
	2>"$T/w.log" || fail "worker with gpus 0,1: $(cat "$T/w.log")"
grep -q "gpu 7: cannot see it: nvidia-smi lists 0, 1" "$T/w.log" ||
	fail "no word about gpu 7: $(cat "$T/w.log")"
grep -q "gpu 0: cannot\|gpu GPU-9f8e7d6c: cannot" "$T/w.log" &&
	fail "a visible GPU was reported: $(cat "$T/w.log")"
echo "gpus: ok"

# --- --drain exits 1 when a job it ran was dead-lettered ---------------------------
make_videos "$T/survey" 1 1
VIDEO="$T/survey/videos/auv1-ch01.mp4"
# acq ACQ RECONSTRUCT-ARGV: a task directory with one task whose reconstruct runs it
acq() {
	mkdir -p "$T/$1"
	cat >"$T/$1/acquisition.yaml" <<EOY
acquisition: $1
output_root: $T/out-$1
extract: { fps: 2, width: 160, height: -1, quality: 5 }
reconstruct: { backend: command, command: $2, timeout: 1m }
stitch: { backend: builtin }
retry: { max_attempts: 1, backoff: 100ms }
EOY
	write_task "$T/$1" g t1 "$VIDEO"
	scanq-enqueue "$T/$1" >/dev/null || fail "enqueue $1"
}
acq fine "[$BIN/mini-reconstruct, \"{frames}\", \"{output}\"]"
acq fails '[/bin/sh, -c, "echo no good; exit 3"]'
# the backend kills the worker process running it (a crash on its last attempt),
# leaving a setsid grandchild behind
acq crashes "[/bin/sh, -c, \"setsid sleep 1000 & echo \$! >$T/orphan.pid; kill -KILL \$PPID; sleep 1000\"]"

scanq-worker --acq fine --drain 2>"$T/fine.log" || fail "fine: exit $?: $(cat "$T/fine.log")"
rc=0
scanq-worker --acq fails --drain 2>"$T/fails.log" || rc=$?
[ $rc = 1 ] || fail "a dead-lettered job, yet --drain exit $rc: $(cat "$T/fails.log")"
grep -q "scanq-worker: 1 job was dead-lettered" "$T/fails.log" || fail "$(cat "$T/fails.log")"
rc=0
timeout 60 scanq-worker --acq crashes --drain 2>"$T/crashes.log" || rc=$?
[ $rc = 1 ] || fail "a job crashed on its last attempt, yet --drain exit $rc: $(cat "$T/crashes.log")"
grep -q "crashed on its last attempt and was dead-lettered" "$T/crashes.log" ||
	fail "$(cat "$T/crashes.log")"
[ "$(rcli scard dead:crashes:reconstruct)" = 1 ] || fail "the crashed job is not dead-lettered"
# the dead worker's backend, and what it left running, went with it
[ -s "$T/orphan.pid" ] || fail "the crashing backend did not run"
if kill -0 "$(cat "$T/orphan.pid")" 2>/dev/null; then
	kill -KILL "$(cat "$T/orphan.pid")" # its own session: run-test would not end it
	fail "a dead worker's backend left a process behind"
fi
echo "drain: ok"
