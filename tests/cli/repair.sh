# repair.sh - scanq-repair against a real pipeline: outputs deleted or made stale on
# disk, a failed task, Redis wiped; dry runs change nothing, --apply queues each
# job once, and a worker drain restores every output.
. "$SCANQ_TESTS/cli/common.sh"

# run_repair NAME ARGS...: scanq-repair ARGS; output in $T/NAME.{out,err}, status in $rc.
run_repair() {
	_n=$1
	shift
	rc=0
	scanq-repair "$@" >"$T/$_n.out" 2>"$T/$_n.err" || rc=$?
}

# expect_line NAME LINE: NAME's output has exactly this line.
expect_line() {
	grep -qxF "$2" "$T/$1.out" || fail "$1: no line '$2' in: $(cat "$T/$1.out" "$T/$1.err")"
}

# expect_actions NAME N: NAME's output has N action lines.
expect_actions() {
	_got=$(grep -cE '^(reinject|mark done|follows|skip) ' "$T/$1.out" || true)
	[ "$_got" = "$2" ] || fail "$1: $_got action lines, expected $2: $(cat "$T/$1.out")"
}

# expect_summary NAME REINJECT MARK FOLLOWS IN_FLIGHT FAILED CHANGED WAITING UP_TO_DATE
expect_summary() {
	expect_line "$1" "$2 to re-inject, $3 to mark done, $4 to follow by fan-in, $5 in flight, $6 failed (use --retry-failed), $7 changed (re-enqueue), $8 waiting, $9 up to date"
}

expect_llen() {
	[ "$(rcli llen "$1")" = "$2" ] || fail "$1 holds $(rcli llen "$1") jobs, expected $2"
}

created() {
	jq -r .created_ms "$1"
}

drain() {
	timeout 300 scanq-worker -n 2 --drain 2>>"$T/worker.log" || {
		tail -30 "$T/worker.log" >&2
		fail "worker pool did not drain cleanly"
	}
}

expect_clean() {
	run_repair "$1" "$T/tasks"
	[ $rc = 0 ] || fail "$1: exit $rc: $(cat "$T/$1.err")"
	expect_actions "$1" 0
	expect_summary "$1" 0 0 0 0 0 0 0 7
}

# Two groups of two tasks: 4 tasks + 2 group stitches + the acquisition stitch.
make_videos "$T/survey" 2 2
SCANQ_TEST_ATTEMPTS=1 write_acq "$T/tasks" repair "$T/out"
for v in 1 2; do
	for c in 1 2; do
		write_task "$T/tasks" "auv$v" "auv$v-seg0$c" "$T/survey/videos/auv$v-ch0$c.mp4"
	done
done
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"
drain
S1="$T/out/auv1/stitch.json"
S2="$T/out/auv2/stitch.json"
TOP="$T/out/stitch.json"
for f in "$S1" "$S2" "$TOP"; do [ -f "$f" ] || fail "pipeline did not produce $f"; done

# A complete pipeline needs nothing.
expect_clean clean

# --- one reconstruction lost: the task is re-injected, the stitches follow ---
s1=$(created "$S1") s2=$(created "$S2") top=$(created "$TOP")
d="$T/out/auv1/auv1-seg02"
rm "$d/reconstruction.ply" "$d/reconstruct.json"
run_repair dry "$T/tasks"
[ $rc = 0 ] || fail "dry run: exit $rc: $(cat "$T/dry.err")"
expect_actions dry 3
expect_line dry "reinject  repair/auv1-seg02  at reconstruct  (reconstruct.json missing)"
expect_line dry "follows   repair/@group:auv1  by fan-in"
expect_line dry "follows   repair/@acq  by fan-in"
expect_summary dry 1 0 2 0 0 0 0 4
expect_line dry "dry run: nothing changed; use --apply to repair"
for s in extract reconstruct stitch; do expect_llen "$s:repair" 0; done

run_repair apply1 --apply "$T/tasks"
[ $rc = 0 ] || fail "apply: exit $rc: $(cat "$T/apply1.err")"
expect_line apply1 "reinject  repair/auv1-seg02  at reconstruct  (reconstruct.json missing)"
expect_line apply1 "applied: 1 re-injected, 0 marked done, 0 unchanged"
expect_llen reconstruct:repair 1
[ "$(rcli lrange reconstruct:repair 0 -1)" = auv1-seg02 ] || fail "wrong job queued"
expect_llen stitch:repair 0
expect_llen extract:repair 0

# Applying again queues nothing more: the task is now in flight.
run_repair apply2 --apply "$T/tasks"
[ $rc = 0 ] || fail "second apply: exit $rc: $(cat "$T/apply2.err")"
expect_actions apply2 3
expect_line apply2 "skip      repair/auv1-seg02  (queued)"
expect_line apply2 "follows   repair/@group:auv1  by fan-in"
expect_summary apply2 0 0 2 1 0 0 0 4
expect_line apply2 "applied: 0 re-injected, 0 marked done, 0 unchanged"
expect_llen reconstruct:repair 1
expect_llen stitch:repair 0

