# extract-bad.sh - bad inputs and a full disk, through the real programs.
#
# A truncated and a partly overwritten file give every decodable frame and a
# warning in frames.json; an empty file, a text file, an audio file and a FIFO
# that never delivers a byte are refused by `scanq-enqueue --check` and by
# `scanq-worker --local` with a clear message (the FIFO through the stall
# timeout, not a hang); a disk that fills during extraction fails that task
# cleanly (no frames.json, no temporaries) while the worker goes on to the next.
. "$SCANQ_TESTS/cli/common.sh"
command -v ffmpeg >/dev/null || fail "the ffmpeg program is needed"

V="$T/videos"
mkdir -p "$V"
ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x240:rate=30" -t 4 -c:v libx264 \
	-pix_fmt yuv420p -movflags +faststart "$V/good.mp4" || fail "cannot make good.mp4"
size=$(stat -c %s "$V/good.mp4")
head -c $((size * 6 / 10)) "$V/good.mp4" >"$V/truncated.mp4"
cp "$V/good.mp4" "$V/damaged.mp4"
head -c 3000 /dev/zero | tr '\0' '\125' |
	dd of="$V/damaged.mp4" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
: >"$V/empty.mp4"
echo "not a video" >"$V/text.mp4"
ffmpeg -nostdin -v error -f lavfi -i sine=d=1 -c:a aac "$V/audio.m4a" || fail "no audio.m4a"
mkfifo "$V/stalled.mp4"

# a case per task directory, so that one bad file does not hide another
case_dir() {
	write_acq "$T/tasks/$1" "bad-$1" "$T/out"
	sed -i "s|^extract:.*|extract: { fps: 3, width: 160, height: 90, quality: 4 }|" \
		"$T/tasks/$1/acquisition.yaml"
	write_task "$T/tasks/$1" g "$1" "$V/$2"
}

# --- damaged but decodable: frames and a warning -------------------------------
for c in truncated damaged; do
	case_dir $c $c.mp4
	scanq-worker --local "$T/tasks/$c/$c.yaml" --stage extract 2>"$T/$c.log" ||
		fail "$c: extraction failed: $(cat "$T/$c.log")"
	j="$T/out/g/$c/frames.json"
	[ -f "$j" ] || fail "$c: no frames.json"
	n=$(jq -r .count "$j")
	ffmpeg -nostdin -v quiet -i "$V/$c.mp4" -vf fps=3,scale=160:90 -q:v 4 \
		"$T/ref-$c-%06d.jpg" || true
	ref=$(ls "$T" | grep -c "^ref-$c-")
	[ "$n" -gt 0 ] && [ "$n" = "$ref" ] || fail "$c: $n frames, the ffmpeg program gets $ref"
	jq -e '.warnings | length > 0' "$j" >/dev/null || fail "$c: no warning in frames.json"
	jq -e --arg v "$V/$c.mp4" '.warnings[0] | contains($v)' "$j" >/dev/null ||
		fail "$c: the warning does not name the file: $(jq -c .warnings "$j")"
	echo "$c: $n frames, warning: $(jq -r '.warnings[0]' "$j")"
done
[ "$(jq -r .count "$T/out/g/truncated/frames.json")" -lt 12 ] || fail "truncated: too many frames"

