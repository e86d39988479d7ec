#!/usr/bin/env bash
# Runs every benchmark of Pedigree in one go and prints the table of BENCHMARKS.md.
# Usage: Benchmarks/run.sh [SIZE_MB] (default 2048: a pair of 2 GB F16 checkpoints).
# Installs what it needs: GNU time (Debian), numpy + safetensors + diffai-python (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-2048}
SMALL=$((SIZE / 4))
DIR=${BENCH_DIR:-/tmp/pedigree-bench}
SWIFT=$(command -v swift || echo /opt/swift/usr/bin/swift)

make deps >/dev/null
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
python3 -c "import numpy, safetensors" 2>/dev/null || pip install -q numpy safetensors
python3 -c "import diffai" 2>/dev/null || pip install -q diffai-python || echo "diffai-python did not install"

"$SWIFT" build -c release --product pedigree >/dev/null
"$SWIFT" build -c release --product PedigreeBenchmarks >/dev/null
BIN=.build/release
mkdir -p "$DIR"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GB"
echo "openblas core: $($BIN/PedigreeBenchmarks corename 2>/dev/null || echo unknown)"

# Checkpoints (made once with the project's own writer) and the physical limit.
$BIN/PedigreeBenchmarks make --size-mb "$SIZE" --dir "$DIR"
$BIN/PedigreeBenchmarks make --size-mb "$SMALL" --dir "$DIR"
A="$DIR/base-$SIZE"; B="$DIR/finetune-$SIZE"
read_once=$($BIN/PedigreeBenchmarks readonce "$A/model.safetensors" "$B/model.safetensors")

seconds() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
# The best time of three runs, with the largest peak RSS of the three.
best3() { for _ in 1 2 3; do seconds "$@"; done | sort -n | awk 'NR == 1 { t = $1 } { if ($2 > m) m = $2 } END { print t, m }'; }
compare=$(best3 $BIN/pedigree compare "$A" "$B" --format json)
compare_haswell=$(OPENBLAS_CORETYPE=Haswell best3 $BIN/pedigree compare "$A" "$B" --format json)
similarity=$($BIN/PedigreeBenchmarks similarity "$A" "$B")
compare_small=$(best3 $BIN/pedigree compare "$DIR/base-$SMALL" "$DIR/finetune-$SMALL" --format json)
inspect=$($BIN/PedigreeBenchmarks inspect "$A")
numpy=$(python3 Benchmarks/numpy_cosine.py "$A/model.safetensors" "$B/model.safetensors" | cut -d' ' -f1)
diffai=$(python3 -c "
import time, sys
try:
    import diffai
except ImportError:
    print('n/a'); sys.exit()
t = time.perf_counter(); r = diffai.diff_paths('$A/model.safetensors', '$B/model.safetensors')
print('%.3f (%d differences reported)' % (time.perf_counter() - t, len(r)))")

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
c_time=${compare% *}; c_rss=${compare#* }
s_rss=${compare_small#* }
echo
echo "| measure | value | ratio |"
echo "|---|---|---|"
echo "| read both $SIZE MB files once | ${read_once} s | 1.00 |"
echo "| pedigree compare (all analyses, best of 3) | ${c_time} s | $(ratio "$c_time" "$read_once") x read-once |"
echo "| the same with OPENBLAS_CORETYPE=Haswell | ${compare_haswell% *} s | $(ratio "${compare_haswell% *}" "$read_once") x read-once |"
echo "| similarity pass alone (Pedigree.measure, best of 3) | ${similarity} s | $(ratio "$similarity" "$read_once") x read-once |"
echo "| numpy + safetensors per-tensor cosine | ${numpy} s | similarity pass $(ratio "$numpy" "$similarity") x, compare $(ratio "$numpy" "$c_time") x faster |"
echo "| diffai (diffai-python) | ${diffai} | |"
echo "| peak RSS, $SIZE MB pair | $((c_rss / 1024)) MB | |"
echo "| peak RSS, $SMALL MB pair | $((s_rss / 1024)) MB | |"
echo "| pedigree compare, $SMALL MB pair (best of 3) | ${compare_small% *} s | |"
echo "| pedigree inspect (in process, median of 20) | ${inspect} ms | |"
echo
$BIN/PedigreeBenchmarks dequant 64 64 2>/dev/null || true
$BIN/PedigreeBenchmarks dequant 64 16 2>/dev/null || true
$BIN/PedigreeBenchmarks delta-svd 2>/dev/null || true
$BIN/PedigreeBenchmarks alignment 1536 11008 2>/dev/null || true
