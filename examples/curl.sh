#!/usr/bin/env bash
# Queue a song with curl, wait for it, download the MP3.
#   SONGWRIGHT_URL=http://127.0.0.1:8000 SONGWRIGHT_API_KEY=... bash examples/curl.sh song.mp3
set -euo pipefail
URL="${SONGWRIGHT_URL:-http://127.0.0.1:8000}"
OUT="${1:-song.mp3}"
AUTH=()
if [ -n "${SONGWRIGHT_API_KEY:-}" ]; then AUTH=(-H "Authorization: Bearer $SONGWRIGHT_API_KEY"); fi

# 1. queue it (Prefer: wait=30 returns the finished song at once when it takes under 30 s)
job=$(curl -sS --fail-with-body "${AUTH[@]}" -H "Content-Type: application/json" -H "Prefer: wait=30" \
  -d '{"tags": "lofi, chill, piano", "lyrics": "[verse]\nRain on the window\n[chorus]\nStay a little longer", "duration_s": 20}' \
  "$URL/v1/songs")
id=$(printf '%s' "$job" | sed -n 's/^{"id":"\([0-9a-f]*\)".*/\1/p')
echo "job $id" >&2

# 2. poll until it has finished
until printf '%s' "$job" | grep -qE '"status":"(succeeded|failed|canceled)"'; do
  sleep 1
  job=$(curl -sS --fail-with-body "${AUTH[@]}" "$URL/v1/songs/$id")
done
printf '%s' "$job" | grep -q '"status":"succeeded"' || { echo "$job" >&2; exit 1; }

# 3. download the mix (also: audio?format=wav|flac|ogg, stems.zip, midi, lrc, json)
curl -sS --fail-with-body "${AUTH[@]}" -o "$OUT" "$URL/v1/songs/$id/audio?format=mp3"
echo "$OUT" >&2