# --- refused up front, at --check and by the worker ------------------------------
# a writer that never writes: the FIFO stays open, reads would block for ever
exec 3<>"$V/stalled.mp4"
export SCANQ_STALL_TIMEOUT_MS=1000
refused() { # NAME VIDEO MESSAGE
	case_dir "$1" "$2"
	rc=0
	timeout 20 scanq-enqueue --check "$T/tasks/$1" >"$T/$1.check" 2>&1 || rc=$?
	[ $rc -ne 0 ] || fail "$1: --check accepted $2"
	[ $rc -ne 124 ] || fail "$1: --check hung"
	grep -q "$1.yaml:[0-9]*:[0-9]*: $3" "$T/$1.check" ||
		fail "$1: --check said: $(cat "$T/$1.check")"
	rc=0
	timeout 20 scanq-worker --local "$T/tasks/$1/$1.yaml" --stage extract \
		>"$T/$1.local" 2>&1 || rc=$?
	[ $rc -ne 0 ] || fail "$1: --local accepted $2"
	[ $rc -ne 124 ] || fail "$1: --local hung"
	grep -q "$3" "$T/$1.local" || fail "$1: --local said: $(cat "$T/$1.local")"
	[ ! -e "$T/out/g/$1/frames.json" ] || fail "$1: frames.json written"
	echo "$1: $(grep -o "$3.*" "$T/$1.check")"
}
refused empty empty.mp4 "cannot open '$V/empty.mp4': empty file"
refused text text.mp4 "cannot open '$V/text.mp4': not a video"
refused audio audio.m4a "'$V/audio.m4a' has no video stream"
refused stalled stalled.mp4 "cannot read '$V/stalled.mp4': no data for 1000 ms (stalled)"
exec 3>&-
unset SCANQ_STALL_TIMEOUT_MS

# --- a disk that fills mid-extraction ---------------------------------------------
# Two tasks, the first writing onto a 256 KiB tmpfs (or, where nothing can be
# mounted, under a file size limit): it must fail cleanly and the worker must
# then run the second.
ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=640x480:rate=30" -t 4 \
	-vf noise=alls=30:allf=t -c:v libx264 -pix_fmt yuv420p "$V/big.mp4" || fail "no big.mp4"
SCANQ_TEST_ATTEMPTS=1 write_acq "$T/tasks/full" full "$T/out-full"
sed -i "s|^extract:.*|extract: { fps: 3, width: -1, height: -1, quality: 2 }|" \
	"$T/tasks/full/acquisition.yaml"
write_task "$T/tasks/full" g a-full "$V/big.mp4"
write_task "$T/tasks/full" g b-ok "$V/good.mp4"
small="$T/out-full/g/a-full"
mkdir -p "$small"
limit=""
if [ -z "${SCANQ_TEST_NO_MOUNT:-}" ] && mount -t tmpfs -o size=256k tmpfs "$small" 2>/dev/null; then
	trap 'umount "$small" 2>/dev/null || true' EXIT
else
	limit=64 # 512-byte blocks: 32 KiB, more than a frame of b-ok, less than one of a-full
	echo "cannot mount a tmpfs here: using a file size limit instead"
fi
scanq-enqueue "$T/tasks/full" >/dev/null || fail "cannot enqueue the disk-full tasks"
(
	[ -z "$limit" ] || {
		trap '' XFSZ # an ignored signal stays ignored across exec
		ulimit -f "$limit"
	}
	exec timeout 120 scanq-worker --stage extract --drain
) 2>"$T/full.log" || true
grep -qi "a-full.*\(no space\|too large\)" "$T/full.log" ||
	fail "the full disk is not reported: $(cat "$T/full.log")"
[ ! -e "$small/frames.json" ] || fail "a-full: frames.json written on a full disk"
[ -z "$(ls "$small")" ] || fail "a-full: temporaries left: $(ls "$small")"
[ -f "$T/out-full/g/b-ok/frames.json" ] || fail "the worker did not go on to b-ok: $(cat "$T/full.log")"
[ "$(jq -r .count "$T/out-full/g/b-ok/frames.json")" = 12 ] || fail "b-ok: wrong frame count"
[ "$(stage_count full extract failed)" = 1 ] || fail "status: extract failed != 1"
[ "$(stage_count full extract done)" = 1 ] || fail "status: extract done != 1"
echo "disk full: a-full failed cleanly, b-ok done: $(grep -o "a-full extract failed.*" "$T/full.log")"
echo "extract-bad: ok"
