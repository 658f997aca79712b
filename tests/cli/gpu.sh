# gpu.sh - GPUs are assigned round-robin to worker processes and a job is only
# claimed by a worker whose GPU (and RAM) can hold it. nvidia-smi is replaced by
# a script on PATH that reports $FAKE_VRAM_FREE MiB, the only stand-in here: CI
# has no GPU.
. "$SCANQ_TESTS/cli/common.sh"

mkdir -p "$T/fakebin"
cat >"$T/fakebin/nvidia-smi" <<'EOS'
#!/bin/sh
case "$*" in
*index,uuid*) printf '0, GPU-fake-0\n1, GPU-fake-1\n' ;;
*) echo "${FAKE_VRAM_FREE:?}" ;;
esac
EOS
chmod +x "$T/fakebin/nvidia-smi"
export PATH="$T/fakebin:$PATH"

make_videos "$T/survey" 1 1
mkdir -p "$T/tasks"
cat >"$T/tasks/acquisition.yaml" <<EOY
acquisition: gpu
output_root: $T/out
extract: { fps: 2, width: 160, height: -1, quality: 5 }
reconstruct:
  backend: command
  command:
    - /bin/sh
    - -c
    - echo "\$CUDA_VISIBLE_DEVICES {gpu}" >>$T/gpus.log; exec $BIN/mini-reconstruct "\$0" "\$1"
    - "{frames}"
    - "{output}"
  min_vram_mib: 4000
stitch: { backend: builtin }
EOY
for i in 1 2 3 4; do
	write_task "$T/tasks" g1 "t$i" "$T/survey/videos/auv1-ch01.mp4"
done
printf 'group: g1\nname: big\nvideos: [%s]\nreconstruct: { min_ram_mib: 999999999 }\n' \
	"$T/survey/videos/auv1-ch01.mp4" >"$T/tasks/big.yaml"
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"

# not enough VRAM: extracts run, no reconstruct is claimed
FAKE_VRAM_FREE=2000 scanq-worker -n 2 --gpus 0,1 --stage extract,reconstruct 2>"$T/w1.log" &
W=$!
wait_for 60 sh -c "[ \$(redis-cli -s $RSOCK llen reconstruct:gpu) = 5 ]" || fail "extracts did not finish"
sleep 3
kill -TERM $W
wait $W || fail "worker exit"
grep -q "reconstruct claimed" "$T/w1.log" && fail "claimed a job its GPU cannot hold"
grep -q "serving extract,reconstruct on gpu 0" "$T/w1.log" || fail "slot 0 not on gpu 0"
grep -q "serving extract,reconstruct on gpu 1" "$T/w1.log" || fail "slot 1 not on gpu 1"
grep -q "cannot see it" "$T/w1.log" && fail "a GPU nvidia-smi lists was reported unseen"

# enough VRAM: the four run, each with CUDA_VISIBLE_DEVICES = {gpu}; the task that
# needs more RAM than the host has is never claimed
FAKE_VRAM_FREE=8000 scanq-worker -n 2 --gpus 0,1 --stage reconstruct 2>"$T/w2.log" &
W=$!
wait_for 60 sh -c "[ \$(redis-cli -s $RSOCK scard done:gpu:reconstruct) = 4 ]" || fail "reconstructs did not run"
sleep 2
kill -TERM $W
wait $W || fail "worker exit"
[ "$(wc -l <"$T/gpus.log")" = 4 ] || fail "expected 4 backend runs: $(cat "$T/gpus.log")"
while read -r env arg; do
	[ "$env" = "$arg" ] || fail "CUDA_VISIBLE_DEVICES=$env but {gpu}=$arg"
	case $env in 0 | 1) ;; *) fail "unexpected gpu '$env'" ;; esac
done <"$T/gpus.log"
[ "$(rcli lrange reconstruct:gpu 0 -1)" = big ] || fail "the RAM-hungry task was claimed or lost"
echo "gpu: ok"
