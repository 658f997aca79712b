# colmap.sh - one small synthetic survey through the real colmap backend, judged
# against the true poses: >= 90% of frames registered, trajectory error <= 1% of
# the path. Then a video COLMAP cannot reconstruct must fail the task, not pass.
. "$SCANQ_TESTS/cli/common.sh"

command -v colmap >/dev/null || fail "colmap is not installed (scripts/deps installs it)"
ATE="$SCANQ_BUILD/tests/bench/ate-check"
[ -x "$ATE" ] || fail "'$ATE' is not built"

# 14 s at 1 m/s, 6 m up, frames at 3 fps: 42 frames 0.33 m apart
t0=$(date +%s)
scanq-synth --out "$T/s" --vehicles 1 --chapters 1 --duration 14 --width 480 --height 270 \
	--fps 15 --seed 3 --quiet
mkdir -p "$T/tasks"
cat >"$T/tasks/acquisition.yaml" <<EOF
acquisition: cm
output_root: $T/out
extract: { fps: 3, width: 480, height: -1, quality: 3 }
reconstruct:
  backend: colmap
  colmap: { threads: 2, overlap: 6, max_image_size: 480, min_registered_pct: 90 }
EOF
write_task "$T/tasks" auv1 auv1-ch01 "$T/s/videos/auv1-ch01.mp4"
t1=$(date +%s)
scanq-worker --local "$T/tasks/auv1-ch01.yaml" 2>"$T/local.log" ||
	{ cat "$T/local.log" >&2; fail "colmap task failed"; }
t2=$(date +%s)
d="$T/out/auv1/auv1-ch01"
rec="$d/reconstruct.json"
head -c 4 "$d/reconstruction.ply" | grep -q '^ply' || fail "no PLY"
jq -e '.backend == "colmap" and .stride.k == 1 and (.frames | length) == 42' "$rec" >/dev/null ||
	fail "unexpected record: $(jq -c '{backend, stride, n: (.frames | length)}' "$rec")"
jq -e '.frames[0] | (.file | test("^frame_0+1\\.jpg$")) and has("pts_s") and
	(.centre | length) == 3 and (.rotation | length) == 4' "$rec" >/dev/null ||
	fail "frame entries lack file, pts_s, centre or rotation: $(jq -c '.frames[0]' "$rec")"
# every model point comes with the mean of its track's SIFT descriptors
# (lib/cloud/siftpts.h): as many as the PLY has vertices, each of unit length x 512
out=$(python3 - "$d/reconstruction.sift" "$d/reconstruction.ply" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"SQSIFT1\n", "bad magic"
n = struct.unpack("<Q", data[8:16])[0]
assert len(data) == 16 + 140 * n, "size %d for %d points" % (len(data), n)
head = open(sys.argv[2], "rb").read(400).decode("latin-1")
verts = int(head.split("element vertex ")[1].split()[0])
assert n == verts, "%d descriptors for %d vertices" % (n, verts)
for i in range(n):
    d = data[16 + 140 * i + 12:16 + 140 * (i + 1)]
    norm = sum(x * x for x in d) ** 0.5
    assert 480 < norm < 530, "descriptor %d has length %.0f" % (i, norm)
print("%d points with descriptors" % n)
PY
) || fail "reconstruction.sift: $out"
echo "colmap: $out"
grep -q "Feature extraction" "$d/reconstruct.log" || fail "colmap's log was not kept"
[ -z "$(ls -d "$d"/reconstruct.tmp.* 2>/dev/null)" ] || fail "work folder left behind"
out=$("$ATE" --chapter 1 --min-registered 90 --max-ate 1 "$rec" "$T/s/truth/auv1-poses.csv") ||
	fail "accuracy targets missed: $out"
echo "colmap: $out"
echo "colmap: synth+setup $((t1 - t0)) s, extract+reconstruct $((t2 - t1)) s;" \
	"steps $(jq -c .colmap.steps_ms "$rec")"

# A moving test card has nothing COLMAP can build on: the task must fail with
# the reason, and leave no record saying it is done.
ffmpeg -nostdin -v error -f lavfi -i testsrc=size=320x180:rate=10 -t 8 -pix_fmt yuv420p \
	"$T/card.mp4"
write_task "$T/tasks" card card "$T/card.mp4"
if scanq-worker --local "$T/tasks/card.yaml" 2>"$T/card.log"; then
	fail "a test card was reconstructed: $(jq -c .quality "$T/out/card/card/reconstruct.json")"
fi
grep -q "colmap found no model in 24 frames\|colmap reconstruction rejected" "$T/card.log" ||
	fail "no reason given: $(tail -3 "$T/card.log")"
[ ! -f "$T/out/card/card/reconstruct.json" ] || fail "failed task has a record"
[ ! -f "$T/out/card/card/reconstruction.sift" ] || fail "failed task left descriptors"
echo "colmap: ok"
