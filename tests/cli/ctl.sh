# ctl.sh - scanq-ctl end to end with real workers: usage and exit codes; pause
# and resume while workers run; cancel of a running reconstruct whose backend
# spawned children (all of them gone within seconds, nothing published, other
# tasks untouched, the group stitch re-planned without it); show; retry and
# clear of a dead letter; forget (refused while a job runs unless --force);
# workers and --forget-dead. Each action also runs twice: the second changes
# nothing and still exits 0.
. "$SCANQ_TESTS/cli/common.sh"

make_videos "$T/survey" 2 1
V1="$T/survey/videos/auv1-ch01.mp4"
V2="$T/survey/videos/auv2-ch01.mp4"

# A reconstruction backend: for task a2 (and anything named slow*), a process
# tree (a child, a grandchild, itself) that only a signal ends; the others
# reconstruct at once with mini-reconstruct. FAIL_ONCE fails once per marker.
cat >"$T/tree-reconstruct" <<EOF
#!/bin/sh
task=\$(basename "\$(dirname "\$1")")
case \$task in
a2 | slow*)
	echo \$\$ >>"$T/kids.\$task"
	sh -c 'sleep 300 & echo \$! >>"$T/kids.'\$task'"; wait' &
	echo \$! >>"$T/kids.\$task"
	sleep 300 &
	echo \$! >>"$T/kids.\$task"
	wait
	;;
flaky)
	if [ ! -e "$T/failed-once" ]; then
		touch "$T/failed-once"
		echo "flaky: failing on purpose" >&2
		exit 3
	fi
	;;
esac
exec "$BIN/mini-reconstruct" "\$@"
EOF
chmod +x "$T/tree-reconstruct"

# acq NAME DIR: acquisition.yaml with that backend, one attempt per job
acq() {
	mkdir -p "$2"
	cat >"$2/acquisition.yaml" <<EOY
acquisition: $1
output_root: $T/out-$1
extract: { fps: 2, width: 160, height: -1, quality: 5 }
reconstruct:
  backend: command
  command: ["$T/tree-reconstruct", "{frames}", "{output}"]
  timeout: 5m
stitch:
  backend: command
  command: ["$BIN/mini-stitch", "{output}", "{inputs}"]
retry: { max_attempts: 1, backoff: 100ms }
EOY
}

# --- usage and exit codes ---
scanq-ctl --help | grep -q "^usage: scanq-ctl" || fail "--help"
set +e
scanq-ctl >/dev/null 2>"$T/err"; [ $? = 2 ] || fail "no verb: not 2"
scanq-ctl frobnicate x 2>"$T/err"; [ $? = 2 ] || fail "unknown verb: not 2"
grep -q "^scanq-ctl: unknown verb 'frobnicate'" "$T/err" || fail "unknown verb: $(cat "$T/err")"
scanq-ctl cancel 2>/dev/null; [ $? = 2 ] || fail "cancel without operand: not 2"
scanq-ctl pause demo/a1 2>"$T/err"; [ $? = 2 ] || fail "pause ACQ/TASK: not 2"
scanq-ctl cancel 'bad name' 2>/dev/null; [ $? = 2 ] || fail "bad name: not 2"
scanq-ctl cancel demo --force 2>"$T/err"; [ $? = 2 ] || fail "--force on cancel: not 2"
grep -q "^scanq-ctl: --force is for 'forget'" "$T/err" || fail "--force: $(cat "$T/err")"
scanq-ctl show nope 2>"$T/err"; [ $? = 1 ] || fail "unknown acquisition: not 1"
grep -q "^scanq-ctl: no acquisition 'nope'" "$T/err" || fail "unknown acq: $(cat "$T/err")"
scanq-ctl --redis unix:///nonexistent show x 2>"$T/err"; [ $? = 1 ] || fail "no redis: not 1"
set -e

# --- the acquisition: auv1 = a1 a2 a3, auv2 = b1 b2 ---
acq ctl "$T/tasks"
for t in a1 a2 a3; do write_task "$T/tasks" auv1 $t "$V1"; done
for t in b1 b2; do write_task "$T/tasks" auv2 $t "$V2"; done
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"

# paused before any worker runs: workers run and claim nothing
scanq-ctl pause ctl | grep -q "^paused ctl" || fail "pause"
scanq-ctl pause ctl | grep -q "already paused" || fail "pause twice"
scanq-worker -n 2 --lease 6s 2>"$T/workers.log" &
WP=$!
trap 'kill -TERM $WP 2>/dev/null || true' EXIT
wait_for 10 sh -c "[ \$(redis-cli -s '$RSOCK' zcard workers) -ge 2 ]" || fail "workers did not register"
sleep 2
grep -q "claimed" "$T/workers.log" && fail "a paused acquisition's job was claimed"
[ "$(stage_count ctl extract queued)" = 5 ] || fail "paused: extract queued != 5"
status_json | jq -e '.acquisitions[0].paused == true' >/dev/null || fail "status: not paused"
scanq-status --once | grep -q "PAUSED" || fail "terminal view: not PAUSED"
scanq-ctl --json resume ctl | jq -e '.changed == true' >/dev/null || fail "resume"
scanq-ctl resume ctl | grep -q "was not paused" || fail "resume twice"

