# console.sh - scanq-status --http: the web console over a finished acquisition.
# Its endpoints with curl (pages, three.js from libjs-three, the API, files
# confined to the output directories, actions only with the operator token,
# compared whole), then a real browser (Debian's headless chromium) loads the
# overview and a job's page and the page reports its own state: acquisition and
# stages shown, the cloud loaded in a WebGL canvas, no JavaScript error. The
# screenshots are kept in $SCANQ_BUILD/meson-logs/console/.
. "$SCANQ_TESTS/cli/common.sh"

command -v curl >/dev/null || fail "curl is needed (apt-get install -y curl)"
SHOTS="$SCANQ_BUILD/meson-logs/console"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*

# --- a finished acquisition: 2 groups, terrain clouds, command backends ---
make_videos "$T/survey" 2 1
mkdir -p "$T/tasks"
cat >"$T/tasks/acquisition.yaml" <<EOY
acquisition: web
output_root: $T/out
extract: { fps: 2, width: 160, height: -1, quality: 5 }
reconstruct:
  backend: command
  command: ["$BIN/terrain-reconstruct", "{frames}", "{output}"]
stitch:
  backend: command
  command: ["$BIN/terrain-stitch", "{output}", "{inputs}"]
retry: { max_attempts: 1, backoff: 100ms }
EOY
write_task "$T/tasks" auv1 t1 "$T/survey/videos/auv1-ch01.mp4"
write_task "$T/tasks" auv1 t2 "$T/survey/videos/auv1-ch01.mp4"
write_task "$T/tasks" auv2 t3 "$T/survey/videos/auv2-ch01.mp4"
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"
timeout 120 scanq-worker -n 2 --drain 2>"$T/worker.log" || fail "workers: $(tail "$T/worker.log")"
[ -f "$T/out/stitch.json" ] || fail "acquisition stitch missing"
[ -f "$T/out/auv1/t1/preview.ply" ] || fail "no preview.ply for t1"

# --- the console, with an operator token ---
printf 'sesame-%s\n' "$$" >"$T/token"
chmod 600 "$T/token"
TOKEN="sesame-$$"
scanq-status --http 127.0.0.1:0 --operator-token-file "$T/token" >"$T/http.out" 2>"$T/http.err" &
HP=$!
trap 'kill $HP 2>/dev/null || true' EXIT
wait_for 10 grep -q "console on" "$T/http.out" || fail "console did not start: $(cat "$T/http.err")"
URL=$(sed -n 's/.*console on \(http[^ ]*\) .*/\1/p' "$T/http.out")
case $URL in http://127.0.0.1:*) ;; *) fail "console not on 127.0.0.1: $URL" ;; esac

# get PATH [curl args]: body to stdout, fails on HTTP errors
get() {
	_p=$1
	shift
	curl -sS --fail "$@" "$URL${_p#/}"
}
# code METHOD PATH [curl args]: the HTTP status only
code() {
	_m=$1 _p=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' -X "$_m" "$@" "$URL${_p#/}"
}

# pages and three.js, with the headers that keep them to themselves
get / -D "$T/h.txt" >"$T/index.html"
grep -qi '^content-type: text/html' "$T/h.txt" || fail "index type"
grep -qi "^content-security-policy: default-src 'self'" "$T/h.txt" || fail "no CSP"
grep -qi '^x-content-type-options: nosniff' "$T/h.txt" || fail "no nosniff"
grep -q 'three/three.min.js' "$T/index.html" || fail "index does not load three.js"
get /console.js | grep -q "PLYLoader" || fail "console.js"
get /three/three.min.js | cmp -s - /usr/share/javascript/three/build/three.min.js || fail "three.min.js"
get /three/OrbitControls.js >/dev/null || fail "OrbitControls.js"
get /three/PLYLoader.js >/dev/null || fail "PLYLoader.js"
[ "$(code GET /three/../../../etc/passwd)" = 404 ] || fail "three: path escape"
[ "$(code GET /nope.html)" = 404 ] || fail "unknown page"

# the API
get /api/config | jq -e '.actions == true and (.verbs | index("cancel"))' >/dev/null || fail "config"
get /api/snapshot >"$T/snap.json"
jq -e '.acquisitions[0].name == "web" and .acquisitions[0].stages.stitch.done == 3' "$T/snap.json" \
	>/dev/null || fail "snapshot: $(cat "$T/snap.json")"
get '/api/show?acq=web' | jq -e '[.jobs[].jid] == ["t1","t2","@group:auv1","t3","@group:auv2","@acq"]' \
	>/dev/null || fail "show"
