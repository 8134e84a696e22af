#!/usr/bin/env python3
"""Apply the pre-6.x verifier's check_cfg rule to a BPF object: a loop's
back-edge must be a jump instruction (older kernels, e.g. 6.1, reject a back-edge
that is the fall-through of a call or an ordinary instruction, "back-edge from
insn X to Y"). Newer kernels accept it, so only old kernels would catch it.
  check-backedges.py OBJ  -> lists offending programs, exit 1 if any"""
import re, subprocess, sys

obj = sys.argv[1]
out = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", obj], capture_output=True, text=True, check=True).stdout
progs, cur = {}, None
for line in out.splitlines():
    m = re.match(r"^Disassembly of section (.+):$", line)
    if m:
        cur = m.group(1); progs[cur] = {}; continue
    m = re.match(r"^\s*(\d+):\t(.*)$", line)
    if m and cur is not None:
        progs[cur][int(m.group(1))] = m.group(2).strip()
bad = 0
for sec, insns in progs.items():
    if not insns or sec.startswith(".text"):
        continue
    idx = sorted(insns)
    nxt = {a: b for a, b in zip(idx, idx[1:])}
    def edges(t):
        s = insns[t]
        if s == "exit":
            return []
        m = re.search(r"goto ([+-]\d+)", s)
        if m:
            tgt = t + int(m.group(1)) + 1
            if s.startswith("goto"):
                return [(tgt, True)]
            return [(nxt.get(t), True), (tgt, True)]
        # ld_imm64 takes two slots; everything else (calls included) falls through
        return [(nxt.get(t), False)]
    state, stack = {}, [(idx[0], iter(edges(idx[0])))]
    state[idx[0]] = 1
    while stack:
        t, it = stack[-1]
        for w, is_jump in it:
            if w is None:
                continue
            if state.get(w) == 1 and not is_jump:
                print(f"{obj}: {sec}: back-edge from insn {t} to {w} is a fall-through ({insns[t]!r}): refused by older kernels (seen on 6.1)")
                bad += 1
            if w not in state:
                state[w] = 1
                stack.append((w, iter(edges(w))))
                break
        else:
            state[t] = 2
            stack.pop()
sys.exit(1 if bad else 0)
