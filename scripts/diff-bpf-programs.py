#!/usr/bin/env python3
"""Compare two builds of the BPF object program by program.

  diff-bpf-programs.py BEFORE.o AFTER.o [--show] [--verifier-stats]

Instructions: llvm-objdump -dr of each function (programs and the .text
subprograms, i.e. bpf_loop callbacks), with instruction addresses dropped and
relocations folded into the instruction they patch (a map reference reads
`r1 = 0 ll <events>`; a callback address is resolved to the callback's name, so
moving it inside .text is not a difference). Also compared: each program's
section (the attach type libbpf derives from it) and the map symbols.

--show prints a unified diff of every program that differs.

--verifier-stats (root) loads each object the way execlens does, once per
plan this kernel offers (execlens doctor --json --verifier-stats with
--attach/--lifecycle/--loops), and prints processed instructions per program
before and after. Each object is loaded from a temporary copy of the package
(dist/ copied, node_modules linked), so the checkout's build is not touched.

Exit status: 0 when every program is identical, 1 when some differ (the report
says which), 2 on bad usage or a failed tool.
"""
import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def disassemble(obj):
    """{function: {'section': str, 'insns': [str]}} and {map symbols}"""
    out = subprocess.run(["llvm-objdump", "-dr", "--no-show-raw-insn", obj],
                         capture_output=True, text=True, check=True).stdout
    funcs, cur, sec = {}, None, None
    for line in out.splitlines():
        m = re.match(r"^Disassembly of section (.+):$", line)
        if m:
            sec, cur = m.group(1), None
            continue
        m = re.match(r"^([0-9a-f]+) <([A-Za-z_][\w.]*)>:$", line)
        if m and not m.group(2).startswith("LBB"):
            cur = m.group(2)
            funcs[cur] = {"section": sec, "start": int(m.group(1), 16), "insns": []}
            continue
        if cur is None:
            continue
        m = re.match(r"^\s*(\d+):\t(.*)$", line)
        if m:
            # a jump names its target block: compare that, not the distance (an insn added
            # between them is already a difference of its own)
            insn = re.sub(r"goto [+-]\d+ <(LBB\w+)>", r"goto <\1>", m.group(2).strip())
            funcs[cur]["insns"].append(insn)
            continue
        m = re.match(r"^\s*[0-9a-f]+:\s+(R_BPF_\w+)\s+(\S+)", line)
        if m and funcs[cur]["insns"]:
            funcs[cur]["insns"][-1] += f" <{m.group(1)} {m.group(2)}>"
    # a callback address is an offset into .text: name it
    text = sorted((f["start"], n) for n, f in funcs.items() if f["section"] == ".text")
    for f in funcs.values():
        f["insns"] = [resolve_text(i, text) for i in f["insns"]]
    syms = subprocess.run(["llvm-readelf", "-sW", obj], capture_output=True, text=True, check=True).stdout
    maps = set()
    secnames = section_names(obj)
    for line in syms.splitlines():
        p = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(p) >= 8 and p[3] == "OBJECT" and p[6].isdigit() and secnames.get(int(p[6])) == ".maps":
            maps.add(p[7])
    return funcs, maps


def section_names(obj):
    out = subprocess.run(["llvm-readelf", "-SW", obj], capture_output=True, text=True, check=True).stdout
    names = {}
    for line in out.splitlines():
        m = re.match(r"^\s*\[\s*(\d+)\]\s+(\S+)", line)
        if m:
            names[int(m.group(1))] = m.group(2)
    return names


def resolve_text(insn, text):
    m = re.match(r"^(r\d+ = )(\d+) ll <R_BPF_64_64 \.text>$", insn)
    if not m:
        return insn
    off = int(m.group(2))
    name = None
    for start, n in text:
        if start <= off:
            name, base = n, start
    return f"{m.group(1)}<{name}+{off - base}> ll" if name else insn


