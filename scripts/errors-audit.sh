#!/usr/bin/env bash
# errors-audit: fails when code reachable from Python can panic or bypasses the
# error story. Scans non-test Rust code of the given directories (default: the
# recorder and faultfs sources) for unwrap(, expect(, panic!, unreachable!,
# todo!, unimplemented!, PyRuntimeError::new_err and print!/println!.
# A file's code after its first `#[cfg(test)]` line is test code; comment lines
# are ignored.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$#" -eq 0 ]; then
    set -- "$ROOT/crates/recorder/src" "$ROOT/crates/faultfs/src"
fi

PATTERN='(\.unwrap\(\)|\.expect\(|(^|[^A-Za-z0-9_])(panic|unreachable|todo|unimplemented|println|print)!|PyRuntimeError::new_err)'

found=0
while IFS= read -r -d '' file; do
    case "$file" in */tests/* | */tests.rs | */benches/*) continue ;; esac
    hits="$(awk -v pat="$PATTERN" '
        /^[[:space:]]*#\[cfg\(test\)\]/ { exit }
        /^[[:space:]]*\/\// { next }
        $0 ~ pat { printf "%s:%d: %s\n", FILENAME, FNR, $0 }
    ' "$file")"
    if [ -n "$hits" ]; then
        printf '%s\n' "$hits"
        found=1
    fi
done < <(find "$@" -name '*.rs' -print0 | sort -z)

if [ "$found" -ne 0 ]; then
    echo "errors-audit: the lines above can panic or print to stdout; return a RecorderError instead." >&2
    exit 1
fi
echo "errors-audit: clean ($*)" >&2