# a2's backend runs (its tree is up); everything else completes around it
wait_for 60 sh -c "[ \$(cat '$T/kids.a2' 2>/dev/null | wc -l) -ge 4 ]" ||
	fail "a2's backend tree did not start"
wait_for 60 sh -c "[ \"\$(scanq-status --once --json | jq '.acquisitions[0].stages.reconstruct.done')\" = 4 ]" ||
	fail "the other reconstructions did not finish"
[ -f "$T/out-ctl/auv2/stitch.json" ] || wait_for 30 test -f "$T/out-ctl/auv2/stitch.json" ||
	fail "auv2's group stitch did not run"
[ -f "$T/out-ctl/auv1/stitch.json" ] && fail "auv1's stitch ran while a2 runs"

# pause while it runs: a2 goes on
scanq-ctl pause ctl >/dev/null
sleep 1.5
for p in $(cat "$T/kids.a2"); do kill -0 "$p" 2>/dev/null || fail "pause stopped a2's process $p"; done
scanq-ctl resume ctl >/dev/null

# --- cancel the running a2 ---
scanq-ctl cancel ctl/a2 >"$T/cancel.out" || fail "cancel: exit $?"
grep -q "^cancelled 1 job(s) of ctl/a2: a2 (reconstruct, was running on " "$T/cancel.out" ||
	fail "cancel output: $(cat "$T/cancel.out")"
grep -q "re-planned: @group:auv1 queued" "$T/cancel.out" || fail "no re-plan: $(cat "$T/cancel.out")"
# every process of the tree is gone within seconds
gone() {
	for p in $(cat "$T/kids.a2"); do kill -0 "$p" 2>/dev/null && return 1; done
	return 0
}
wait_for 12 gone || fail "a2's backend tree still alive: $(ps -o pid,args -p "$(tr '\n' , <"$T/kids.a2")x" || true)"
wait_for 10 grep -q "ctl/a2 reconstruct abandoned: lease lost" "$T/workers.log" ||
	fail "the worker did not drop a2"
# nothing of a2's reconstruction is published; its frames (done) are kept
A2="$T/out-ctl/auv1/a2"
[ -e "$A2/reconstruct.json" ] && fail "a2's record was published"
[ -e "$A2/reconstruction.ply" ] && fail "a2's cloud was published"
ls "$A2" | grep -q '\.tmp\.' && fail "a2's temporaries left"
[ -f "$A2/frames.json" ] || fail "a2's frames were removed"
# the group stitch ran on a1 and a3, then the acquisition stitch
wait_for 30 test -f "$T/out-ctl/stitch.json" || fail "acquisition stitch did not run"
jq -e '.inputs | length == 2' "$T/out-ctl/auv1/stitch.json" >/dev/null ||
	fail "auv1 stitch inputs: $(jq -c .inputs "$T/out-ctl/auv1/stitch.json")"
grep -q "/a2/" "$T/out-ctl/auv1/stitch.json" && fail "a2 stitched"
# other tasks untouched; status counts the cancel
for t in auv1/a1 auv1/a3 auv2/b1 auv2/b2; do
	[ -f "$T/out-ctl/$t/reconstruct.json" ] || fail "$t lost its reconstruction"
	[ -f "$T/out-ctl/$t/preview.png" ] || fail "$t has no preview.png"
done
[ "$(stage_count ctl reconstruct cancelled)" = 1 ] || fail "status: reconstruct cancelled != 1"
[ "$(stage_count ctl stitch done)" = 3 ] || fail "status: stitch done != 3"
scanq-status --once | grep -q "cancelled" || fail "terminal view: no cancelled column"
# idempotent
scanq-ctl cancel ctl/a2 | grep -q "^cancelled 0 job(s)" || fail "second cancel"