get '/api/show?acq=web&target=t1' >"$T/t1.json"
jq -e '.status == "done" and .disk.preview_ply == "preview.ply" and
	(.disk.thumbnails | length) == 4 and .disk.records.reconstruct.backend == "command"' \
	"$T/t1.json" >/dev/null || fail "show t1: $(jq -c .disk "$T/t1.json")"
[ "$(code GET '/api/show?acq=nope')" = 400 ] || fail "unknown acquisition"
[ "$(code GET '/api/show?acq=bad%20name')" = 400 ] || fail "bad acquisition name"

# files: the job's own, whole; nothing outside its directory
get '/api/file?acq=web&jid=t1&path=preview.png' -D "$T/h.txt" >"$T/p.png"
cmp -s "$T/p.png" "$T/out/auv1/t1/preview.png" || fail "preview.png differs"
grep -qi '^content-type: image/png' "$T/h.txt" || fail "png type"
get '/api/file?acq=web&jid=t1&path=frames/frame_000001.jpg' | cmp -s - "$T/out/auv1/t1/frames/frame_000001.jpg" ||
	fail "frame"
get '/api/file?acq=web&jid=%40group%3Aauv1&path=stitch.json' | jq -e .version >/dev/null ||
	fail "group stitch record"
ln -s /etc/hostname "$T/out/auv1/t1/evil.json"
ln -s "$T/out/auv1/t2" "$T/out/auv1/t1/t2link"
for p in ../t2/preview.png %2Fetc%2Fpasswd frames/../../t2/preview.png ..%2F..%2Fstitch.json \
	evil.json t2link/preview.png reconstruct.tmp.1/x.ply .. frames x.sh; do
	c=$(code GET "/api/file?acq=web&jid=t1&path=$p")
	case $c in 400 | 404) ;; *) fail "path '$p' answered $c" ;; esac
done
[ "$(code GET '/api/file?acq=web&jid=..&path=stitch.json')" = 404 ] || fail "jid escape"

# actions: only with the token, compared whole
[ "$(code POST '/api/action?verb=pause&acq=web')" = 401 ] || fail "action without token"
[ "$(code POST '/api/action?verb=pause&acq=web' -H "X-Scanq-Token: ${TOKEN}x")" = 401 ] || fail "longer token"
[ "$(code POST '/api/action?verb=pause&acq=web' -H "X-Scanq-Token: sesame")" = 401 ] || fail "token prefix"
[ "$(code POST '/api/action?verb=forget&acq=web' -H "X-Scanq-Token: $TOKEN")" = 400 ] || fail "forget offered"
[ "$(code GET '/api/action?verb=pause&acq=web')" = 405 ] || fail "GET action"
[ "$(code PUT /)" = 405 ] || fail "PUT"
[ "$(rcli sismember paused web)" = 0 ] || fail "refused actions paused anyway"
get '/api/action?verb=pause&acq=web' -X POST -H "X-Scanq-Token: $TOKEN" | jq -e '.changed == true' \
	>/dev/null || fail "pause with token"
[ "$(rcli sismember paused web)" = 1 ] || fail "pause not applied"
get /api/snapshot | jq -e '.acquisitions[0].paused == true' >/dev/null || fail "snapshot after pause"
get '/api/action?verb=resume&acq=web' -X POST -H "X-Scanq-Token: $TOKEN" >/dev/null || fail "resume"

# a console without a token only shows
scanq-status --http 0 >"$T/http2.out" 2>&1 &
HP2=$!
trap 'kill $HP $HP2 2>/dev/null || true' EXIT
wait_for 10 grep -q "view only" "$T/http2.out" || fail "second console: $(cat "$T/http2.out")"
URL2=$(sed -n 's/.*console on \(http[^ ]*\) .*/\1/p' "$T/http2.out")
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Scanq-Token: $TOKEN" \
	"${URL2}api/action?verb=pause&acq=web")" = 403 ] || fail "actions without a configured token"
kill $HP2
wait $HP2 || fail "second console exit"

# bad options and token files
set +e
scanq-status --http nowhere:x >/dev/null 2>&1; [ $? = 2 ] || fail "bad --http: not 2"
chmod 644 "$T/token"
scanq-status --http 0 --operator-token-file "$T/token" 2>"$T/err" >/dev/null; rc=$?
set -e
[ $rc = 2 ] || fail "world-readable token file: exit $rc"
grep -q "readable by others" "$T/err" || fail "token file: $(cat "$T/err")"

