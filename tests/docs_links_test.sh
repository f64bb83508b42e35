#!/usr/bin/env bash
# docs_links_test.sh - the repository stands on its own: no tracked Markdown, source, trace or
# script file cites a path outside it (the old spec pages of the shared directory next to the
# checkout, an absolute path into this machine's work directory, a ../ path that leaves the
# tree) or a Markdown page that does not exist (docs/NAME.md, a bare NAME.md, a Markdown link
# target).
#
# Usage: under Bazel (sh_test, tagged external so it always runs: it reads the whole source
# tree, not a declared data list), or by hand: tests/docs_links_test.sh [TREE]
# The tree is TREE, else the checkout this script lives in (under Bazel: found through the
# runfile symlink of the script itself). Files: `git ls-files` when the tree is a Git checkout,
# else every file under it except .git/, bazel-*/ and build/. Skipped: fuzz/corpus/ (fuzzer
# inputs), binary files, and this script (it spells the patterns).
set -u

lib="$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
[ -f "$lib" ] || lib="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/testlib.sh"
# shellcheck source=tests/testlib.sh
source "$lib" # pass, fail, finish

# ---- The tree and its files --------------------------------------------------------------------
if [ $# -ge 1 ]; then
  root="$(cd "$1" 2>/dev/null && pwd -P)" || root="$1"
else
  self="$(readlink -f "${BASH_SOURCE[0]}")"
  root="$(cd "$(dirname "$self")/.." && pwd -P)"
fi
if [ ! -f "$root/WORKSPACE" ] || [ ! -d "$root/docs" ]; then
  fail "cannot find the source tree (tried '$root': no WORKSPACE or docs/)"
  finish
fi
cd "$root" || exit 1

files=()
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
   [ "$(git -C "$root" rev-parse --show-toplevel 2>/dev/null)" = "$root" ]; then
  how="git ls-files"
  mapfile -d '' all < <(git -C "$root" ls-files -z)
else
  how="find"
  mapfile -d '' all < <(find . \( -name .git -o -name 'bazel-*' -o -path ./build \) -prune -o \
                          -type f -print0 | sed -z 's|^\./||')
fi
for f in "${all[@]}"; do
  case "$f" in
    fuzz/corpus/*|tests/docs_links_test.sh) continue ;;
  esac
  [ -f "$f" ] && files+=("$f")
done
echo "tree $root: ${#files[@]} files ($how)"

# Every file name of the tree, for bare NAME.md mentions.
declare -A basenames=()
for f in "${all[@]}"; do
  basenames["${f##*/}"]=1
done

if [ "${#files[@]}" -ge 20 ] && [ -n "${basenames[README.md]:-}" ]; then
  pass "the tree has files to scan (${#files[@]})"
else
  fail "the tree has files to scan: only ${#files[@]}, or no README.md"
fi

# Matches of an extended regex over every text file: "file:line:match" lines.
scan() {
  grep -HnoIE -- "$1" "${files[@]}" 2>/dev/null
}

