#!/usr/bin/env bash
# Builds the parser fuzzer with libFuzzer + AddressSanitizer and runs it for SECONDS
# (default 60). Usage: fuzz/run.sh [SECONDS]
# Seeds: fuzz/seeds/ (committed). Corpus: fuzz/corpus/ (grows across runs, gitignored).
# A crash leaves its input as fuzz/crash-<sha1>; replay with: fuzz/bin/parser-fuzz fuzz/crash-<sha1>
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
sources="$here/../Sources/HTTPServer"
mkdir -p "$here/bin" "$here/corpus"

# The linker prints hundreds of harmless "Cannot export local symbol __asan_…" warnings;
# keep them in a build log and show only errors.
if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name ParserFuzz \
    "$sources"/Parsing/*.swift "$sources/HTTPTypes.swift" "$here/ParserFuzz.swift" \
    -o "$here/bin/parser-fuzz" >"$here/bin/build.log" 2>&1; then
    grep -v 'Cannot export local symbol' "$here/bin/build.log" >&2
    exit 1
fi

log="$here/bin/last-run.log"
count_crashes() { find "$here" -maxdepth 1 -name 'crash-*' | wc -l; }
crashes_before=$(count_crashes)
set +e
# SWIFT_BACKTRACE=enable=no: the Swift runtime's own crash backtracer would otherwise
# spend minutes symbolicating before libFuzzer can save the crashing input.
SWIFT_BACKTRACE=enable=no "$here/bin/parser-fuzz" "$here/corpus" "$here/seeds" \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$here/" >"$log" 2>&1
status=$?
set -e
crashes_after=$(count_crashes)

execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
rate=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
corpus=$(find "$here/corpus" -type f | wc -l)
echo "fuzz: ${execs:-?} execs, ${rate:-?} exec/s over ${seconds}s; corpus ${corpus} inputs;" \
     "new crashes: $((crashes_after - crashes_before)); libFuzzer exit status ${status}; log: ${log}"
if [ "$status" -ne 0 ]; then
    grep -E 'ERROR|Fatal error|Precondition failed|Test unit written' "$log" | head -20
fi
exit "$status"
