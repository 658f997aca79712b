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
scanq-enqueue -h | grep -q "usage: scanq-enqueue" || fail "-h"
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
scanq-enqueue --check "$T/tasks" | grep -q "acquisition 'enq' ok: 2 tasks in 1 group$" ||
	fail "--check on a good directory"
scanq-enqueue --check "$T/tasks2" | grep -q "acquisition 'enq2' ok: 1 task in 1 group$" ||
	fail "--check: plurals"
[ "$(rcli dbsize)" = 0 ] || fail "--check pushed something"
scanq-enqueue "$T/tasks" "$T/tasks2" >"$T/out.txt" || fail "good enqueue failed"
grep -q "enq: 2 added" "$T/out.txt" && grep -q "enq2: 1 added.*; 1 task in 1 group$" "$T/out.txt" ||
	fail "$(cat "$T/out.txt")"
# the output roots are now their acquisitions', with the task directory to push
grep -q "^{\"acquisition\":\"enq\",\"task_dir\":\"$(cd "$T/tasks" && pwd -P)\"}$" \
	"$T/out/.scanq-acquisition" || fail "ownership marker: $(cat "$T/out/.scanq-acquisition")"

# a changed task is a new version, the rest unchanged
sed -i 's/quality: 5/quality: 6/' "$T/tasks2/acquisition.yaml"
scanq-enqueue "$T/tasks2" "$T/tasks" >"$T/out.txt"
grep -q "enq2: 0 added, 0 unchanged, 1 updated" "$T/out.txt" || fail "update: $(cat "$T/out.txt")"
grep -q "enq: 0 added, 2 unchanged, 0 updated" "$T/out.txt" || fail "unchanged: $(cat "$T/out.txt")"

# --- a task removed from the directory is removed from Redis, and said so ---
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue before removal"
[ "$(stage_count enq extract queued)" = 2 ] || fail "two tasks queued before the removal"
mv "$T/tasks/b.yaml" "$T/b.yaml"
scanq-enqueue "$T/tasks" >"$T/out.txt" || fail "enqueue after removal: $(cat "$T/out.txt")"
grep -q "^removed   enq/b (not in the directory any more; its outputs stay in '$T/out/auv1/b')" \
	"$T/out.txt" || fail "removal not said: $(cat "$T/out.txt")"
grep -q "enq: 0 added, 1 unchanged, 0 updated, 1 removed; 1 task in 1 group" "$T/out.txt" ||
	fail "removal summary: $(cat "$T/out.txt")"
[ "$(rcli exists job:enq:b)" = 0 ] || fail "b's job is still in redis"
[ "$(rcli sismember members:enq:auv1 b)" = 0 ] || fail "b is still a member of its group"
[ "$(rcli lrange extract:enq 0 -1)" = a ] || fail "b is still queued: $(rcli lrange extract:enq 0 -1)"
[ "$(status_json | jq '.acquisitions[] | select(.name == "enq") | .tasks')" = 1 ] ||
	fail "status still counts b"
mv "$T/b.yaml" "$T/tasks/b.yaml"
scanq-enqueue "$T/tasks" | grep -q "enq: 1 added, 1 unchanged" || fail "b back"

