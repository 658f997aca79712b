# e2e.sh - 2 groups x 3 tasks through enqueue -> worker pool -> outputs -> status.
. "$SCANQ_TESTS/cli/common.sh"

make_videos "$T/survey" 2 3
write_acq "$T/tasks" e2e "$T/out"
for v in 1 2; do
	for c in 1 2 3; do
		write_task "$T/tasks" "auv$v" "auv$v-seg0$c" "$T/survey/videos/auv$v-ch0$c.mp4"
	done
done

scanq-enqueue --check "$T/tasks" >"$T/check.out" || fail "enqueue --check rejected good tasks"
grep -q "ok: 6 tasks in 2 groups" "$T/check.out" || fail "check output: $(cat "$T/check.out")"
[ "$(rcli llen extract:e2e)" = 0 ] || fail "--check pushed something"

scanq-enqueue "$T/tasks" >"$T/enq1.out"
grep -q "e2e: 6 added, 0 unchanged, 0 updated" "$T/enq1.out" || fail "first enqueue: $(cat "$T/enq1.out")"
scanq-enqueue "$T/tasks" >"$T/enq2.out"
grep -q "e2e: 0 added, 6 unchanged, 0 updated" "$T/enq2.out" || fail "second enqueue: $(cat "$T/enq2.out")"
[ "$(rcli llen extract:e2e)" = 6 ] || fail "expected 6 queued extract jobs"

timeout 300 scanq-worker -n 3 --drain 2>"$T/worker.log" || {
	cat "$T/worker.log" >&2
	fail "worker pool did not drain cleanly"
}

for v in 1 2; do
	for c in 1 2 3; do
		d="$T/out/auv$v/auv$v-seg0$c"
		[ -f "$d/frames.json" ] || fail "missing $d/frames.json"
		[ -f "$d/frames/frame_000001.jpg" ] || fail "missing frames in $d"
		n=$(jq -r .count "$d/frames.json")
		[ "$n" = "$(ls "$d/frames" | wc -l)" ] || fail "frames.json count $n != files in $d"
		[ -f "$d/reconstruct.json" ] || fail "missing $d/reconstruct.json"
		head -1 "$d/reconstruction.ply" | grep -q '^ply' || fail "bad PLY in $d"
	done
	[ -f "$T/out/auv$v/stitch.json" ] || fail "missing group stitch of auv$v"
done
[ -f "$T/out/stitch.json" ] || fail "missing acquisition stitch"
# the acquisition cloud holds every vertex of every reconstruction
total=0
for f in "$T"/out/auv*/auv*/reconstruction.ply; do
	total=$((total + $(sed -n 's/^element vertex //p' "$f")))
done
got=$(sed -n 's/^element vertex //p' "$T/out/stitch.ply")
[ "$got" = "$total" ] || fail "acquisition stitch has $got vertices, expected $total"
ls "$T"/out/auv1/auv1-seg01 | grep -q 'tmp' && fail "temporary left behind"

for s in extract reconstruct; do
	[ "$(stage_count e2e $s done)" = 6 ] || fail "status: $s done != 6"
done
[ "$(stage_count e2e stitch done)" = 3 ] || fail "status: stitch done != 3 (2 groups + acquisition)"
for s in extract reconstruct stitch; do
	for f in queued running failed retrying; do
		[ "$(stage_count e2e $s $f)" = 0 ] || fail "status: $s $f != 0"
	done
done
# every transition was logged with time, host:pid, job and stage
grep -q "e2e/auv1-seg01 extract claimed" "$T/worker.log" || fail "no claim line in the log"
grep -q "e2e/@group:auv2 stitch done" "$T/worker.log" || fail "no group stitch line in the log"
echo "e2e: ok"
