#!/usr/bin/env python3
# svg_check.py - checks svg_gen's pictures (DIR/CASE.svg) against the input each was drawn from
# (DIR/CASE.json): well-formed self-contained SVG, one panel per run, heat-map cells and their
# tooltip counts, flush/sleep marks, stacked-area proportions, bounded size, determinism.
# Usage: svg_check.py DIR [DIR2]  (DIR2: a second svg_gen output that must be byte-identical)
# SPDX-License-Identifier: MIT
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
MAX_BYTES = 2 * 1024 * 1024
MAX_POINTS = 2000  # per stacked area
MAX_MARKS = 2000   # per kind

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def cls(e):
    return e.get("class", "")


def text_of(e):
    return "".join(e.itertext())


def sanitized(name):
    # svg.c writes control characters (other than tab and newline) as '?'.
    return "".join("?" if ord(c) < 0x20 and c not in "\t\n" else c for c in name)


def points(poly):
    pts = []
    for p in poly.get("points").split():
        x, y = p.split(",")
        pts.append((float(x), float(y)))
    return pts


def check_self_contained(case, root, raw):
    check(root.tag == NS + "svg", case + ": root element is svg (got %s)" % root.tag)
    check(b'xmlns="http://www.w3.org/2000/svg"' in raw, case + ": root declares the SVG xmlns")
    for a in ("width", "height", "viewBox"):
        check(root.get(a) is not None, case + ": root has " + a)
    if root.get("viewBox") and root.get("width") and root.get("height"):
        vb = root.get("viewBox").split()
        check(vb == ["0", "0", root.get("width"), root.get("height")],
              case + ": viewBox %s matches width/height" % vb)
        check(int(root.get("height")) > 0 and int(root.get("width")) > 0, case + ": size > 0")
    bad_tags = {"script", "foreignObject", "image", "use", "iframe", "a"}
    found = [e.tag for e in root.iter() if e.tag.replace(NS, "") in bad_tags]
    check(not found, case + ": no script/foreignObject/image/use/a elements (%s)" % found)
    refs = []
    for e in root.iter():
        for k, v in e.attrib.items():
            if k.endswith("href") or "url(" in v or "://" in v:
                refs.append((k, v))
    check(not refs, case + ": no references to anything outside the file (%s)" % refs[:3])
    check(b"<script" not in raw.lower(), case + ": no <script in the bytes")
    check(len(raw) < MAX_BYTES, case + ": %d bytes < 2 MB" % len(raw))


def check_heatmap(case, panel, run):
    nr = run["nr_slots"]
    uses = run["uses"]
    cells = [e for e in panel.iter(NS + "rect") if cls(e) == "hm"]
    check(len(cells) == min(nr, 1024),
          case + ": %d heat-map cells for %d slots" % (len(cells), nr))
    expect_lo = 0
    sums = []
    ok_titles = True
    for c in cells:
        t = c.find(NS + "title")
        s = text_of(t) if t is not None else ""
        m = re.fullmatch(r"slot (\d+): (\d+) new mappings", s)
        if m:
            lo = hi = int(m.group(1))
            n = int(m.group(2))
        else:
            m = re.fullmatch(r"slots (\d+)-(\d+): (\d+) new mappings", s)
            if not m:
                ok_titles = False
                check(False, case + ": heat-map tooltip %r" % s)
                break
            lo, hi, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if nr <= 1024 and lo != hi:
            ok_titles = False
            check(False, case + ": one slot per cell when nr_slots <= 1024 (%r)" % s)
            break
        if lo != expect_lo or hi < lo or n != sum(uses[lo:hi + 1]):
            ok_titles = False
            check(False, case + ": cell %r: expected slots from %d, count %d" %
                  (s, expect_lo, sum(uses[lo:hi + 1])))
            break
        expect_lo = hi + 1
        sums.append((n, c.get("fill")))
    if ok_titles:
        check(expect_lo == nr, case + ": heat-map cells cover slots 0..%d (to %d)" % (nr - 1, expect_lo - 1))
        check(sum(n for n, _ in sums) == sum(uses), case + ": heat-map total == sum of slot uses")
    # Colour: a function of the count; the maximum gets the colour bar's top colour, 0 its
    # bottom colour; the bar is labelled 0 and max.
    by_count = {}
    for n, fill in sums:
        by_count.setdefault(n, set()).add(fill)
    check(all(len(f) == 1 for f in by_count.values()), case + ": equal counts, equal colours")
    bar = [g for g in panel.iter(NS + "g") if cls(g) == "colourbar"]
    check(len(bar) == 1, case + ": one colour bar")
    if bar and sums:
        swatches = [r.get("fill") for r in bar[0].iter(NS + "rect")]
        labels = [text_of(t) for t in bar[0].iter(NS + "text")]
        mx = max(n for n, _ in sums)
        check("0" in labels and str(mx) in labels, case + ": colour bar labelled 0 and %d (%s)" % (mx, labels))
        check(len(swatches) >= 2, case + ": colour bar has swatches")
        if mx > 0:
            check(by_count[mx] == {swatches[-1]}, case + ": max cell has the bar's top colour")
            if len(set(n for n, _ in sums)) > 1:
                check(by_count[mx] != by_count[min(by_count)], case + ": max and min differ in colour")
        if 0 in by_count:
            check(by_count[0] == {swatches[0]}, case + ": empty cells have the bar's bottom colour")


