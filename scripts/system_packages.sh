#!/usr/bin/env bash
# What Debian must provide besides Python: Pango for WeasyPrint, and the DejaVu fonts the report
# uses (and, for `make test`, poppler-utils). `make report` and `make test` run this first. As root
# with apt-get it installs what is missing; otherwise it prints the one apt-get line to run and fails.
set -euo pipefail

missing=()
# grep reads all its input: with pipefail, grep -q would let the writer die of SIGPIPE.
has_library() { ldconfig -p | grep "$1" >/dev/null; }
has_library 'libpango-1.0.so.0' || missing+=(libpango-1.0-0)
has_library 'libpangoft2-1.0.so.0' || missing+=(libpangoft2-1.0-0)
command -v fc-list >/dev/null || missing+=(fontconfig)
{ fc-list 2>/dev/null || true; } | grep -i 'DejaVu Sans' >/dev/null || missing+=(fonts-dejavu-core)
# `make test` (argument "test"): the tests of the public cohorts read the report with pdftotext.
[[ ${1:-} == test ]] && ! command -v pdftotext >/dev/null && missing+=(poppler-utils)

[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "Installing what the report needs from Debian: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh system has no package lists yet; an install that finds nothing reads them first.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
    exit 0
fi
echo "The report needs Pango (WeasyPrint) and the DejaVu fonts, the tests also poppler-utils. Install them with:"
echo "  sudo apt-get install -y ${missing[*]}"
exit 1
