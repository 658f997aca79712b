# local.sh - scanq-worker --local runs a task's stages without Redis.
. "$SCANQ_TESTS/cli/common.sh"

make_videos "$T/survey" 1 2
write_acq "$T/tasks" loc "$T/out"
write_task "$T/tasks" auv1 both "$T/survey/videos/auv1-ch01.mp4" "$T/survey/videos/auv1-ch02.mp4"
SCANQ_REDIS=unix:///nonexistent/redis.sock scanq-worker --local "$T/tasks/both.yaml" \
	2>"$T/local.log" || { cat "$T/local.log" >&2; fail "--local failed"; }
d="$T/out/auv1/both"
[ -f "$d/frames.json" ] && [ -f "$d/reconstruct.json" ] || fail "--local left no records"
# two chapters of 2 s at 2 fps: about 8 frames, numbering continuous
n=$(jq -r .count "$d/frames.json")
[ "$n" -ge 7 ] && [ "$n" -le 9 ] || fail "expected ~8 frames over two chapters, got $n"
[ -f "$d/frames/frame_$(printf %06d "$n").jpg" ] || fail "frame numbering not continuous"
jq -e '.sources | length == 2' "$d/frames.json" >/dev/null || fail "sources not recorded"
# only one stage on request
rm -rf "$d"
scanq-worker --local "$T/tasks/both.yaml" --stage extract 2>>"$T/local.log" || fail "--stage extract"
[ -f "$d/frames.json" ] && [ ! -f "$d/reconstruct.json" ] || fail "--stage extract ran more"
# a bad task file is reported with file:line:col
printf 'group: auv1\nvideos: [%s]\nbogus: 1\n' "$T/survey/videos/auv1-ch01.mp4" >"$T/tasks/bad.yaml"
if scanq-worker --local "$T/tasks/bad.yaml" 2>"$T/bad.log"; then fail "bad task accepted"; fi
grep -q "bad.yaml:3:1: " "$T/bad.log" || fail "no file:line:col in: $(cat "$T/bad.log")"
echo "local: ok"
