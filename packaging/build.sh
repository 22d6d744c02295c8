#!/usr/bin/env bash
# Build the one-folder app into packaging/dist/filmstudio/ with the project's venv (pyinstaller installed).
#   packaging/build.sh            prints the bundle's size and how long the build took
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-"$ROOT/.venv/bin/python"}
OUT=${FILMSTUDIO_BUNDLE_DIR:-"$ROOT/packaging"}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install -q pyinstaller
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$OUT/dist" --workpath "$OUT/build" packaging/filmstudio.spec
took=$(( $(date +%s) - start ))
size=$(du -sh "$OUT/dist/filmstudio" | cut -f1)
echo "bundle: $OUT/dist/filmstudio ($size), built in ${took}s"