drain
[ -f "$d/reconstruct.json" ] && [ -f "$d/reconstruction.ply" ] || fail "reconstruction not restored"
[ "$(created "$S1")" -gt "$s1" ] || fail "group stitch auv1 not redone after its member"
[ "$(created "$TOP")" -gt "$top" ] || fail "acquisition stitch not redone"
[ "$(created "$S2")" = "$s2" ] || fail "group stitch auv2 redone though nothing of it changed"
expect_clean restored

# --- a group stitch older than a member's reconstruction is redone itself ---
s2=$(created "$S2") top=$(created "$TOP")
sleep 0.05
touch "$T/out/auv2/auv2-seg01/reconstruct.json"
run_repair stale --apply "$T/tasks"
[ $rc = 0 ] || fail "stale: exit $rc: $(cat "$T/stale.err")"
expect_actions stale 2
expect_line stale "reinject  repair/@group:auv2  at stitch  (stitch.json older than auv2-seg01/reconstruct.json)"
expect_line stale "follows   repair/@acq  by fan-in"
expect_llen stitch:repair 1
expect_llen reconstruct:repair 0
drain
[ "$(created "$S2")" -gt "$s2" ] || fail "stale group stitch not redone"
[ "$(created "$TOP")" -gt "$top" ] || fail "acquisition stitch did not follow the group stitch"
expect_clean unstale

# --- a failed task is left alone unless --retry-failed; frames lost -> extract ---
rm "$T/out/auv1/auv1-seg01/frames.json"
rm "$T/out/auv2/auv2-seg02/reconstruct.json"
run_repair two --apply "$T/tasks"
expect_line two "reinject  repair/auv1-seg01  at extract  (frames.json missing)"
expect_line two "reinject  repair/auv2-seg02  at reconstruct  (reconstruct.json missing)"
expect_line two "applied: 2 re-injected, 0 marked done, 0 unchanged"
expect_llen extract:repair 1
expect_llen reconstruct:repair 1
SCANQ_MINI_FAIL=auv2-seg02 timeout 300 scanq-worker -n 2 --drain 2>>"$T/worker.log" || true
[ -f "$T/out/auv1/auv1-seg01/frames.json" ] || fail "frames not restored"
[ "$(rcli llen failed:repair)" -ge 1 ] || fail "auv2-seg02 did not fail"
run_repair failed "$T/tasks"
[ $rc = 0 ] || fail "failed: exit $rc: $(cat "$T/failed.err")"
expect_actions failed 3
expect_line failed "skip      repair/auv2-seg02  (failed at reconstruct; use --retry-failed)"
expect_line failed "skip      repair/@group:auv2  (waits for auv2-seg02)"
expect_line failed "skip      repair/@acq  (waits for @group:auv2)"
expect_summary failed 0 0 0 0 1 0 2 4
run_repair retry --apply --retry-failed "$T/tasks"
[ $rc = 0 ] || fail "retry: exit $rc: $(cat "$T/retry.err")"
expect_line retry "reinject  repair/auv2-seg02  at reconstruct  (reconstruct.json missing; it had failed)"
expect_line retry "follows   repair/@group:auv2  by fan-in"
expect_line retry "applied: 1 re-injected, 0 marked done, 0 unchanged"
expect_llen reconstruct:repair 1
drain
expect_clean retried

# --- Redis lost everything: complete tasks are marked done, nothing is redone ---
# (the stitches too: otherwise the acquisition fan-in would wait for them forever)
rcli flushall >/dev/null
run_repair lost "$T/tasks"
expect_actions lost 7
expect_line lost "mark done repair/auv1-seg01  (complete on disk; unknown to Redis)"
expect_line lost "mark done repair/@group:auv2  (complete on disk; unknown to Redis)"
expect_line lost "mark done repair/@acq  (complete on disk; unknown to Redis)"
expect_summary lost 0 7 0 0 0 0 0 0
run_repair mark --apply "$T/tasks"
expect_line mark "applied: 0 re-injected, 7 marked done, 0 unchanged"
for s in extract reconstruct stitch; do expect_llen "$s:repair" 0; done
expect_clean marked

# --- a changed task file is left to scanq-enqueue ---
cp "$T/tasks/auv1-seg01.yaml" "$T/auv1-seg01.yaml.orig"
echo "extract: { fps: 1 }" >>"$T/tasks/auv1-seg01.yaml"
run_repair changed --apply "$T/tasks"
[ $rc = 0 ] || fail "changed: exit $rc: $(cat "$T/changed.err")"
expect_line changed "skip      repair/auv1-seg01  (the directory has a newer version than Redis: re-enqueue it with scanq-enqueue)"
expect_line changed "skip      repair/@group:auv1  (waits for auv1-seg01)"
expect_summary changed 0 0 0 0 0 1 2 4
for s in extract reconstruct stitch; do expect_llen "$s:repair" 0; done
cp "$T/auv1-seg01.yaml.orig" "$T/tasks/auv1-seg01.yaml"