# --- the acquisition belongs to its task directory ---
mkdir "$T/copy"
cp "$T/tasks"/*.yaml "$T/copy/"
rm "$T/copy/b.yaml"
set +e
scanq-enqueue "$T/copy" >"$T/out.txt" 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "another directory's acquisition: exit $rc, expected 1"
grep -q "acquisition 'enq' was enqueued from '$T/tasks', not from '$T/copy': refusing to replace its tasks (--replace replaces them)" \
	"$T/err.txt" || fail "owner conflict message: $(cat "$T/err.txt")"
[ "$(rcli scard members:enq:auv1)" = 2 ] || fail "refused enqueue changed the acquisition"
# the same directory by another path is the same owner
scanq-enqueue "$T/tasks/../tasks" >/dev/null || fail "same directory by another path refused"
scanq-enqueue --replace "$T/copy" >"$T/out.txt" || fail "--replace: $(cat "$T/out.txt")"
grep -q "^replacing acquisition 'enq', enqueued from '$T/tasks', by the tasks of '$T/copy'" \
	"$T/out.txt" || fail "replacement not said: $(cat "$T/out.txt")"
grep -q "^removed   enq/b " "$T/out.txt" || fail "replacement removes b: $(cat "$T/out.txt")"
scanq-enqueue "$T/copy" >/dev/null || fail "the new owner is refused"

set +e
scanq-enqueue --redis unix:///nonexistent.sock "$T/tasks" >/dev/null 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "unreachable redis: exit $rc"
grep -q "scanq-enqueue: .*nonexistent" "$T/err.txt" || fail "unreachable redis message: $(cat "$T/err.txt")"

# an output root belongs to one acquisition: another one (even one whose name
# differs only in case) is refused, by --check too, and nothing is pushed
keys=$(rcli dbsize)
write_acq "$T/tasks3" ENQ "$T/out"
write_task "$T/tasks3" auv1 a "$T/survey/videos/auv1-ch01.mp4"
for check in --check ""; do
	set +e
	scanq-enqueue $check "$T/tasks3" >"$T/out.txt" 2>"$T/err.txt"; rc=$?
	set -e
	[ $rc = 1 ] || fail "root of another acquisition ($check): exit $rc"
	grep -q "^scanq-enqueue: $T/tasks3/acquisition.yaml:2:14: output root '$T/out' belongs to acquisition 'enq'" \
		"$T/err.txt" || fail "root of another acquisition ($check): $(cat "$T/err.txt")"
done
[ "$(rcli dbsize)" = "$keys" ] || fail "pushed into another acquisition's root"

# two acquisitions in one call with one new root: refused before any marker
write_acq "$T/tasks4" enq4 "$T/shared"
write_task "$T/tasks4" auv1 a "$T/survey/videos/auv1-ch01.mp4"
write_acq "$T/tasks5" enq5 "$T/shared"
write_task "$T/tasks5" auv1 a "$T/survey/videos/auv1-ch01.mp4"
set +e
scanq-enqueue "$T/tasks4" "$T/tasks5" >"$T/out.txt" 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "two acquisitions, one root: exit $rc"
grep -q "tasks5/acquisition.yaml:2:14: output root '$T/shared' is also the output root of acquisition 'enq4'" \
	"$T/err.txt" || fail "two acquisitions, one root: $(cat "$T/err.txt")"
[ ! -e "$T/shared/.scanq-acquisition" ] || fail "a marker was written"
[ "$(rcli dbsize)" = "$keys" ] || fail "two acquisitions, one root: pushed"

# --check says what enqueue would meet: a root that cannot be made, a name
# that would leave the root, a recording cut off before its index
write_acq "$T/tasks6" enq6 /proc/scanq-out
printf 'group: ".."\nvideos: [%s]\n' "$T/survey/videos/auv1-ch01.mp4" >"$T/tasks6/up.yaml"
head -c 40000 "$T/survey/videos/auv1-ch02.mp4" >"$T/cut.mp4" # the index comes last
[ "$(wc -c <"$T/cut.mp4")" = 40000 ] || fail "the video is too short to cut"
printf 'group: auv1\nvideos: [%s]\n' "$T/cut.mp4" >"$T/tasks6/cut.yaml"
set +e
scanq-enqueue --check "$T/tasks6" >"$T/out.txt" 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "--check of a bad directory: exit $rc"
grep -q "acquisition.yaml:2:14: cannot create output root '/proc/scanq-out'" "$T/err.txt" ||
	fail "uncreatable root: $(cat "$T/err.txt")"
grep -q "up.yaml:1:8: invalid group name '..'" "$T/err.txt" || fail "group '..': $(cat "$T/err.txt")"
grep -q "cut.yaml:2:10: cannot open '$T/cut.mp4': the recording was cut off before its index was written" \
	"$T/err.txt" || fail "cut recording: $(cat "$T/err.txt")"
echo "enqueue: ok"
