#!/usr/bin/env bash
# Build the one-folder app and run the bundled binary as a user would (what CI runs):
#   --version, doctor, a render of the bundled example at 320x180 (checked with ffprobe) using the
#   bundle's own ffmpeg and espeak-ng, `serve` answering /health, and the GUI starting offscreen and quitting.
#   packaging/smoke.sh              build, then check
#   SMOKE_SKIP_BUILD=1 packaging/smoke.sh   check an existing packaging/dist/filmstudio
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${FILMSTUDIO_BUNDLE_DIR:-"$ROOT/packaging"}
export FILMSTUDIO_BUNDLE_DIR="$OUT"
[ "${SMOKE_SKIP_BUILD:-0}" = 1 ] || packaging/build.sh
BIN="$OUT/dist/filmstudio/filmstudio"
[ -x "$BIN" ] || { echo "smoke: no bundle at $BIN" >&2; exit 1; }
command -v ffprobe >/dev/null || { echo "smoke: ffprobe is needed to check the render" >&2; exit 1; }

TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
export FILMSTUDIO_HOME="$TMP/home" FILMSTUDIO_SECRETS_BACKEND=file
# A PATH with no ffmpeg or espeak-ng on it: the bundle must bring its own.
mkdir -p "$TMP/bin"
BARE_PATH="$TMP/bin"
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
pass() { echo "smoke: ok: $*"; }

want=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/filmstudio/__init__.py)
got=$("$BIN" --version)
[ "$got" = "filmstudio $want" ] || fail "--version said '$got', want 'filmstudio $want'"
pass "--version: $got"

PATH="$BARE_PATH" "$BIN" doctor > "$TMP/doctor.txt" || { cat "$TMP/doctor.txt"; fail "doctor"; }
grep -q "^ok      ffmpeg" "$TMP/doctor.txt" || fail "doctor found no ffmpeg: $(cat "$TMP/doctor.txt")"
grep -q "^ok      tts" "$TMP/doctor.txt" || fail "doctor found no TTS: $(cat "$TMP/doctor.txt")"
grep -q "_internal" "$TMP/doctor.txt" || fail "doctor did not use the bundled espeak-ng"
pass "doctor (bundled ffmpeg and espeak-ng)"

PATH="$BARE_PATH" "$BIN" demo -o "$TMP/film.mp4" --duration 45 --size 320x180 -q > "$TMP/render.txt" 2>&1 \
    || { cat "$TMP/render.txt"; fail "render of the bundled example"; }
streams=$(ffprobe -v error -show_entries stream=codec_type,codec_name,width,height -of csv=p=0 "$TMP/film.mp4")
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$TMP/film.mp4")
echo "$streams" | grep -q "^h264,video,320,180$" || fail "video stream: $streams"
echo "$streams" | grep -q "^aac,audio" || fail "audio stream: $streams"
awk -v d="$duration" 'BEGIN { exit !(d >= 43.6 && d <= 46.4) }' || fail "duration $duration, want 45 +- 3 %"
[ -s "$TMP/film.jpg" ] && [ -s "$TMP/film.manifest.json" ] || fail "thumbnail or manifest missing"
pass "render: $(echo "$streams" | tr '\n' ' ')${duration}s"

free_port() { "$BIN" --version >/dev/null; echo $(( 20000 + RANDOM % 20000 )); }
health() {  # curl when there is one; else bash's /dev/tcp
    if command -v curl >/dev/null; then curl -fsS "http://127.0.0.1:$1/health"; return; fi
    exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && cat <&3 | grep -q '"ok"'
}
PORT=$(free_port)
"$BIN" serve --port "$PORT" --workers 0 > "$TMP/serve.txt" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do health "$PORT" >/dev/null 2>&1 && break; sleep 0.2; done
health "$PORT" >/dev/null 2>&1 || { cat "$TMP/serve.txt"; fail "serve did not answer /health"; }
kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}" || true
grep -q "listening on 127.0.0.1:$PORT" "$TMP/serve.txt" || fail "serve did not log where it listens"
pass "serve answered /health on port $PORT"

PORT=$(free_port)
mkdir -p "$TMP/xdg"
QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$TMP/xdg" XDG_RUNTIME_DIR="$TMP/xdg" FILMSTUDIO_PORT="$PORT" \
    FILMSTUDIO_QUIT_AFTER_MS=4000 timeout 120 "$BIN" app > "$TMP/app.txt" 2>&1 \
    || { cat "$TMP/app.txt"; fail "the GUI did not start and quit cleanly"; }
grep -q "FilmStudio worker on" "$FILMSTUDIO_HOME/worker.log" 2>/dev/null \
    || fail "the app's render worker (the bundle started again as \`filmstudio worker\`) did not run"
pass "GUI started offscreen and quit"
echo "smoke: all passed ($(du -sh "$OUT/dist/filmstudio" | cut -f1) bundle)"
