#!/usr/bin/env python3
"""Checks on the built BPF object that only an old kernel would otherwise catch.
  check-bpf-object.py OBJ  -> lists offending functions, exit 1 if any

1. Back-edges (pre-6.x check_cfg rule): a loop's back-edge must be a jump
   instruction. Older kernels (e.g. 6.1) reject a back-edge that is the
   fall-through of a call or an ordinary instruction ("back-edge from insn X
   to Y"); newer kernels accept it.
2. bpf_loop (helper 181, 5.17+) only in programs named *_loop: the others must
   load on 5.10, whose verifier refuses the callback reference even in dead code.

Every function is checked on its own: programs sharing a section (X and X_loop)
and the .text subprograms (bpf_loop callbacks) included."""
import re, subprocess, sys

BPF_FUNC_LOOP = 181
obj = sys.argv[1]
out = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", obj], capture_output=True, text=True, check=True).stdout
funcs, cur = {}, None  # (section, function) -> {insn index: text}
sec = None
for line in out.splitlines():
    m = re.match(r"^Disassembly of section (.+):$", line)
    if m:
        sec = m.group(1); cur = None; continue
    m = re.match(r"^[0-9a-f]+ <([A-Za-z_][\w.]*)>:$", line)
    if m and not m.group(1).startswith("LBB"):
        cur = (sec, m.group(1)); funcs[cur] = {}; continue
    m = re.match(r"^\s*(\d+):\t(.*)$", line)
    if m and cur is not None:
        funcs[cur][int(m.group(1))] = m.group(2).strip()
bad = 0
for (sec, name), insns in funcs.items():
    if not insns:
        continue
    if not name.endswith("_loop") and not sec.startswith(".text"):
        for t, s in insns.items():
            if re.fullmatch(rf"call {BPF_FUNC_LOOP}", s):
                print(f"{obj}: {sec}/{name}: calls bpf_loop at insn {t} but is not a *_loop program: it would not load on 5.10")
                bad += 1
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
            if w is None or w not in insns:
                continue
            if state.get(w) == 1 and not is_jump:
                print(f"{obj}: {sec}/{name}: back-edge from insn {t} to {w} is a fall-through ({insns[t]!r}): refused by older kernels (seen on 6.1)")
                bad += 1
            if w not in state:
                state[w] = 1
                stack.append((w, iter(edges(w))))
                break
        else:
            state[t] = 2
            stack.pop()
    print(f"{sec}/{name}: {len(insns)} insns", file=sys.stderr) if "-v" in sys.argv else None
sys.exit(1 if bad else 0)
