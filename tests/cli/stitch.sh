# stitch.sh - a synthetic survey (two vehicles side by side, three chapters
# each) through extract, colmap and the builtin stitch. Each chapter's task also
# decodes the first seconds of the next one, so neighbouring tasks share
# cameras, and each group stitch must chain its three on them; the two vehicles
# share no frame, only the seabed between their tracks, and the acquisition
# stitch must place one onto the other by the SIFT descriptors of their points.
# COLMAP is given the camera's calibration, as a survey would (self-calibrated
# per chapter, its focal length is 2-9 % off and each chapter's cloud sits at
# its own depth below its cameras). stitch-check judges the result against the
# truth: every input placed, rotation, position and scale errors within issue
# 5's limits, the stitched cloud no further from the true seabed than the
# inputs placed one by one with their true transforms. Then the checker must be
# able to fail, and a group with an input from another seabed must leave it out
# and say so. (Registration of clouds without cameras or descriptors is tested
# on clouds with known transforms in unit/register.)
. "$SCANQ_TESTS/cli/common.sh"

command -v colmap >/dev/null || fail "colmap is not installed (scripts/deps installs it)"
SC="$SCANQ_BUILD/tests/bench/stitch-check"
[ -x "$SC" ] || fail "'$SC' is not built"

t0=$(date +%s)
scanq-synth --out "$T/s" --vehicles 2 --chapters 3 --duration 8 --width 640 --height 360 \
	--fps 15 --seed 4 --chapter-overlap 4 --quiet
# the camera's calibration, from the truth: fx fy cx cy, no distortion (OPENCV)
calibration() {
	awk -F, 'NR == 2 { print $11 ", " $12 ", " $13 ", " $14 ", 0, 0, 0, 0" }' "$1"
}
acq_yaml() { # acquisition, output root, frame width, camera parameters
	cat <<EOF
acquisition: $1
output_root: $2
extract: { fps: 3, width: $3, height: -1, quality: 3 }
reconstruct:
  backend: colmap
  colmap: { threads: 1, overlap: 10, max_image_size: $3, camera_params: [$4] }
stitch: { backend: builtin }
retry: { max_attempts: 2, backoff: 1s }
EOF
}
acq_yaml st "$T/out" 640 "$(calibration "$T/s/truth/auv1-poses.csv")" \
	>"$T/s/tasks/acquisition.yaml"
grep -q 'until: 4s' "$T/s/tasks/auv1-ch01.yaml" || fail "synth wrote no chapter overlap"
scanq-enqueue "$T/s/tasks" >/dev/null
scanq-worker -n 2 --drain 2>"$T/worker.log" || { tail -20 "$T/worker.log" >&2; fail "workers failed"; }
t1=$(date +%s)

# the records say what was placed and how: each vehicle's chapters by their
# shared cameras, one vehicle onto the other by descriptors
for g in auv1 auv2; do
	rec="$T/out/$g/stitch.json"
	jq -e '.backend == "builtin" and .placed == 3 and (.inputs | length) == 3 and
		([.inputs[] | select(.method == "shared-cameras")] | length) == 2 and
		([.inputs[] | select(.method == "reference")] | length) == 1' "$rec" >/dev/null ||
		fail "group $g: $(jq -c '[.inputs[] | {name, placed, method, why}]' "$rec")"
	jq -e '(.cameras | length) > 50 and all(.inputs[]; .transform.scale > 0)' "$rec" \
		>/dev/null || fail "the record of $g lacks cameras or transforms"
	grep -q "stitched 3 of 3 inputs" "$T/out/$g/stitch.log" ||
		fail "no stitch log beside the output of $g"
	head -c 4 "$T/out/$g/stitch.ply" | grep -q '^ply' || fail "no group cloud for $g"
	head -c 8 "$T/out/$g/stitch.sift" | grep -q '^SQSIFT1' ||
		fail "group $g left no descriptors for the acquisition stitch"
	for t in "$T/out/$g"/*/; do
		[ -s "$t/reconstruction.sift" ] || fail "no descriptors beside $t/reconstruction.ply"
	done
done
jq -e '.placed == 2 and ([.inputs[] | select(.name == "auv2" and
	.method == "shared-features")] | length) == 1' "$T/out/stitch.json" >/dev/null ||
	fail "acquisition: $(jq -c '[.inputs[] | {name, placed, method, why}]' "$T/out/stitch.json")"
grep -q "'auv2' -> 'auv1': [0-9]*/[0-9]* descriptor matches agree" "$T/out/stitch.log" ||
	fail "the acquisition stitch does not say how it placed auv2"