def compare(before, after, show):
    fb, mb = disassemble(before)
    fa, ma = disassemble(after)
    differ = []
    for name in sorted(set(fb) | set(fa)):
        if name not in fa or name not in fb:
            where = "only before" if name in fb else "only after"
            print(f"  {name:30} {where}")
            differ.append(name)
            continue
        b, a = fb[name], fa[name]
        notes = []
        if b["section"] != a["section"]:
            notes.append(f"section {b['section']} -> {a['section']}")
        if b["insns"] != a["insns"]:
            d = [x for x in difflib.unified_diff(b["insns"], a["insns"], lineterm="", n=0)
                 if x[:1] in "+-" and not x.startswith(("+++", "---"))]
            plus = sum(1 for x in d if x.startswith("+"))
            notes.append(f"{len(b['insns'])} -> {len(a['insns'])} insns (+{plus} -{len(d) - plus} lines)")
        if notes:
            differ.append(name)
            print(f"  {name:30} DIFFERS: {'; '.join(notes)}")
            if show:
                for x in difflib.unified_diff(b["insns"], a["insns"], f"{name} before", f"{name} after",
                                              lineterm="", n=2):
                    print(f"      {x}")
        else:
            print(f"  {name:30} identical ({len(a['insns'])} insns, {a['section']})")
    if mb != ma:
        print(f"  maps differ: only before {sorted(mb - ma)}, only after {sorted(ma - mb)}")
        differ.append("(maps)")
    else:
        print(f"  maps identical: {', '.join(sorted(ma))}")
    return differ


def package_copy(obj):
    """a temporary package root whose build/bpf/execlens.bpf.o is obj"""
    d = tempfile.mkdtemp(prefix="execlens-obj-")
    # copies, not links: Node resolves a module's symlinks, and the package root is found from dist/ and bin/
    for copy in ("dist", "bin"):
        shutil.copytree(os.path.join(ROOT, copy), os.path.join(d, copy), symlinks=True)
    for keep in ("node_modules", "package.json", "schema"):
        if os.path.exists(os.path.join(ROOT, keep)):
            os.symlink(os.path.join(ROOT, keep), os.path.join(d, keep))
    os.makedirs(os.path.join(d, "build/bpf"))
    shutil.copy(obj, os.path.join(d, "build/bpf/execlens.bpf.o"))
    os.symlink(os.path.join(ROOT, "build/native"), os.path.join(d, "build/native"))
    return d


PLANS = [(a, lc, lo) for a in ("fentry", "kprobe", "raw_syscalls", "tracepoint")
         for lc in ("tp_btf", "raw_tp") for lo in ("unrolled", "bpf_loop")]


def verifier_stats(obj):
    """{plan: {program: processed insns}} for every plan that loads here"""
    d = package_copy(obj)
    env = dict(os.environ, EXECLENS_REFUSALS=os.path.join(d, "refusals.json"))
    out = {}
    try:
        for a, lc, lo in PLANS:
            r = subprocess.run([os.path.join(d, "bin/execlens"), "doctor", "--json",
                                "--verifier-stats", "--attach", a, "--lifecycle", lc, "--loops", lo],
                               capture_output=True, text=True, env=env)
            try:
                rep = json.loads(r.stdout)
            except json.JSONDecodeError:
                continue
            v = rep.get("verifier") or {}
            if v:
                out[f"{a}+{lc}+{lo}"] = {p: s["processedInsns"] for p, s in v.items()}
    finally:
        shutil.rmtree(d)
    return out


def print_verifier(before, after):
    plans = sorted(set(before) | set(after))
    if not plans:
        print("  no plan loads here (root? a kernel with BPF?)")
    for plan in plans:
        print(f"  {plan}")
        b, a = before.get(plan, {}), after.get(plan, {})
        for p in sorted(set(b) | set(a)):
            vb, va = b.get(p), a.get(p)
            delta = "" if vb is None or va is None else f" ({va - vb:+d})"
            print(f"    {p:30} {str(vb):>8} -> {str(va):>8}{delta}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--show", action="store_true", help="print a diff of each program that differs")
    ap.add_argument("--verifier-stats", action="store_true", help="also compare processed insns (root)")
    o = ap.parse_args()
    for f in (o.before, o.after):
        if not os.path.isfile(f):
            print(f"diff-bpf-programs: no such object: {f}", file=sys.stderr)
            return 2
    print(f"instructions: {o.before} -> {o.after}")
    try:
        differ = compare(o.before, o.after, o.show)
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        print(f"diff-bpf-programs: {e}", file=sys.stderr)
        return 2
    print(f"{len(differ)} differ: {', '.join(differ)}" if differ else "every program is identical")
    if o.verifier_stats:
        print("verifier: processed instructions per program, before -> after")
        print_verifier(verifier_stats(o.before), verifier_stats(o.after))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
