# extract-parity.sh - scanq-worker --local's frames against the ffmpeg program's.
#
# Each case makes a short video with the ffmpeg program, extracts it through the
# real extract stage (scanq-worker --local --stage extract) and with
#   ffmpeg -i IN -vf fps=F,scale=W:H -q:v Q ref/frame_%06d.jpg
# (the concat demuxer for chapters), and asserts the same number of frames and
# byte-identical files; a rotated source, which the CLI turns upright with its
# own filters, must match at PSNR >= 40 dB.
. "$SCANQ_TESTS/cli/common.sh"
command -v ffmpeg >/dev/null || fail "the ffmpeg program is needed"

V="$T/videos"
mkdir -p "$V"
SRC="testsrc2=size=320x240"

# gen NAME ARGS...: NAME in $V made by `ffmpeg ARGS`.
gen() {
	_name=$1
	shift
	ffmpeg -nostdin -v error -y "$@" "$V/$_name" || fail "cannot make $_name"
}

gen h264-bf0.mp4 -f lavfi -i "$SRC:rate=30" -t 3 -c:v libx264 -pix_fmt yuv420p -bf 0
gen h264-bf3.mp4 -f lavfi -i "$SRC:rate=25" -t 3 -c:v libx264 -pix_fmt yuv420p -bf 3
gen hevc.mp4 -f lavfi -i "$SRC:rate=30000/1001" -t 3 -c:v libx265 -pix_fmt yuv420p \
	-x265-params log-level=error:bframes=4 -tag:v hvc1
gen vp9.webm -f lavfi -i "$SRC:rate=24000/1001" -t 3 -c:v libvpx-vp9 -deadline realtime \
	-cpu-used 8 -b:v 400k
gen mjpeg.avi -f lavfi -i "$SRC:rate=60000/1001" -t 2 -c:v mjpeg -q:v 5
gen h264-5994.mp4 -f lavfi -i "$SRC:rate=60000/1001" -t 2 -c:v libx264 -pix_fmt yuv420p
# variable frame rate: 1 s at 30 fps, then every 4th frame (7.5 fps)
gen vfr.mp4 -f lavfi -i "$SRC:rate=30" -t 4 -vf "select='lt(n\,30)+not(mod(n\,4))'" \
	-fps_mode vfr -c:v libx264 -pix_fmt yuv420p
# MPEG-TS starts at 1.4 s and carries Annex B H.264
gen offset.ts -f lavfi -i "$SRC:rate=30" -t 3 -c:v libx264 -pix_fmt yuv420p -bf 2
gen anamorphic.mp4 -f lavfi -i "$SRC:rate=25" -t 2 -vf setsar=16/11 -c:v libx264 \
	-pix_fmt yuv420p
gen chap1.mp4 -f lavfi -i "$SRC:rate=30" -t 2.5 -c:v libx264 -pix_fmt yuv420p
gen chap2.mp4 -f lavfi -i "testsrc=size=320x240:rate=30" -t 2 -c:v libx264 -pix_fmt yuv420p
# the mov muxer writes a display matrix for a rotate tag on a stream copy
gen upright.mp4 -f lavfi -i "$SRC:rate=30" -t 2 -c:v libx264 -pix_fmt yuv420p
gen rot90.mp4 -i "$V/upright.mp4" -c copy -metadata:s:v:0 rotate=90
gen rot270.mp4 -i "$V/upright.mp4" -c copy -metadata:s:v:0 rotate=270

# psnr A_DIR B_DIR: average PSNR over the two frame sequences ("inf" if identical).
psnr() {
	ffmpeg -nostdin -hide_banner -i "$1/frame_%06d.jpg" -i "$2/frame_%06d.jpg" \
		-lavfi psnr -f null - 2>&1 | sed -n 's/.* average:\([^ ]*\).*/\1/p' | tail -1
}

