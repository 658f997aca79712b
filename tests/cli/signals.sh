# signals.sh - SIGTERM: stop claiming, let the running job finish (grace) or hand
# it back; exit 0 either way.
. "$SCANQ_TESTS/cli/common.sh"

make_videos "$T/survey" 1 1
write_acq "$T/tasks" sig "$T/out"
write_task "$T/tasks" g1 slow "$T/survey/videos/auv1-ch01.mp4"
write_task "$T/tasks" g1 next "$T/survey/videos/auv1-ch01.mp4"
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"

scanq-worker -n 1 --stage extract --drain 2>"$T/w0.log" || fail "extracts"

# 1: the running job finishes within the grace period; nothing else is claimed
SCANQ_MINI_SLEEP=2 scanq-worker -n 1 --stage reconstruct --grace 20s 2>"$T/w1.log" &
W=$!
wait_for 60 grep -q "reconstruct claimed" "$T/w1.log" || fail "no reconstruct started"
kill -TERM $W
wait $W || fail "worker did not exit 0 after SIGTERM"
grep -q "reconstruct done" "$T/w1.log" || fail "running job did not finish in its grace period"
[ "$(grep -c "reconstruct claimed" "$T/w1.log")" = 1 ] || fail "claimed after SIGTERM"

# 2: grace too short: the job is handed back to the front of its queue, exit 0
SCANQ_MINI_SLEEP=30 scanq-worker -n 1 --stage reconstruct --grace 1s 2>"$T/w2.log" &
W=$!
wait_for 60 grep -q "reconstruct claimed" "$T/w2.log" || fail "second reconstruct not started"
kill -TERM $W
wait $W || fail "worker did not exit 0 after hand-back"
grep -q "handed back" "$T/w2.log" || fail "job not handed back"
[ "$(rcli llen reconstruct:sig)" = 1 ] || fail "handed-back job not queued"
pgrep -f "$BIN/mini-reconstruct" >/dev/null && fail "backend still running after hand-back"

# 3: a second signal hands back at once
SCANQ_MINI_SLEEP=30 scanq-worker -n 1 --stage reconstruct --grace 60s 2>"$T/w3.log" &
W=$!
wait_for 60 grep -q "reconstruct claimed" "$T/w3.log" || fail "third reconstruct not started"
kill -TERM $W
sleep 0.5
kill -TERM $W
wait $W || fail "worker did not exit 0 after two signals"
grep -q "handed back" "$T/w3.log" || fail "second signal did not hand back"
echo "signals: ok"
