# Starlark macros the BUILD files share: a Criterion suite, a shell test, a test helper library, a
# fuzz target with its corpus replay test, an arch backend and a registry of some, the paths tests
# are given, and the copts that keep non-target code out of libFuzzer's coverage.

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

# The backends of arch/: each the package arch/NAME (highmem_arch), HM_REGISTRY_NAME in registry.c.
HM_BACKENDS = ["arm", "ppc", "sparc", "x86"]

# Under --config=libfuzzer the code around the fuzz targets is compiled without coverage
# instrumentation: the simulator (sim/), the machine opener and printing (harness/), the fuzz
# harnesses and the reference model (fuzz/). The engine's feedback is the coverage of the library
# (core/, arch/) alone. Instrumenting the oracle code tripled the features per input (most of them
# loop-count buckets of the checks) and its comparison tracing alone cost about 40 % of the exec/s
# (fuzz/README.md, Throughput). Without --config=libfuzzer it adds nothing.
NO_COVERAGE = select({
    "//:libfuzzer": ["-fno-sanitize=fuzzer-no-link"],
    "//conditions:default": [],
})

def runfiles_path(path):
    """PATH, relative to the top of this repository, as a test finds it from its working directory.

    A test runs in the main workspace's runfiles tree: PATH there when libhighmem is the main
    workspace; when it is the external repository @REPO, PATH in the sibling tree REPO (the parent
    directory's REPO/PATH). That is what $(rootpath) gives for a file; this also names a directory
    of data files (a corpus, the examples).
    """
    repo = native.repository_name()
    return path if repo == "@" else "../%s/%s" % (repo[1:], path)

def _local_first(label):
    """buildifier's order for deps: this package's labels (":x") first, then by text."""
    return (not label.startswith(":"), label)

def criterion_test(name, srcs, deps, size = "small"):
    """A Criterion suite: one cc_test with no main() (Criterion supplies it), on //tests:criterion.

    Tagged no_tsan: Criterion's runner crashes under TSan (Criterion issue #274), and
    --config=tsan filters the tag out (.bazelrc). Tagged no-sandbox: Criterion's message server is
    the fixed socket /tmp/criterion_PID.sock, and under linux-sandbox (Bazel's default, which a
    workspace depending on this one gets) every test is PID 2 of its own namespace, so two suites
    at once fail with "Address already in use". //tests:criterion joins deps in buildifier's order.
    """
    criterion = ":criterion" if native.package_name() == "tests" else "//tests:criterion"
    cc_test(
        name = name,
        size = size,
        srcs = srcs,
        tags = ["no-sandbox", "no_tsan"],
        deps = sorted(deps + [criterion], key = _local_first),
    )

def fuzz_target(name, srcs, deps, copts = None, linkopts = None):
    """NAME_fuzz, a fuzz binary, and NAME_regression, a test replaying the corpus corpus/NAME/.

    NAME_fuzz (tagged manual) links the engine under --config=libfuzzer (//:libfuzzer), otherwise
    replay_main.c, which runs the target on the inputs it is given. NAME_regression is srcs plus
    replay_main.c, run on every committed input of corpus/NAME/ (plain, --config=asan, ...).
    copts are for the fuzz binary only (e.g. NO_COVERAGE); linkopts for both.
    """
    engine = select({
        "//:libfuzzer": ["-fsanitize=fuzzer"],
        "//conditions:default": [],
    })
    cc_binary(
        name = name + "_fuzz",
        srcs = srcs + select({
            "//:libfuzzer": [],
            "//conditions:default": ["replay_main.c"],
        }),
        copts = copts,
        linkopts = linkopts + engine if linkopts else engine,
        tags = ["manual"],
        deps = deps,
    )
    cc_test(
        name = name + "_regression",
        size = "small",
        srcs = sorted(srcs + ["replay_main.c"]),
        args = [runfiles_path("%s/corpus/%s" % (native.package_name(), name))],
        data = native.glob(["corpus/%s/**" % name]),
        linkopts = linkopts,
        deps = deps,
    )

def highmem_arch(name):
    """The backend library of arch/NAME: every .c and .h of the package, over the core's services."""
    cc_library(
        name = name,
        srcs = native.glob([
            "*.c",
            "*.h",
        ]),
        visibility = ["//visibility:public"],
        deps = [
            "//core",
            "//include:highmem_headers",
        ],
    )

def highmem_registry(name, backends, visibility = ["//visibility:public"]):
    """arch/registry.c as the cc_library NAME, naming only BACKENDS (of HM_BACKENDS) and generic.

    With the core and those backends it is a complete libhighmem. A consumer workspace makes its
    own set the same way (the labels below are this repository's, wherever the macro is called):
        load("@libhighmem//tools:build_defs.bzl", "highmem_registry")
        highmem_registry(name = "highmem_x86_ppc", backends = ["x86", "ppc"])
    """
    for b in backends:
        if b not in HM_BACKENDS:
            fail("highmem_registry %s: unknown backend '%s' (the backends are %s)" % (name, b, HM_BACKENDS))
    cc_library(
        name = name,
        srcs = [Label("//arch:registry.c")],
        local_defines = ["HM_REGISTRY_ONLY"] + ["HM_REGISTRY_" + b.upper() for b in backends],
        visibility = visibility,
        deps = [Label("//arch/" + b) for b in backends] + [
            Label("//core"),  # hm_arch_generic lives in core/arch_generic.c
            Label("//include:highmem_headers"),
        ],
    )

def shell_test(name, data = [], size = "small", **kwargs):
    """A test written in shell: sh_test NAME running NAME.sh (args, tags as sh_test takes them).

    sh_test is Bazel's native rule: Bazel 4.2.3 has no rules_sh stand-in to load it from.
    """
    native.sh_test(name = name, size = size, srcs = [name + ".sh"], data = data, **kwargs)

def test_library(name, deps, **kwargs):
    """Helpers the tests share: a testonly cc_library of NAME.c with its header NAME.h."""
    cc_library(name = name, testonly = True, srcs = [name + ".c"], hdrs = [name + ".h"], deps = deps, **kwargs)
