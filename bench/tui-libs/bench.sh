#!/bin/sh
# Runs run.mjs for each library in a detached tmux window of 160x50 (a real pty), one after the other;
# results to $1 (a directory). Usage: bench.sh OUTDIR [SECONDS]
set -eu
out=$1; secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for lib in raw termkit ink; do
  tmux new-session -d -s "tuibench-$$-$lib" -x 160 -y 50 "cd '$here' && node run.mjs $lib --seconds $secs --out '$out/$lib.json'; tmux wait-for -S tuibench-$$-$lib-done"
  tmux wait-for "tuibench-$$-$lib-done"
done
