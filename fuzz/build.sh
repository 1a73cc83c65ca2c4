#!/usr/bin/env bash
# Builds the libFuzzer harnesses: wasm2c turns the scalar core (no SIMD: wabt 1.0.32's
# wasm2c has none) into C, and clang compiles it with the runtime and each harness under
# -fsanitize=fuzzer,address. Output (generated C, objects, binaries) goes to
# $FUZZ_BUILD_DIR (default fuzz/build/, gitignored): generated C is never committed.
#
#   fuzz/build.sh                 # builds every harness (fuzz/*.c except core glue)
#   FUZZ_BUILD_DIR=/tmp/x fuzz/build.sh parse_head
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="${FUZZ_BUILD_DIR:-$here/build}"
core="$root/dist/tophat-http.scalar.core.wasm"
CC="${CC:-clang}"

for tool in wasm2c "$CC"; do
  command -v "$tool" >/dev/null || { echo "fuzz/build.sh: $tool not found (apt-get install -y wabt clang libfuzzer-14-dev)" >&2; exit 2; }
done
if [[ ! -f $core ]]; then
  echo "fuzz/build.sh: $core is missing, running npm run build" >&2
  (cd "$root" && npm run build >&2)
fi

# wasm2c's runtime: Debian's wabt ships the source under /usr/share/wabt/wasm2c.
rt=""
for d in "${WASM2C_RUNTIME:-}" /usr/share/wabt/wasm2c /usr/src/wasm2c /usr/local/share/wabt/wasm2c; do
  [[ -n $d && -f $d/wasm-rt-impl.c ]] && { rt="$d"; break; }
done
[[ -n $rt ]] || { echo "fuzz/build.sh: wasm-rt-impl.c not found (set WASM2C_RUNTIME)" >&2; exit 2; }
inc=""
[[ -f $rt/wasm-rt.h ]] || inc="-I/usr/include"

mkdir -p "$out"
wasm2c "$core" -n tophat -o "$out/tophat_core.c"

# Explicit bounds checks instead of guard pages + a SIGSEGV handler (which would fight
# ASan's): an out-of-bounds access is still exactly a wasm trap.
defs="-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0"
flags="-g -O1 -fno-omit-frame-pointer $defs -I$out -I$here -I$rt $inc"
# Only the core and the glue are instrumented for coverage; the runtime gets ASan only.
"$CC" $flags -fsanitize=fuzzer-no-link,address -w -c "$out/tophat_core.c" -o "$out/tophat_core.o"
"$CC" $flags -fsanitize=address -w -c "$rt/wasm-rt-impl.c" -o "$out/wasm-rt-impl.o"

harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  for f in "$here"/*.c; do harnesses+=("$(basename "$f" .c)"); done
fi
for h in "${harnesses[@]}"; do
  "$CC" $flags -fsanitize=fuzzer,address -Wall -Wextra -Werror \
    "$here/$h.c" "$out/tophat_core.o" "$out/wasm-rt-impl.o" -lm -o "$out/$h"
  echo "built $out/$h"
done
