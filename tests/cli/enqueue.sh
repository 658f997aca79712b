# enqueue.sh - scanq-enqueue validates whole directories before pushing anything.
. "$SCANQ_TESTS/cli/common.sh"

make_videos "$T/survey" 1 2
write_acq "$T/tasks" enq "$T/out"
write_task "$T/tasks" auv1 a "$T/survey/videos/auv1-ch01.mp4"
write_task "$T/tasks" auv1 b "$T/survey/videos/auv1-ch02.mp4"
# a second, good directory: must not be pushed when the first one is bad
write_acq "$T/tasks2" enq2 "$T/out2"
write_task "$T/tasks2" auv1 c "$T/survey/videos/auv1-ch01.mp4"

scanq-enqueue --help | grep -q "usage: scanq-enqueue" || fail "--help"
set +e
scanq-enqueue >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "no directory: exit $rc, expected 2"
scanq-enqueue --bogus "$T/tasks" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "bad option: exit $rc, expected 2"

# bad content in one file: every problem reported with file:line:col, nothing pushed
printf 'group: auv1\nvideos:\n  - %s\n  - %s\nextract: { quality: 40 }\n' \
	"$T/survey/videos/auv1-ch01.mp4" "$T/nope.mp4" >"$T/tasks/bad.yaml"
echo "not a video" >"$T/fake.mp4"
printf 'group: auv1\nvideos: [%s]\n' "$T/fake.mp4" >"$T/tasks/fake.yaml"
scanq-enqueue "$T/tasks2" "$T/tasks" >"$T/out.txt" 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "bad directory: exit $rc, expected 1"
grep -q "^scanq-enqueue: $T/tasks/bad.yaml:4:5: .*nope.mp4" "$T/err.txt" ||
	fail "missing video not reported at 4:5: $(cat "$T/err.txt")"
grep -q "^scanq-enqueue: $T/tasks/bad.yaml:5:[0-9]*: .*quality" "$T/err.txt" ||
	fail "bad quality not reported: $(cat "$T/err.txt")"
grep -q "^scanq-enqueue: $T/tasks/fake.yaml:2:[0-9]*: .*fake.mp4" "$T/err.txt" ||
	fail "undecodable video not reported: $(cat "$T/err.txt")"
grep -q "nothing pushed" "$T/err.txt" || fail "no 'nothing pushed'"
[ "$(rcli dbsize)" = 0 ] || fail "something was pushed: $(rcli keys '*')"

rm "$T/tasks/bad.yaml" "$T/tasks/fake.yaml"
scanq-enqueue --check "$T/tasks" | grep -q "acquisition 'enq' ok: 2 tasks in 1 groups" ||
	fail "--check on a good directory"
[ "$(rcli dbsize)" = 0 ] || fail "--check pushed something"
scanq-enqueue "$T/tasks" "$T/tasks2" >"$T/out.txt" || fail "good enqueue failed"
grep -q "enq: 2 added" "$T/out.txt" && grep -q "enq2: 1 added" "$T/out.txt" || fail "$(cat "$T/out.txt")"

# a changed task is a new version, the rest unchanged
sed -i 's/quality: 5/quality: 6/' "$T/tasks2/acquisition.yaml"
scanq-enqueue "$T/tasks2" "$T/tasks" >"$T/out.txt"
grep -q "enq2: 0 added, 0 unchanged, 1 updated" "$T/out.txt" || fail "update: $(cat "$T/out.txt")"
grep -q "enq: 0 added, 2 unchanged, 0 updated" "$T/out.txt" || fail "unchanged: $(cat "$T/out.txt")"

set +e
scanq-enqueue --redis unix:///nonexistent.sock "$T/tasks" >/dev/null 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "unreachable redis: exit $rc"
grep -q "scanq-enqueue: .*nonexistent" "$T/err.txt" || fail "unreachable redis message: $(cat "$T/err.txt")"
echo "enqueue: ok"
