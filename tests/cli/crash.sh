# crash.sh - SIGKILL worker processes at random moments: no task is lost, none
# runs twice at once, every output completes.
. "$SCANQ_TESTS/cli/common.sh"

rand() { # rand N: 0..N-1
	echo $(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1))
}

make_videos "$T/survey" 1 1
SCANQ_TEST_ATTEMPTS=50 write_acq "$T/tasks" crash "$T/out"
for g in 1 2 3 4 5; do
	for i in 01 02 03 04 05 06 07 08 09 10; do
		write_task "$T/tasks" "g$g" "g$g-t$i" "$T/survey/videos/auv1-ch01.mp4"
	done
done
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"

export SCANQ_RUNLOG="$T/runs.log" SCANQ_MINI_SLEEP=0.4
start_pool() {
	setsid scanq-worker -n 4 --drain --lease 3s 2>>"$T/worker.log" &
	POOL=$!
}
start_pool
kills=0
whole=0
deadline=$(($(date +%s) + 400))
while kill -0 $POOL 2>/dev/null; do
	[ "$(date +%s)" -lt "$deadline" ] || { kill -KILL -$POOL; fail "pool did not finish"; }
	sleep "0.$(rand 9)$(rand 9)"
	kids=$(pgrep -P $POOL -f scanq-worker || true)
	[ -n "$kids" ] || continue
	if [ $kills -eq 12 ] && [ $whole -eq 0 ]; then
		# power loss: the whole pool and its backends at once; leases must expire
		whole=1
		pkill -KILL -s $POOL 2>/dev/null || true
		wait $POOL 2>/dev/null || true
		sleep 0.5
		start_pool
		continue
	fi
	if [ $kills -lt 30 ]; then
		victim=$(echo "$kids" | shuf -n 1)
		kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
	fi
done
wait $POOL || { tail -50 "$T/worker.log" >&2; fail "pool exited non-zero"; }
echo "killed $kills worker processes and the whole pool once"

[ ! -s "$T/runs.log.overlaps" ] || { cat "$T/runs.log.overlaps" >&2; fail "a task ran twice at once"; }
missing=0
for f in "$T"/tasks/g*.yaml; do
	n=$(basename "$f" .yaml)
	g=${n%%-*}
	[ -f "$T/out/$g/$n/reconstruct.json" ] || { echo "lost: $n" >&2; missing=$((missing + 1)); }
done
[ $missing -eq 0 ] || fail "$missing tasks never completed"
[ "$(stage_count crash reconstruct done)" = 50 ] || fail "status: reconstruct done != 50"
[ "$(stage_count crash stitch done)" = 6 ] || fail "status: stitch done != 6"
[ "$(status_json | jq '.acquisitions[0].dead_total')" = 0 ] || fail "dead letters after crashes"
grep -q "killed by signal 9" "$T/worker.log" || fail "supervisor never saw a killed worker"
grep -q "handed back" "$T/worker.log" || fail "no job was handed back by the supervisor"
echo "crash: ok"
