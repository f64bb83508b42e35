#!/usr/bin/env python3
# run_json_check.py - checks `kmapsim run --json` against docs/run-schema.json with a small
# JSON Schema validator (the keywords the schema uses), the table/JSON agreement,
# reproducibility per seed, and the failure object of failed runs (a stale translation, a stale
# cache read, the watchdog's document of the run so far), --machine host documents, the cache
# object of --cache on.
# Usage: run_json_check.py KMAPSIM SCHEMA. Last line: N passed, N failed.
# SPDX-License-Identifier: MIT
import copy
import json
import os
import subprocess
import sys
import tempfile

KMAPSIM, SCHEMA_PATH = sys.argv[1], sys.argv[2]
ARCHES = ["x86", "x86-pae", "ppc", "sparc", "generic", "arm", "arm-vipt", "xtensa"]
WORKLOADS = ["pagecache-read", "pagecache-hot", "bounce", "pipe", "hold-many", "random", "trace"]
TIMING_KEYS = {"wall_ms", "ns_per_op", "sleep_ms_total", "sleep_ms_max_thread", "sleep_ms_longest"}

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("PASS", name)
    else:
        failed += 1
        print("FAIL", name, detail)


TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
KNOWN = {"$schema", "title", "description", "type", "const", "enum", "properties", "required",
         "additionalProperties", "items", "minItems", "minimum"}


