# command-marker.sh - a `command` backend that behaves like a GPU model's script:
# it writes the PLY, prints "PLY saved: ...", then never exits (and keeps a helper
# process alive). The worker must see the marker, stop the whole process group and
# record success. Also the RAM-aware stride for a command backend: a folder of
# every k-th frame, k recorded in reconstruct.json.
. "$SCANQ_TESTS/cli/common.sh"

# 4 s at 2 fps: 8 frames
scanq-synth --out "$T/s" --vehicles 1 --chapters 1 --duration 4 --width 320 --height 180 \
	--fps 10 --quiet
mkdir -p "$T/bin" "$T/tasks"
cat >"$T/bin/gpu-model" <<'EOF'
#!/bin/sh
# gpu-model FRAMES OUTPUT STATE: like `demo.py --image_folder F --save_ply P`
frames=$1 out=$2 state=$3
ls "$frames" | grep -c '^frame_.*\.jpg$' >"$state.frames"
sleep 600 &
echo $! >"$state.helper"
echo $$ >"$state.pid"
printf 'ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n0 0 0\n' >"$out"
echo "model loaded, GPU memory kept for the next call"
echo "PLY saved: $out"
while :; do sleep 1; done
EOF
chmod +x "$T/bin/gpu-model"

# alive PID: the process exists and is not a zombie waiting for init to reap it
alive() {
	_st=$(ps -o stat= -p "$1" 2>/dev/null || true)
	[ -n "$_st" ] && [ "${_st#Z}" = "$_st" ]
}

# run_task NAME RECONSTRUCT-EXTRA: one task through extract + reconstruct, --local
run_task() {
	cat >"$T/tasks/acquisition.yaml" <<EOF
acquisition: marker
output_root: $T/out
extract: { fps: 2, width: 160, height: -1, quality: 5 }
reconstruct:
  backend: command
  command: [$T/bin/gpu-model, "{frames}", "{output}", $T/$1]
  done_when: { log: "PLY saved:" }
  timeout: 2m
$2
EOF
	write_task "$T/tasks" auv1 "$1" "$T/s/videos/auv1-ch01.mp4"
	start=$(date +%s)
	scanq-worker --local "$T/tasks/$1.yaml" 2>"$T/$1.log" ||
		{ cat "$T/$1.log" >&2; fail "$1: the worker did not record success"; }
	[ $(($(date +%s) - start)) -lt 60 ] || fail "$1: the worker waited for the timeout"
	rec="$T/out/auv1/$1/reconstruct.json"
	jq -e '.backend == "command" and .done_by_marker == true' "$rec" >/dev/null ||
		fail "$1: record does not say the marker ended it: $(cat "$rec")"
	head -c 4 "$T/out/auv1/$1/reconstruction.ply" | grep -q '^ply' || fail "$1: no PLY"
	for p in "$T/$1.pid" "$T/$1.helper"; do
		! alive "$(cat "$p")" ||
			fail "$1: process still runs: $(ps -o pid,stat,args -p "$(cat "$p")")"
	done
	grep -q "PLY saved:" "$T/out/auv1/$1/reconstruct.log" || fail "$1: tool output not logged"
}

run_task all ""
[ "$(cat "$T/all.frames")" = 8 ] || fail "all: the tool saw $(cat "$T/all.frames") frames, not 8"
jq -e '.stride == {k: 1, fixed: false, frames_total: 8, frames_used: 8, bytes_per_frame: 0,
	budget_bytes: 0}' "$T/out/auv1/all/reconstruct.json" >/dev/null ||
	fail "all: $(jq -c .stride "$T/out/auv1/all/reconstruct.json")"

# 3 frames of 1 MiB fit a 3 MiB budget: every 3rd frame (1, 4, 7)
run_task budget "  bytes_per_frame: 1M
  memory_budget: 3M"
[ "$(cat "$T/budget.frames")" = 3 ] || fail "budget: the tool saw $(cat "$T/budget.frames") frames"
jq -e '.stride | .k == 3 and .fixed == false and .frames_used == 3 and .budget_bytes == 3145728' \
	"$T/out/auv1/budget/reconstruct.json" >/dev/null ||
	fail "budget: $(jq -c .stride "$T/out/auv1/budget/reconstruct.json")"
[ -z "$(ls -d "$T/out/auv1/budget"/reconstruct.tmp.* 2>/dev/null)" ] ||
	fail "budget: the folder of chosen frames was left behind"
[ "$(ls "$T/out/auv1/budget/frames" | grep -c '\.jpg$')" = 8 ] ||
	fail "budget: removing the links removed frames"

run_task fixed "  stride: 2"
[ "$(cat "$T/fixed.frames")" = 4 ] || fail "fixed: the tool saw $(cat "$T/fixed.frames") frames"
jq -e '.stride | .k == 2 and .fixed == true' "$T/out/auv1/fixed/reconstruct.json" >/dev/null ||
	fail "fixed: $(jq -c .stride "$T/out/auv1/fixed/reconstruct.json")"
echo "command-marker: ok"
