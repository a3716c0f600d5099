#!/usr/bin/env bash
# Builds the fuzzers with libFuzzer + AddressSanitizer and runs each for SECONDS (default 60):
#   parser-fuzz  the HTTP/1.1 request-head parser and the chunked-body decoder
#                (Sources/HTTPServer/Parsing, HTTPTypes.swift, Sources/JSON for its name matching,
#                Posix/PerThread.swift and the CSystem target for its recent strings; seeds fuzz/seeds/)
#   json-fuzz    the JSON parser and writer behind every request body
#                (Sources/JSON; seeds fuzz/json-seeds/)
#   v2-fuzz      the Open Inference Protocol infer decoder, JSON header and binary tensor data
#                (Sources/Service/Protocols/V2InferRequest.swift; seeds fuzz/v2-seeds/), checked
#                against the tree-walking reference decoder (Tests/ServiceTests/V2ReferenceDecoder.swift),
#                and the signature-aware decoder (V2ListingDecoder.swift) against the general path
# Usage: fuzz/run.sh [SECONDS] [parser|json|v2|all]   (default all)
# Corpora: fuzz/corpus/, fuzz/json-corpus/, fuzz/v2-corpus/ (grow across runs, gitignored).
# A crash leaves its input as fuzz/crash-<sha1>; replay with: fuzz/bin/<name> fuzz/crash-<sha1>
set -euo pipefail
seconds="${1:-60}"
which="${2:-all}"
here="$(cd "$(dirname "$0")" && pwd)"
sources="$here/../Sources"
mkdir -p "$here/bin"

count_crashes() { find "$here" -maxdepth 1 -name 'crash-*' | wc -l; }

# fuzz_target NAME MODULE SEEDS CORPUS SOURCES...: builds fuzz/bin/NAME, runs it, prints one line.
fuzz_target() {
    local name=$1 module=$2 seeds=$3 corpus=$4; shift 4
    mkdir -p "$corpus"
    # The linker prints hundreds of harmless "Cannot export local symbol __asan_…" warnings;
    # they are kept out of the way and shown only if the build fails.
    if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name "$module" "$@" \
        -o "$here/bin/$name" >"$here/bin/$name-build.log" 2>&1; then
        grep -v 'Cannot export local symbol' "$here/bin/$name-build.log" >&2
        return 1
    fi
    local log="$here/bin/$name-last-run.log" before status
    before=$(count_crashes)
    set +e
    SWIFT_BACKTRACE=enable=no "$here/bin/$name" "$corpus" "$seeds" \
        -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$here/" >"$log" 2>&1
    status=$?
    set -e
    local execs rate inputs
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
    rate=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
    inputs=$(find "$corpus" -type f | wc -l)
    echo "fuzz $name: ${execs:-?} execs, ${rate:-?} exec/s over ${seconds}s; corpus ${inputs} inputs;" \
         "new crashes: $(($(count_crashes) - before)); libFuzzer exit status ${status}; log: ${log}"
    if [ "$status" -ne 0 ]; then
        grep -E 'ERROR|Fatal error|Precondition failed|invariant broken|Test unit written' "$log" | head -20
    fi
    return "$status"
}

# The C target PerThread imports (its thread-local slots), as SwiftPM would give it: a module
# map over its header, and its source compiled with the same sanitizers.
csystem_module() {
    local dir="$here/bin/csystem"
    mkdir -p "$dir"
    printf 'module CSystem {\n    header "%s"\n    export *\n}\n' "$sources/CSystem/include/CSystem.h" >"$dir/module.modulemap"
    clang -fsanitize=fuzzer-no-link,address -O2 -c "$sources/CSystem/shim.c" -I "$sources/CSystem/include" \
        -o "$dir/shim.o"
}

status=0
if [ "$which" = all ] || [ "$which" = parser ]; then
    csystem_module
    fuzz_target parser-fuzz ParserFuzz "$here/seeds" "$here/corpus" -I "$here/bin/csystem" "$here/bin/csystem/shim.o" \
        "$sources"/HTTPServer/Parsing/*.swift "$sources/HTTPServer/HTTPTypes.swift" "$sources"/JSON/*.swift \
        "$sources/Posix/PerThread.swift" "$here/ParserFuzz.swift" || status=1
fi
if [ "$which" = all ] || [ "$which" = json ]; then
    fuzz_target json-fuzz JSONFuzz "$here/json-seeds" "$here/json-corpus" \
        "$sources"/JSON/*.swift "$here/JSONFuzz.swift" || status=1
fi
if [ "$which" = all ] || [ "$which" = v2 ]; then
    fuzz_target v2-fuzz V2Fuzz "$here/v2-seeds" "$here/v2-corpus" -D V2_FUZZ \
        "$sources"/Service/Protocols/V2InferRequest.swift "$sources"/Service/Protocols/V2Signature.swift \
        "$sources"/Service/Protocols/OutputTensorNames.swift \
        "$sources"/Service/Protocols/V2ListingDecoder.swift "$sources"/Service/Models/ArrayFilling.swift \
        "$sources"/Inference/FeatureValue.swift "$sources"/JSON/*.swift \
        "$here/../Tests/ServiceTests/V2ReferenceDecoder.swift" \
        "$here/V2Fuzz.swift" || status=1
fi
exit "$status"