# check NAME FPS W H Q MODE VIDEO...: MODE is "bytes" or "psnr".
check() {
	_name=$1 _fps=$2 _w=$3 _h=$4 _q=$5 _mode=$6
	shift 6
	_tasks="$T/tasks/$_name" _ref="$T/ref/$_name"
	write_acq "$_tasks" parity "$T/out/$_name"
	sed -i "s|^extract:.*|extract: { fps: $_fps, width: $_w, height: $_h, quality: $_q }|" \
		"$_tasks/acquisition.yaml"
	_list="$T/$_name.concat"
	: >"$_list"
	_vids=""
	for _v in "$@"; do
		echo "file '$V/$_v'" >>"$_list"
		_vids="$_vids $V/$_v"
	done
	# shellcheck disable=SC2086 # one argument per video
	write_task "$_tasks" g "$_name" $_vids
	scanq-worker --local "$_tasks/$_name.yaml" --stage extract 2>"$T/$_name.log" ||
		fail "$_name: scanq-worker failed: $(cat "$T/$_name.log")"
	mkdir -p "$_ref"
	if [ $# -gt 1 ]; then
		set -- -f concat -safe 0 -i "$_list"
	else
		set -- -i "$V/$1"
	fi
	ffmpeg -nostdin -v error "$@" -vf "fps=$_fps,scale=$_w:$_h" -q:v "$_q" \
		"$_ref/frame_%06d.jpg" || fail "$_name: the ffmpeg program failed"
	_out="$T/out/$_name/g/$_name/frames"
	_n=$(ls "$_ref" | wc -l)
	_got=$(ls "$_out" | wc -l)
	[ "$_n" -gt 0 ] && [ "$_got" = "$_n" ] || fail "$_name: $_got frames, the CLI made $_n"
	[ "$(jq -r .count "$T/out/$_name/g/$_name/frames.json")" = "$_n" ] ||
		fail "$_name: frames.json count is not $_n"
	if [ "$_mode" = bytes ]; then
		(cd "$_ref" && md5sum frame_*.jpg) >"$T/$_name.ref.md5"
		(cd "$_out" && md5sum -c --quiet "$T/$_name.ref.md5") >"$T/$_name.diff" 2>&1 ||
			fail "$_name: frames differ from the CLI's (psnr $(psnr "$_ref" "$_out")):
$(head -5 "$T/$_name.diff")"
	else
		_size=$(identify_size "$_ref/frame_000001.jpg")
		[ "$_size" = "$(identify_size "$_out/frame_000001.jpg")" ] ||
			fail "$_name: frames are not $_size like the CLI's"
		_p=$(psnr "$_ref" "$_out")
		case $_p in
		inf) ;;
		*) awk -v p="$_p" 'BEGIN { exit !(p + 0 >= 40) }' ||
			fail "$_name: psnr $_p dB against the CLI, want >= 40" ;;
		esac
		_mode="psnr $_p dB"
	fi
	echo "$_name: $_n frames match the ffmpeg program ($_mode)"
}

# identify_size JPEG: WxH as ffprobe reads it.
identify_size() {
	ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=p=0:s=x "$1"
}

check h264-bf0 3 160 90 4 bytes h264-bf0.mp4
check h264-bf3 2 160 -1 3 bytes h264-bf3.mp4
check hevc-2997 3 160 90 4 bytes hevc.mp4
check vp9-23976 3 -1 120 5 bytes vp9.webm
check mjpeg-5994 3 160 90 4 bytes mjpeg.avi
check h264-5994 5 160 90 4 bytes h264-5994.mp4
check vfr 3 160 90 4 bytes vfr.mp4
check start-offset 3 160 90 4 bytes offset.ts
check anamorphic 3 200 -1 4 bytes anamorphic.mp4
check chapters 3 160 90 4 bytes chap1.mp4 chap2.mp4
check rotated-90 3 160 -1 4 psnr rot90.mp4
check rotated-270 3 -1 100 4 psnr rot270.mp4
echo "extract-parity: ok"