def check_marks(case, panel, run):
    for kind, key, plural in (("flush", "flushes", "flushes"), ("sleep", "sleeps", "sleeps")):
        want = run[key]
        lines = [e for e in panel.iter(NS + "line") if cls(e) == kind]
        check(len(lines) <= want, case + ": %d %s marks <= %d in the input" % (len(lines), kind, want))
        check((len(lines) > 0) == (want > 0), case + ": %s marks drawn iff the input has some" % kind)
        check(len(lines) <= MAX_MARKS, case + ": %s marks bounded" % kind)
        total = 0
        for ln in lines:
            t = ln.find(NS + "title")
            s = text_of(t) if t is not None else ""
            m1 = re.fullmatch(kind + r" at op (\d+)", s)
            m2 = re.fullmatch(r"(\d+) " + plural + r", ops (\d+)\.\.(\d+)", s)
            if m1:
                total += 1
            elif m2:
                total += int(m2.group(1))
            else:
                check(False, case + ": %s mark tooltip %r" % (kind, s))
        check(total == want, case + ": %s mark tooltips add up to %d (got %d)" % (kind, want, total))
        legend = [text_of(t) for g in panel.iter(NS + "g") if cls(g) == "legend" for t in g.iter(NS + "text")]
        check("%s (%d)" % (kind, want) in legend, case + ": legend says %s (%d)" % (kind, want))


def check_areas(case, panel, run):
    polys = {cls(p): p for p in panel.iter(NS + "polygon")}
    if run["nsamples"] == 0:
        check(not polys, case + ": no areas without samples")
        return
    check(set(polys) == {"free", "count1", "in-use"}, case + ": three stacked areas (%s)" % sorted(polys))
    if set(polys) != {"free", "count1", "in-use"}:
        return
    pts = {k: points(p) for k, p in polys.items()}
    fills = {polys[k].get("fill") for k in polys}
    check(len(fills) == 3, case + ": three distinct area colours")
    for k, p in pts.items():
        check(len(p) <= MAX_POINTS, case + ": %s area has %d <= %d points" % (k, len(p), MAX_POINTS))
    c = run["constant"]
    if c:
        a, b, f = c
        h = {k: max(y for _, y in p) - min(y for _, y in p) for k, p in pts.items()}
        full = h["free"]
        check(full > 0, case + ": the free area has a height")
        if full > 0:
            tot = a + b + f
            check(abs(h["in-use"] / full - a / tot) < 0.01,
                  case + ": in-use height %.3f of the window, want %.3f" % (h["in-use"] / full, a / tot))
            check(abs(h["count1"] / full - (a + b) / tot) < 0.01,
                  case + ": in-use+count1 height %.3f, want %.3f" % (h["count1"] / full, (a + b) / tot))
            xs = {k: (min(x for x, _ in p), max(x for x, _ in p)) for k, p in pts.items()}
            check(len(set(xs.values())) == 1, case + ": the areas span the same x range")


def check_case(d, case):
    with open(os.path.join(d, case + ".svg"), "rb") as f:
        raw = f.read()
    with open(os.path.join(d, case + ".json")) as f:
        desc = json.load(f)
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        check(False, case + ": well-formed XML (%s)" % e)
        return
    check(True, case + ": well-formed XML")
    check_self_contained(case, root, raw)
    panels = [g for g in root.iter(NS + "g") if cls(g) == "panel"]
    runs = desc["runs"]
    check(len(panels) == len(runs), case + ": %d panels for %d runs" % (len(panels), len(runs)))
    for i, (panel, run) in enumerate(zip(panels, runs)):
        pc = "%s[%d]" % (case, i)
        titles = [e for e in panel.iter(NS + "text") if cls(e) == "title"]
        want = "%s \u2014 %s, %d slots, %d ops" % (sanitized(run["arch"]), sanitized(run["workload"]),
                                                   run["nr_slots"], run["total_ops"])
        check(len(titles) == 1 and text_of(titles[0]) == want,
              pc + ": title %r" % [text_of(t) for t in titles])
        if run["nr_slots"] == 0:
            notes = [text_of(e) for e in panel.iter(NS + "text")]
            check("no pkmap window (no highmem)" in notes, pc + ": no-window note")
            check(not [e for e in panel.iter() if cls(e) in ("hm", "flush", "sleep")] and
                  panel.find(".//" + NS + "polygon") is None, pc + ": nothing drawn without a window")
            continue
        check_heatmap(pc, panel, run)
        check_marks(pc, panel, run)
        check_areas(pc, panel, run)


def main():
    d = sys.argv[1]
    d2 = sys.argv[2] if len(sys.argv) > 2 else None
    cases = sorted(n[:-4] for n in os.listdir(d) if n.endswith(".svg"))
    check(len(cases) >= 8, "svg_gen wrote all cases (%s)" % cases)
    for case in cases:
        check_case(d, case)
        if d2:
            with open(os.path.join(d, case + ".svg"), "rb") as f1, \
                    open(os.path.join(d2, case + ".svg"), "rb") as f2:
                check(f1.read() == f2.read(), case + ": same input, same bytes")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
