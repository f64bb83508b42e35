# deps.bzl - libhighmem_dependencies(): the offline stand-ins of third_party/ (rules_cc, rules_java,
# remote_coverage_tools) declared for this workspace and for any workspace that depends on it, so
# that Bazel 4.2.3 downloads nothing. See README.md, Embedding.

# The repositories Bazel's WORKSPACE suffix would otherwise download: each is third_party/NAME.
_STAND_INS = ["rules_cc", "rules_java", "remote_coverage_tools"]

def _stand_in_impl(ctx):
    # Wherever this repository lives (a local_repository path, an http_archive in the output base,
    # the main workspace), third_party/NAME sits next to this file: link its entries.
    top = ctx.path(Label("//:deps.bzl")).dirname
    for entry in top.get_child("third_party").get_child(ctx.name).readdir():
        ctx.symlink(entry, entry.basename)

_stand_in = repository_rule(
    implementation = _stand_in_impl,
    doc = "One of libhighmem's third_party/ stand-ins, as the repository of the same name.",
    local = True,
)

def libhighmem_dependencies():
    """Declares every stand-in the workspace has not declared itself.

    Call it in the WORKSPACE right after the libhighmem repository; the stand-ins must come before
    Bazel's WORKSPACE suffix, whose rules_cc and rules_java are maybe() and whose
    remote_coverage_tools gives way to an earlier declaration.
    """
    for name in _STAND_INS:
        if not native.existing_rule(name):
            _stand_in(name = name)