# Is a path (relative to the tree) inside the tree and existing? $1 = directory of the citing
# file (relative, "." for the top), $2 = the path as written.
resolves_from() {
  local p
  p="$(realpath -m -- "$root/$1/$2")"
  case "$p" in
    "$root"|"$root"/*) [ -e "$p" ] ;;
    *) return 1 ;;
  esac
}
leaves_tree() {
  local p
  p="$(realpath -m -- "$root/$1/$2")"
  case "$p" in
    "$root"|"$root"/*) return 1 ;;
    *) return 0 ;;
  esac
}

# One "file:line:match" line of scan: sets f (the file), tok (the match) and dir (the file's
# directory, relative).
split_hit() {
  local rest="${1#*:}"
  f="${1%%:*}"
  tok="${rest#*:}"
  dir="$(dirname -- "$f")"
}

# verdict OK_TEXT BAD_TEXT: PASS OK_TEXT if the check collected nothing in bad, else FAIL
# BAD_TEXT followed by the collected lines, indented.
verdict() {
  if [ -z "$bad" ]; then
    pass "$1"
  else
    fail "$2"
    sed '/^$/d; s/^/  /' <<<"$bad"
  fi
}

# ---- 1. The pages that lived outside the repository --------------------------------------------
# (Spelt in two pieces so that this script does not match itself.)
old_spec='shared''/spec'
bad="$(scan "[A-Za-z0-9_./-]*${old_spec}[A-Za-z0-9_./-]*")"
verdict "no file cites the ${old_spec} pages (docs/kernel-highmem.md, docs/trace-format.md replace them)" \
  "files cite ${old_spec} (use docs/kernel-highmem.md or docs/trace-format.md):"

# ---- 2. Absolute paths into the work directory (this machine's layout, not the repository's) ---
work='/wo''rk/'
bad="$(scan "(^|[^A-Za-z0-9_.~/-])${work}[A-Za-z0-9_./-]*")"
verdict "no file cites an absolute ${work} path" "files cite an absolute ${work} path:"

# ---- 3. ../ paths that leave the tree or name nothing ------------------------------------------
bad=""
while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  split_hit "$hit"
  if leaves_tree "$dir" "$tok"; then
    bad="$bad$hit (leaves the repository)"$'\n'
  elif ! resolves_from "$dir" "$tok" && ! resolves_from . "$tok"; then
    bad="$bad$hit (no such file)"$'\n'
  fi
done < <(scan '(\.\./)+[A-Za-z0-9_.-][A-Za-z0-9_./-]*')
verdict "every ../ path stays inside the repository and exists" \
  "../ paths outside the repository or to nothing:"

# ---- 4. Mentions of Markdown pages: docs/NAME.md, other paths, bare NAME.md --------------------
bad=""
while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  split_hit "$hit"
  case "$tok" in
    //*|*../*) continue ;;  # a URL (after its "scheme:"), or a ../ path: check 3
    /*) bad="$bad$hit (absolute path)"$'\n'; continue ;;
  esac
  tok="${tok#./}"
  case "$tok" in
    */*)
      ok=0
      if resolves_from "$dir" "$tok" || resolves_from . "$tok"; then
        ok=1
      else
        # "$ROOT/bench/results.md" and the like: some tail of the path is a file of the tree.
        t="$tok"
        while [ "$ok" = 0 ] && [ "${t#*/}" != "$t" ]; do
          t="${t#*/}"
          case "$t" in */*) resolves_from . "$t" && ok=1 ;; esac
        done
      fi
      [ "$ok" = 1 ] || bad="$bad$hit (no such page)"$'\n'
      ;;
    *)
      [ -n "${basenames[$tok]:-}" ] || bad="$bad$hit (no page of that name in the tree)"$'\n'
      ;;
  esac
done < <(scan '[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b')
verdict "every Markdown page a file names exists (docs/*.md and the rest)" \
  "Markdown pages named but missing:"

# ---- 5. Link targets of the Markdown files ------------------------------------------------------
md=()
for f in "${files[@]}"; do
  case "$f" in *.md) md+=("$f") ;; esac
done
bad=""
if [ "${#md[@]}" -gt 0 ]; then
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    split_hit "$hit"
    tok="${tok#](}"
    tok="${tok%)}"
    tok="${tok%% *}"   # [text](target "title")
    tok="${tok#<}"
    tok="${tok%>}"
    case "$tok" in
      ''|'#'*|*://*|mailto:*) continue ;;
    esac
    tok="${tok%%#*}"
    if leaves_tree "$dir" "$tok"; then
      bad="$bad$hit (leaves the repository)"$'\n'
    elif ! resolves_from "$dir" "$tok"; then
      bad="$bad$hit (no such file)"$'\n'
    fi
  done < <(grep -HnoE -- '\]\([^)]+\)' "${md[@]}" 2>/dev/null)
fi
verdict "every relative link of the ${#md[@]} Markdown files resolves inside the repository" \
  "Markdown links to nothing or outside the repository:"

finish
