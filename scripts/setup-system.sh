#!/usr/bin/env bash
# Installs the system packages Songwright renders with: FluidSynth and GM soundfonts (FluidR3,
# MuseScore General for the parts a style draws from it, the AVL sampled drum kits),
# espeak-ng and MBROLA with its voices (Debian contrib/non-free), Festival with its slt HTS voice and
# libhtsengine1 (the female English lead), sox; for the service, redis-server
# (scale-out on Redis, and its test) and chromium (the web page's browser test).
# Idempotent: running it again changes nothing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

PACKAGES=(
  fluidsynth libfluidsynth3 fluid-soundfont-gm
  musescore-general-soundfont-lossless avldrums.lv2-soundfont
  espeak-ng sox
  mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 mbrola-cn1
  mbrola-es3 mbrola-es1 mbrola-fr4 mbrola-fr1 mbrola-de1 mbrola-de2 mbrola-it4 mbrola-it3
  mbrola-br4 mbrola-br1 mbrola-nl3 mbrola-nl2 mbrola-jp2 mbrola-jp1 mbrola-hn1
  festival festvox-us-slt-hts libhtsengine1
  redis-server chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

# MBROLA and its voices live in contrib/non-free.
SRC=/etc/apt/sources.list.d/songwright-nonfree.sources
if ! grep -rqs "non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  $SUDO tee "$SRC" >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "system packages: installed ${missing[*]}"