# --- a real browser ---
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || fail "chromium is needed (apt-get install -y chromium)"
# chrome PAGE OUT: the DOM after the page settled, and a screenshot. Each run
# has a profile of its own (a profile still held by a browser that is shutting
# down makes the next one wait on it); a browser that hangs (seen once on a
# loaded CI machine, in chromium itself) is killed after 90 s and started again,
# twice at most: the page is then judged on what the last run printed.
chrome() {
	for _what in dump-dom "screenshot=$SHOTS/$2.png"; do
		_ok=0
		for _try in 1 2 3; do
			_prof="$T/chrome.$2.$(echo "$_what" | cut -c1-4).$_try"
			timeout -k 5 90 "$CHROME" --headless --no-sandbox --disable-gpu-sandbox \
				--use-angle=swiftshader --enable-unsafe-swiftshader --user-data-dir="$_prof" \
				--no-first-run --window-size=1400,1000 --virtual-time-budget=15000 \
				--run-all-compositor-stages-before-draw \
				--"$_what" "$URL$1" >"$T/$2.$(echo "$_what" | cut -c1-4)" 2>>"$T/chrome.log" && {
				_ok=1
				break
			}
			echo "console: chromium $_what $1: try $_try failed (exit $?)" >&2
		done
		[ $_ok = 1 ] || fail "chromium $_what $1: $(tail -3 "$T/chrome.log")"
	done
	cp "$T/$2.dump" "$SHOTS/$2.html"
}
chrome "#/" overview
grep -q 'data-state="ready"' "$T/overview.dump" || fail "overview not ready: $(head -c 600 "$T/overview.dump")"
grep -q 'data-errors="0"' "$T/overview.dump" || fail "overview: JavaScript errors: $(grep -o '<pre id="errors".*</pre>' "$T/overview.dump")"
grep -q 'data-acq="web"' "$T/overview.dump" || fail "overview: no acquisition"
for s in extract reconstruct stitch; do
	grep -q "data-stage=\"$s\"" "$T/overview.dump" || fail "overview: no stage $s"
done
grep -q ">3/3<" "$T/overview.dump" || fail "overview: stage counts"
# paused by an operator: the page says so and offers resume (the token is configured)
get '/api/action?verb=pause&acq=web' -X POST -H "X-Scanq-Token: $TOKEN" >/dev/null || fail "pause"
chrome "#/" overview-paused
grep -q '<span class="badge paused">paused</span>' "$T/overview-paused.dump" ||
	fail "overview: no paused badge: $(grep -o '<h2[^>]*>.*</h2>' "$T/overview-paused.dump" | head -3)"
grep -q '<button[^>]*>resume</button>' "$T/overview-paused.dump" || fail "overview: no resume button"
get '/api/action?verb=resume&acq=web' -X POST -H "X-Scanq-Token: $TOKEN" >/dev/null || fail "resume"

chrome "#/acq/web" acq-web
grep -q 'data-state="ready"' "$T/acq-web.dump" || fail "acquisition page not ready"
grep -q 'data-errors="0"' "$T/acq-web.dump" || fail "acquisition page: JavaScript errors"
for j in t1 t2 t3 @group:auv1 @group:auv2 @acq; do
	grep -q "data-jid=\"$j\"" "$T/acq-web.dump" || fail "acquisition page: no row $j"
done

chrome "#/job/web/t1" job-t1
grep -q 'data-viewer="ready"' "$T/job-t1.dump" || fail "t1: cloud not loaded: $(grep -o '<html[^>]*>' "$T/job-t1.dump") $(grep -o '<pre id="errors".*</pre>' "$T/job-t1.dump")"
grep -q 'data-errors="0"' "$T/job-t1.dump" || fail "t1: JavaScript errors: $(grep -o '<pre id="errors".*</pre>' "$T/job-t1.dump")"
grep -Eq '<canvas[^>]*data-points="14400"' "$T/job-t1.dump" || fail "t1: no WebGL canvas with the cloud"
grep -q 'web/t1' "$T/job-t1.dump" || fail "t1: title"
grep -q 'frame_000004.jpg' "$T/job-t1.dump" || fail "t1: thumbnails"

chrome "#/job/web/%40acq" job-acq
grep -q 'data-viewer="ready"' "$T/job-acq.dump" || fail "@acq: cloud not loaded"
grep -Eq '<canvas[^>]*data-points="43200"' "$T/job-acq.dump" || fail "@acq: not the whole cloud"
grep -q 'data-errors="0"' "$T/job-acq.dump" || fail "@acq: JavaScript errors"
for f in overview overview-paused acq-web job-t1 job-acq; do
	[ -s "$SHOTS/$f.png" ] || fail "no screenshot $f"
done

kill $HP
wait $HP || fail "console did not exit 0 on SIGTERM"
trap - EXIT
echo "console: ok (screenshots in $SHOTS)"