# --- show ---
scanq-ctl show ctl >"$T/show.out"
grep -Eq "^a2 +reconstruct +cancelled" "$T/show.out" || fail "show: $(cat "$T/show.out")"
grep -Eq "^@acq +stitch +done" "$T/show.out" || fail "show @acq: $(cat "$T/show.out")"
scanq-ctl show ctl/a1 >"$T/a1.out"
grep -q "^ctl/a1: task of group auv1, done at reconstruct" "$T/a1.out" || fail "show a1: $(head -3 "$T/a1.out")"
grep -q "^  reconstruct: .*backend command" "$T/a1.out" || fail "show a1 record: $(cat "$T/a1.out")"
grep -q "^log tail (.*/reconstruct.log)" "$T/a1.out" || fail "show a1 log: $(cat "$T/a1.out")"
grep -q "PLY saved" "$T/a1.out" || fail "show a1 log tail"
scanq-ctl --json show ctl/a1 | jq -e '.disk.preview_png == "preview.png" and
	(.disk.thumbnails | length) == 4 and .history[0].outcome == "done"' >/dev/null ||
	fail "show --json a1"
scanq-ctl show ctl/a2 | grep -q "reconstruct .* cancelled: cancelled by an operator" ||
	fail "show a2 history: $(scanq-ctl show ctl/a2)"

# --- retry and clear of a dead letter (one attempt: the first run fails) ---
acq dl "$T/dl"
write_task "$T/dl" g flaky "$V1"
scanq-enqueue "$T/dl" >/dev/null
wait_for 60 sh -c "[ \"\$(scanq-status --once --json --acq dl | jq '.acquisitions[0].dead_total')\" = 1 ]" ||
	fail "flaky was not dead-lettered"
scanq-ctl clear dl | grep -q "dropped 1 dead letter" || fail "clear"
[ "$(scanq-status --once --json --acq dl | jq '.acquisitions[0].dead_total')" = 0 ] || fail "clear: letter left"
[ "$(stage_count dl reconstruct failed)" = 1 ] || fail "clear: job no longer failed"
scanq-ctl clear dl | grep -q "dropped 0 dead letter" || fail "clear twice"
scanq-ctl retry dl/flaky | grep -q "sent 1 job(s) of dl/flaky back" || fail "retry"
wait_for 60 sh -c "[ \"\$(scanq-status --once --json --acq dl | jq '.acquisitions[0].stages.stitch.done')\" = 1 ]" ||
	fail "retried job did not complete"
[ "$(stage_count dl reconstruct failed)" = 0 ] || fail "retry: still failed"
scanq-ctl retry dl | grep -q "sent 0 job(s)" || fail "retry twice"

# --- forget: refused while a job runs, --force stops it ---
acq fg "$T/fg"
write_task "$T/fg" g slow1 "$V1"
scanq-enqueue "$T/fg" >/dev/null
wait_for 60 sh -c "[ \$(cat '$T/kids.slow1' 2>/dev/null | wc -l) -ge 4 ]" || fail "slow1 did not start"
set +e
scanq-ctl forget fg 2>"$T/err"; rc=$?
set -e
[ $rc = 1 ] || fail "forget while running: exit $rc"
grep -q "^scanq-ctl: cannot forget 'fg': 1 job(s) running (use --force" "$T/err" || fail "forget: $(cat "$T/err")"
[ "$(rcli sismember acqs fg)" = 1 ] || fail "refused forget removed something"
scanq-ctl forget --force fg | grep -q "^forgot fg: .* keys removed" || fail "forget --force"
[ -z "$(rcli --scan --pattern '*:fg*')" ] || fail "keys left: $(rcli --scan --pattern '*:fg*')"
[ "$(rcli sismember acqs fg)" = 0 ] || fail "fg still in acqs"
gone_slow() {
	for p in $(cat "$T/kids.slow1"); do kill -0 "$p" 2>/dev/null && return 1; done
	return 0
}
wait_for 12 gone_slow || fail "forget --force left slow1's tree running"
[ -f "$T/out-fg/g/slow1/frames.json" ] || fail "forget touched the outputs"
scanq-ctl forget fg | grep -q "not known" || fail "forget twice"

# --- workers ---
scanq-ctl workers >"$T/workers.out"
[ "$(grep -c "extract,reconstruct,stitch" "$T/workers.out")" = 2 ] || fail "workers: $(cat "$T/workers.out")"
# two minutes silent (older than 10 minutes, a worker's beat would drop it itself)
rcli zadd workers $((($(rcli time | head -1) - 120) * 1000)) ghost:1:x >/dev/null
rcli hset worker:ghost:1:x host ghost pid 1 stages extract >/dev/null
scanq-ctl workers | grep -q "^ghost:1:x .* DEAD" || fail "dead worker not shown: $(scanq-ctl workers)"
scanq-ctl workers --forget-dead | grep -q "forgot dead worker ghost:1:x" || fail "--forget-dead"
scanq-ctl --json workers | jq -e '.workers | length == 2' >/dev/null || fail "ghost left"

kill -TERM $WP
wait $WP || fail "worker pool exit"
trap - EXIT
[ -z "$(ls "$SCANQ_TMP/sanitizer")" ] || fail "sanitizer reports"
echo "ctl: ok"