# --- Redis emptied mid-pipeline: one --apply restores everything ---
# Tasks extracted but not reconstructed are re-injected; their group stitches,
# whose specs Redis lost with everything else, follow by fan-in; status ends at
# the truth (100 %).
rcli flushall >/dev/null
SCANQ_TEST_ATTEMPTS=1 write_acq "$T/wipe" wipe "$T/wout"
for v in 1 2; do
	for c in 1 2; do
		write_task "$T/wipe" "auv$v" "w$v-$c" "$T/survey/videos/auv$v-ch0$c.mp4"
	done
done
scanq-enqueue "$T/wipe" >/dev/null || fail "enqueue wipe"
timeout 300 scanq-worker -n 2 --drain --stage extract 2>>"$T/worker.log" || fail "extract"
rcli flushall >/dev/null
run_repair wiped --apply "$T/wipe"
[ $rc = 0 ] || fail "wiped: exit $rc: $(cat "$T/wiped.err")"
grep -q "^register  wipe  (redis lacks its registration: " "$T/wiped.out" ||
	fail "registration not planned: $(cat "$T/wiped.out")"
expect_line wiped "reinject  wipe/w1-1  at reconstruct  (reconstruct.json missing)"
expect_line wiped "applied: 4 re-injected, 0 marked done, 0 unchanged"
drain
[ "$(rcli llen failed:wipe)" = 0 ] || fail "dead letters after one repair: $(rcli lrange failed:wipe 0 -1)"
for f in auv1/stitch.json auv2/stitch.json stitch.json; do
	[ -f "$T/wout/$f" ] || fail "one repair did not restore $f"
done
for s in extract:4 reconstruct:4 stitch:3; do
	[ "$(stage_count wipe "${s%:*}" done)" = "${s#*:}" ] ||
		fail "status: ${s%:*} done $(stage_count wipe "${s%:*}" done), expected ${s#*:}"
done
scanq-status --once | grep -q "^wipe .* 100%  11/11 steps" || fail "status: $(scanq-status --once)"
run_repair wiped2 "$T/wipe"
expect_actions wiped2 0
expect_summary wiped2 0 0 0 0 0 0 0 7

# --- a key of the wrong type: that job skipped with one warning, the rest repaired ---
rcli set job:wipe:w1-1 garbage >/dev/null
rm "$T/wout/auv2/w2-2/reconstruct.json"
run_repair badkey --apply "$T/wipe"
[ $rc = 0 ] || fail "badkey: exit $rc: $(cat "$T/badkey.err")"
grep -qxF "scanq-repair: warning: wipe/w1-1  (unreadable in redis: key 'job:wipe:w1-1' is a string, not a hash; fix or delete the key)" \
	"$T/badkey.err" || fail "no warning for the unreadable job: $(cat "$T/badkey.err")"
[ "$(grep -c warning "$T/badkey.err")" = 1 ] || fail "more than one warning: $(cat "$T/badkey.err")"
expect_line badkey "reinject  wipe/w2-2  at reconstruct  (reconstruct.json missing)"
expect_line badkey "applied: 1 re-injected, 0 marked done, 0 unchanged"
rcli del job:wipe:w1-1 >/dev/null
drain
run_repair fixed --apply "$T/wipe"
expect_line fixed "mark done wipe/w1-1  (complete on disk; unknown to Redis)"

# --- usage and failures ---
run_repair noargs
[ $rc = 2 ] || fail "no directory: exit $rc, expected 2"
run_repair badopt --frobnicate "$T/tasks"
[ $rc = 2 ] || fail "unknown option: exit $rc, expected 2"
run_repair help --help
[ $rc = 0 ] && grep -q '^usage: scanq-repair' "$T/help.out" || fail "--help"
mkdir "$T/bad"
printf 'group: g\nname: t\nvideos: [%s]\nfps_typo: 3\n' "$T/survey/videos/auv1-ch01.mp4" >"$T/bad/t.yaml"
run_repair bad "$T/tasks" "$T/bad"
[ $rc = 1 ] || fail "invalid directory: exit $rc, expected 1"
grep -qE "^scanq-repair: [^ ]*bad/t\.yaml:[0-9]+:[0-9]+: " "$T/bad.err" || fail "diagnostic: $(cat "$T/bad.err")"
[ ! -s "$T/bad.out" ] || fail "a plan was printed although a directory is invalid"
run_repair missing "$T/nonexistent"
[ $rc = 1 ] || fail "missing directory: exit $rc, expected 1"
grep -q "^scanq-repair: .*nonexistent" "$T/missing.err" || fail "missing dir message: $(cat "$T/missing.err")"
run_repair noredis --redis "unix://$T/no.sock" "$T/tasks"
[ $rc = 1 ] || fail "unreachable redis: exit $rc, expected 1"
grep -q "^scanq-repair: " "$T/noredis.err" || fail "no error for unreachable redis"
echo "repair: ok"