head -c 4 "$T/out/stitch.ply" | grep -q '^ply' || fail "no acquisition cloud"
[ -z "$(ls -d "$T/out"/*/stitch.tmp.* "$T/out"/stitch.tmp.* 2>/dev/null)" ] ||
	fail "work folders left behind"
rec="$T/out/auv1/stitch.json"

out=$("$SC" --root "$T/out" --truth "$T/s/truth" 2>&1) || fail "stitch targets missed:
$out"
printf '%s\n' "$out"
echo "stitch: survey and pipeline $((t1 - t0)) s"

# The checker must be able to fail: a 10 % scale error in one placement.
cp "$rec" "$T/stitch.json.orig"
jq '.inputs[1].transform.scale *= 1.1' "$T/stitch.json.orig" >"$rec"
rc=0
bad=$("$SC" --root "$T/out" --truth "$T/s/truth" 2>&1) || rc=$?
cp "$T/stitch.json.orig" "$rec"
[ "$rc" -eq 1 ] || fail "a 10 % scale error went unnoticed (exit $rc): $bad"

# A group holding a reconstruction of another seabed: it is left out, named in
# the record, the log and the stage's result, and the rest is still stitched.
# (A smaller survey: one vehicle, two short chapters, and a stranger.)
scanq-synth --out "$T/s2" --vehicles 1 --chapters 2 --duration 5 --width 480 --height 270 \
	--fps 15 --seed 4 --chapter-overlap 3 --quiet
scanq-synth --out "$T/other" --vehicles 1 --chapters 1 --duration 5 --width 480 --height 270 \
	--fps 15 --seed 9 --quiet
acq_yaml st2 "$T/out2" 480 "$(calibration "$T/s2/truth/auv1-poses.csv")" \
	>"$T/s2/tasks/acquisition.yaml"
write_task "$T/s2/tasks" auv1 zz-stranger "$T/other/videos/auv1-ch01.mp4"
scanq-enqueue "$T/s2/tasks" >/dev/null
scanq-worker -n 2 --drain 2>"$T/worker2.log" || { tail -20 "$T/worker2.log" >&2; fail "workers failed"; }
jq -e '.placed == 2 and ([.inputs[] | select(.name == "zz-stranger" and (.placed | not) and
	(.why | length) > 0)] | length) == 1' "$T/out2/auv1/stitch.json" >/dev/null ||
	fail "the stranger was not left out: $(jq -c '[.inputs[] | {name, placed, method}]' \
		"$T/out2/auv1/stitch.json")"
grep -q "cannot place 'zz-stranger'" "$T/worker2.log" || fail "the log does not name the stranger"
grep -q "cannot place 'zz-stranger'" "$T/out2/auv1/stitch.log" || fail "stitch.log does not name it"
grep -q "left out 1 of 3 inputs: zz-stranger" "$T/worker2.log" || fail "no summary of what was left out"
for k in $(rcli --scan --pattern '*job:st2:*'); do rcli hget "$k" result; done |
	grep -q '"placed":2,"inputs":3,.*"unplaced":\["zz-stranger"\]' ||
	fail "the stage's result does not name the stranger"
# a stitch that left an input out is done with warnings in every view, never plain done
scanq-status --json --acq st2 >"$T/st2.json"
jq -e '[.acquisitions[] | select(.name == "st2") | .warned[] |
	select(.jid == "@group:auv1" and .status == "done with warnings" and
	any(.warnings[]; test("zz-stranger")))] | length == 1' "$T/st2.json" >/dev/null ||
	fail "status --json: the group stitch is not done with warnings: $(jq -c . "$T/st2.json" | head -c 800)"
scanq-status --once --acq st2 >"$T/st2.txt"
grep -q "@group:auv1.*zz-stranger" "$T/st2.txt" ||
	fail "the terminal view does not show the warning: $(cat "$T/st2.txt")"
scanq-ctl show st2 >"$T/st2.show"
grep -q "@group:auv1 *stitch *done with warnings" "$T/st2.show" ||
	fail "scanq-ctl show: $(cat "$T/st2.show")"
echo "stitch: ok"
