# redis-restart.sh - Redis stops and comes back (AOF on) mid-run: workers
# reconnect, say so, and every task completes.
. "$SCANQ_TESTS/cli/common.sh"
. "$SCANQ_TESTS/lib.sh"

make_videos "$T/survey" 1 1
write_acq "$T/tasks" rr "$T/out"
for i in 01 02 03 04 05 06 07 08; do
	write_task "$T/tasks" g1 "t$i" "$T/survey/videos/auv1-ch01.mp4"
done
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"
export SCANQ_MINI_SLEEP=0.5
scanq-worker -n 2 --drain --lease 5s 2>"$T/worker.log" &
POOL=$!
wait_for 60 grep -q "reconstruct claimed" "$T/worker.log" || fail "no reconstruct started"
before=$(rcli scard done:rr:reconstruct)
sq_redis_stop "$SCANQ_TMP/redis"
sleep 3
sq_redis_start "$SCANQ_TMP/redis"
wait $POOL || { tail -40 "$T/worker.log" >&2; fail "pool failed across the restart"; }
echo "reconstructs done before the restart: $before"
[ "$(rcli scard done:rr:reconstruct)" = 8 ] || fail "not every task completed"
[ "$(rcli llen failed:rr)" = 0 ] || fail "dead letters after a restart"
for i in 01 02 03 04 05 06 07 08; do
	[ -f "$T/out/g1/t$i/reconstruct.json" ] || fail "t$i has no reconstruction"
done
[ -f "$T/out/g1/stitch.json" ] || fail "group stitch missing"
# the workers said so, once each way, and nothing in between
grep -q "redis unreachable (claims), retrying: " "$T/worker.log" ||
	fail "no word of the outage: $(tail -20 "$T/worker.log")"
grep -q "redis reachable again (claims) after [0-9.]* s" "$T/worker.log" ||
	fail "no word of redis coming back: $(tail -20 "$T/worker.log")"
n=$(grep -c "redis unreachable (claims)" "$T/worker.log")
[ "$n" -le 2 ] || fail "the outage was said $n times (two workers: at most 2)"
echo "redis-restart: ok"
