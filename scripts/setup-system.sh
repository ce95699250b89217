#!/usr/bin/env bash
# System packages the tests need and PyPI does not provide: Debian's Chromium (tests of the map
# pages), Noto CJK fonts (Japanese text in screenshots) and poppler (reading the PDF handout).
# Not needed to run kenmap.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)  # the handout's text and pages
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: the browser tests need ${need[*]} from Debian; run as root or install them" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
    >/dev/null
fi
