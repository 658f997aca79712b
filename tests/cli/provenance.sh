# provenance.sh - records say where their outputs come from, and a task's
# version follows its videos' content: a video replaced at the same path is a
# new version, and a worker refuses to extract a video that changed since it
# was enqueued.
. "$SCANQ_TESTS/cli/common.sh"

make_videos "$T/survey" 1 2
V="$T/survey/videos"
cp "$V/auv1-ch01.mp4" "$T/clip.mp4"
write_acq "$T/tasks" prov "$T/out"
write_task "$T/tasks" auv1 a "$T/clip.mp4"
scanq-enqueue "$T/tasks" >"$T/enq.txt" || fail "enqueue: $(cat "$T/enq.txt")"
grep -q "prov: 1 added" "$T/enq.txt" || fail "first enqueue: $(cat "$T/enq.txt")"
scanq-worker --stage extract,reconstruct --drain -n 1 2>"$T/w1.log" || fail "worker: $(tail "$T/w1.log")"

d="$T/out/auv1/a"
for r in frames.json reconstruct.json; do
	jq -e '.provenance.format == 2 and (.provenance.scanq_version | length > 0)
		and (.provenance.worker | test(":")) and (.provenance.host | length > 0)' \
		"$d/$r" >/dev/null || fail "$r: provenance incomplete: $(jq -c .provenance "$d/$r")"
done
size=$(stat -c %s "$T/clip.mp4")
head=$(head -c 1048576 "$T/clip.mp4" | sha256sum | cut -d' ' -f1)
jq -e --argjson s "$size" --arg h "$head" \
	'.provenance.sources[0] | .size_bytes == $s and .head_sha256 == $h' "$d/frames.json" \
	>/dev/null || fail "video identity not recorded: $(jq -c .provenance.sources "$d/frames.json")"
jq -e '.provenance.backend == "libav" and (.provenance.backend_version | test("libavcodec"))
	and .provenance.params.quality == 5' "$d/frames.json" >/dev/null ||
	fail "extract backend/params: $(jq -c .provenance "$d/frames.json")"
jq -e '.provenance.backend == "command" and (.provenance.params.argv | length == 3)' \
	"$d/reconstruct.json" >/dev/null || fail "reconstruct provenance: $(jq -c .provenance "$d/reconstruct.json")"

# the same directory again: nothing new
scanq-enqueue "$T/tasks" >"$T/enq.txt"
grep -q "prov: 0 added, 1 unchanged, 0 updated" "$T/enq.txt" || fail "re-enqueue: $(cat "$T/enq.txt")"

# another video at the same path: a new version (it was "unchanged" before)
cp "$V/auv1-ch02.mp4" "$T/clip.mp4"
scanq-enqueue "$T/tasks" >"$T/enq.txt"
grep -q "prov: 0 added, 0 unchanged, 1 updated" "$T/enq.txt" ||
	fail "replaced video not a new version: $(cat "$T/enq.txt")"

# replaced again after enqueue: the worker refuses to extract it, saying why
cp "$V/auv1-ch01.mp4" "$T/clip.mp4"
set +e
scanq-worker --stage extract --drain -n 1 2>"$T/w2.log"
set -e
grep -q "changed since it was enqueued" "$T/w2.log" ||
	fail "changed video extracted without a word: $(tail -5 "$T/w2.log")"
echo "provenance: ok"