def validate(inst, schema, path="$"):
    """The errors of inst against schema (a list of strings; empty when valid)."""
    errs = []
    unknown = set(schema) - KNOWN
    if unknown:
        return ["%s: schema uses keywords this validator does not know: %s" % (path, unknown)]
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](inst) for t in types):
            return ["%s: %r is not of type %s" % (path, inst, "/".join(types))]
    if "const" in schema and inst != schema["const"]:
        errs.append("%s: %r != const %r" % (path, inst, schema["const"]))
    if "enum" in schema and inst not in schema["enum"]:
        errs.append("%s: %r not in %r" % (path, inst, schema["enum"]))
    if "minimum" in schema and TYPES["number"](inst) and inst < schema["minimum"]:
        errs.append("%s: %r < minimum %r" % (path, inst, schema["minimum"]))
    if isinstance(inst, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in inst:
                errs.append("%s: missing required key %r" % (path, k))
        for k, v in inst.items():
            if k in props:
                errs += validate(v, props[k], "%s.%s" % (path, k))
            elif schema.get("additionalProperties", True) is False:
                errs.append("%s: unexpected key %r" % (path, k))
    if isinstance(inst, list):
        if len(inst) < schema.get("minItems", 0):
            errs.append("%s: fewer than %d items" % (path, schema["minItems"]))
        if "items" in schema:
            for i, v in enumerate(inst):
                errs += validate(v, schema["items"], "%s[%d]" % (path, i))
    return errs


def kmapsim(*args):
    p = subprocess.run([KMAPSIM, "run"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def run_json(*args):
    rc, out, err = kmapsim(*(list(args) + ["--json"]))
    if rc != 0:
        raise RuntimeError("kmapsim run %s --json: exit %d: %s" % (" ".join(args), rc, err))
    return json.loads(out)


def strip_timing(doc):
    doc = copy.deepcopy(doc)
    for r in doc["runs"]:
        for k in TIMING_KEYS:
            r.pop(k, None)
    return doc


schema = json.load(open(SCHEMA_PATH))

# ---- the validator itself rejects what it must --------------------------------------------
good = run_json("--ops", "2000")
check("validator accepts a real document", validate(good, schema) == [], validate(good, schema))
mutations = {
    "missing runs[0].kmap_new": lambda d: d["runs"][0].pop("kmap_new"),
    "string ops": lambda d: d["runs"][0].__setitem__("ops", "2000"),
    "float kmap_calls": lambda d: d["runs"][0].__setitem__("kmap_calls", 1.5),
    "negative sleeps": lambda d: d["runs"][0].__setitem__("sleeps", -1),
    "extra key": lambda d: d["runs"][0].__setitem__("surprise", 1),
    "bad arch": lambda d: d["runs"][0].__setitem__("arch", "mips"),
    "schema_version 1": lambda d: d.__setitem__("schema_version", 1),
    "failure as a string": lambda d: d["runs"][0].__setitem__("failure", "wrong byte"),
    "failure without first": lambda d: d["runs"][0].__setitem__(
        "failure", {"kind": "wrong_bytes", "message": "wrong bytes read (1)"}),
    "failure of an unknown kind": lambda d: d["runs"][0].__setitem__(
        "failure", {"kind": "gremlins", "message": "m", "first": None}),
    "events.sleep missing": lambda d: d["runs"][0]["events"].pop("sleep"),
    "empty runs": lambda d: d.__setitem__("runs", []),
    "bool as integer": lambda d: d["runs"][0].__setitem__("ops", True),
}
for name, mutate in mutations.items():
    bad = copy.deepcopy(good)
    mutate(bad)
    check("validator rejects: " + name, validate(bad, schema) != [])

# ---- every workload, one arch and all arches ----------------------------------------------
tmp = tempfile.mkdtemp(prefix="run_json.", dir=os.environ.get("TEST_TMPDIR"))
trace = os.path.join(tmp, "t.trace")
with open(trace, "w") as f:
    f.write("kmap 229377\nkmap 229378\nkunmap 229377\nkunmap 229378\nflush\n")
for w in WORKLOADS:
    extra = [trace] if w == "trace" else ["--ops", "3000"]
    for arch_args in (["--arch", "x86"], ["--arch", "all"]):
        doc = run_json(w, *(arch_args + extra))
        errs = validate(doc, schema)
        name = "%s %s" % (w, " ".join(arch_args))
        check("schema: " + name, errs == [], errs[:5])
        check("workload key: " + name, doc["workload"] == w, doc["workload"])
        want = ARCHES if arch_args[1] == "all" else ["x86"]
        check("arches: " + name, [r["arch"] for r in doc["runs"]] == want,
              [r["arch"] for r in doc["runs"]])
        for r in doc["runs"]:
            c = (r["pte_set_pkmap"] == r["kmap_new"] and
                 r["events"]["flush_all_zero_pkmaps"] == r["flush_all_zero_pkmaps"] and
                 r["events"]["sleep"] == r["sleeps"] and
                 r["tlb_flushes_global"] == r["tlb_flush_ranges"] + r["tlb_flush_alls"] and
                 r["events"]["tlb_flush_page"] == r["tlb_flushes_page"] and
                 r["kmap_hits"] + r["kmap_new"] <= r["kmap_calls"] and
                 r["stale_translations"] == 0 and r["wrong_bytes"] == 0 and r["ok"] and
                 r["failure"] is None)
            check("figures agree: %s on %s" % (w, r["arch"]), c, r)
            if r["arch"] == "generic":
                check("generic has zero pkmap counters: " + w,
                      r["last_pkmap"] == 0 and r["kmap_calls"] == 0 and r["kmap_new"] == 0 and
                      r["flush_all_zero_pkmaps"] == 0 and r["slots_in_use_peak"] == 0, r)

# ---- --machine host: the same document, plus the window's system calls ---------------------
for w in ["pagecache-read", "pagecache-hot", "random", "pipe", "hold-many"]:
    doc = run_json(w, "--machine", "host", "--ops", "2000")
    errs = validate(doc, schema)
    check("schema: %s --machine host" % w, errs == [], errs[:5])
    r = doc["runs"][0]
    check("host run: %s" % w, r["arch"] == "host" and r["pte_set_pkmap"] == r["kmap_new"] and
          r["host"]["map_syscalls"] > 0 and r["host"]["failed_syscalls"] == 0 and
          r["bytes_checked"] > 0 and r["wrong_bytes"] == 0 and r["ok"], r)

# ---- --cache on: the cache object, every run coherent; off (the default): no cache object ----
for w, extra in [("bounce", []), ("random", []), ("hold-many", []),
                 ("local-switch", ["--kernel", "5.11"])]:
    doc = run_json(w, "--arch", "all", "--cache", "on", "--ops", "2000", *extra)
    errs = validate(doc, schema)
    check("schema: %s --cache on" % w, errs == [], errs[:5])
    for r in doc["runs"]:
        c = r.get("cache")
        check("cache object: %s on %s" % (w, r["arch"]), isinstance(c, dict) and
              c["stale_cache"] == 0 and c["hits"] + c["misses"] > 0 and r["ok"] and
              r["wrong_bytes"] == 0, r)
    if w == "bounce":
        doc_with_flushes = doc
    bad = copy.deepcopy(doc)
    bad["runs"][0]["cache"].pop("stale_cache")
    check("validator rejects: cache object without stale_cache (%s)" % w, validate(bad, schema) != [])
for r in doc_with_flushes["runs"]:  # bounce flushes its buffer before each DMA, every arch
    check("bounce --cache on: page flushes >= ops on %s" % r["arch"],
          r["cache"]["page_flushes"] >= r["ops"], r["cache"])
for args in (["--cache", "off"], []):
    doc = run_json("bounce", "--arch", "all", "--ops", "2000", *args)
    check("no cache object: bounce %s" % " ".join(args or ["(default)"]),
          all("cache" not in r for r in doc["runs"]), doc["runs"][0].keys())

# ---- --kernel: each run names a later generation; the default (2.6.24) adds no key ----------
for k in ("2.6.30", "5.11"):
    doc = run_json("random", "--arch", "all", "--ops", "2000", "--kernel", k)
    errs = validate(doc, schema)
    check("schema: random --kernel %s" % k, errs == [], errs[:5])
    check("kernel key: --kernel %s" % k, all(r.get("kernel") == k for r in doc["runs"]),
          [r.get("kernel") for r in doc["runs"]])
for args in (["--kernel", "2.6.24"], []):
    doc = run_json("random", "--arch", "all", "--ops", "2000", *args)
    check("no kernel key: %s" % " ".join(args or ["(default)"]),
          all("kernel" not in r for r in doc["runs"]), doc["runs"][0].keys())
bad = run_json("random", "--ops", "2000", "--kernel", "5.11")
bad["runs"][0]["kernel"] = "2.6.24"
check("validator rejects: kernel 2.6.24 spelled out", validate(bad, schema) != [])

# ---- the table shows the same numbers as the JSON ------------------------------------------
rc, table, _ = kmapsim("random", "--ops", "3000", "--seed", "4", "--arch", "all")
doc = run_json("random", "--ops", "3000", "--seed", "4", "--arch", "all")
lines = table.splitlines()
rows = lines[lines.index(next(l for l in lines if set(l) == {"-"})) + 1:]
keys = list(doc["runs"][0].keys())
metric_keys = keys[keys.index("working_set") + 1: keys.index("events")]
same = len(rows) >= len(metric_keys)
for i, k in enumerate(metric_keys if same else []):
    cells = rows[i].split()[-len(ARCHES):]
    for a, cell in enumerate(cells):
        if k in TIMING_KEYS:
            continue
        if float(cell) != float(doc["runs"][a][k]):
            same = False
            print("  table row %d (%s) on %s: %s vs JSON %s" % (i, k, ARCHES[a], cell,
                                                                 doc["runs"][a][k]))
check("table rows = JSON keys (%d metrics x %d arches)" % (len(metric_keys), len(ARCHES)), rc == 0 and same)

# ---- failed runs carry a failure object -------------------------------------------------------


def failed_doc(name, want_kind, *args):
    """Run a command that must fail (exit 1) with --json; check its document. Returns it, or
    None when it has no failure object of that kind."""
    rc, out, err = kmapsim(*(list(args) + ["--json"]))
    check(name + ": exit 1", rc == 1, "exit %d: %s" % (rc, err[:300]))
    try:
        doc = json.loads(out)
    except ValueError:
        check(name + ": a JSON document on standard output", False, repr(out[:300]))
        return None
    errs = validate(doc, schema)
    check(name + ": schema", errs == [], errs[:5])
    last = doc["runs"][-1]
    f = last.get("failure")
    good = (not last["ok"] and isinstance(f, dict) and f.get("kind") == want_kind and
            isinstance(f.get("message"), str) and f["message"] != "")
    check(name + ": failure object of kind " + want_kind, good, f)
    return doc if good else None


with open(os.path.join(tmp, "stale.trace"), "w") as f:
    f.write("inject drop-all-flushes\nkmap 229377\nkmap 229378\nkmap 229379\n"
            "store 0 0xffc01000 1\nkunmap 229377\nkunmap 229378\nkunmap 229379\n"
            "kmap 229380\nkmap 229381\nload 0 0xffc01000\n")
doc = failed_doc("stale translation", "stale_translation", "trace",
                 os.path.join(tmp, "stale.trace"), "--pkmap-entries", "4")
if doc:
    first = doc["runs"][0]["failure"]["first"]
    check("stale translation: first names it", isinstance(first, str) and
          first.startswith("stale translation: cpu 0"), first)
# sparc, VIVT: a store through a kmap_atomic slot, then a load through the page's pkmap
# address with no flush between (examples/sparc-cache.trace, part 2)
with open(os.path.join(tmp, "stale-cache.trace"), "w") as f:
    f.write("# machine: --arch sparc --cache on\n"
            "kmap 0xc300\nkmap_atomic 0 KM_USER0 0xc300\nstore 0 0xfcffb010 88\n"
            "kunmap_atomic 0 KM_USER0\nload 0 0xfc801010\n")
doc = failed_doc("stale cache read", "stale_cache", "trace", os.path.join(tmp, "stale-cache.trace"))
if doc:
    r = doc["runs"][0]
    check("stale cache read: counted, first names it", r["cache"]["stale_cache"] == 1 and
          r["failure"]["message"] == "stale cache reads (1)" and
          (r["failure"]["first"] or "").startswith("stale cache read: cpu 0 loaded 0xfc801010"), r)
doc = failed_doc("watchdog", "watchdog", "pagecache-read", "--ops", "1000000000",
                 "--watchdog", "1")
if doc:
    r = doc["runs"][0]
    check("watchdog: the document counts the run so far",
          0 < r["ops"] < 1000000000 and r["kmap_calls"] >= r["ops"] and
          "within 1 s" in r["failure"]["message"] and
          "operations done" in (r["failure"]["first"] or ""), r)

# ---- reproducibility ------------------------------------------------------------------------
for w in ["pagecache-read", "pagecache-hot", "random"]:
    a = run_json(w, "--ops", "5000", "--seed", "42", "--arch", "all")
    b = run_json(w, "--ops", "5000", "--seed", "42", "--arch", "all")
    check("same seed, same document: " + w, strip_timing(a) == strip_timing(b))
    if w != "pagecache-read":
        c = run_json(w, "--ops", "5000", "--seed", "43", "--arch", "x86")
        a1 = strip_timing(a)["runs"][0]
        c1 = strip_timing(c)["runs"][0]
        check("another seed, another run: " + w, a1 != c1)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
