#!/usr/bin/env bash
# Fill the offline cache behind Solara's /_solara/cdn/ route from the npm registry.
#
#   scripts/fetch_solara_assets.sh DEST [LIST]
#
# LIST (default scripts/solara_assets.txt) has one asset per line:
#   FOLDER [NPM_SPEC [MAIN_FILE]]
# FOLDER is the name exactly as the page requests it (/_solara/cdn/FOLDER/...), NPM_SPEC the
# package to `npm pack` (default FOLDER), MAIN_FILE a file of the package to copy to
# FOLDER/__main.js, which is where Solara's proxy looks when the page asks for the bare FOLDER.
# Each package is unpacked with its top folder stripped into DEST/FOLDER. A package already
# fetched with the same spec (its DEST/FOLDER/.geogame-fetched marker) is skipped, so the script
# is idempotent and takes milliseconds when everything is there; npm is only needed to fetch.
# A folder this script fetched earlier (it has the marker) that LIST no longer names is removed,
# so an asset dropped from the list is no longer served; nothing without the marker is touched.
# Point SOLARA_ASSETS_PROXY_CACHE_DIR at DEST and the page needs no internet.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:?usage: $0 DEST [LIST]}"
list="${2:-$here/solara_assets.txt}"

mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
tmp=""
trap 'if [[ -n "$tmp" ]]; then rm -rf "$tmp"; fi' EXIT

fetched=0
declare -A listed=()
while read -r folder _; do
    [[ -z "${folder:-}" || "$folder" == \#* ]] && continue
    listed["$folder"]=1
done <"$list"
# FOLDER is NAME@VERSION or @SCOPE/NAME@VERSION: markers sit one or two levels down
while IFS= read -r marker; do
    folder="${marker#"$dest"/}"
    folder="${folder%/.geogame-fetched}"
    if [[ -z "${listed[$folder]:-}" ]]; then
        echo "[assets] removing $folder (no longer in $(basename "$list"))" >&2
        rm -rf -- "${dest:?}/$folder"
        rmdir -- "$(dirname "$dest/$folder")" 2>/dev/null || true  # an emptied @scope folder
    fi
done < <(find "$dest" -mindepth 2 -maxdepth 3 -name .geogame-fetched -type f)

while read -r folder spec main _rest; do
    [[ -z "${folder:-}" || "$folder" == \#* ]] && continue
    spec="${spec:-$folder}"
    want="$spec ${main:-}"
    marker="$dest/$folder/.geogame-fetched"
    if [[ -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
        continue
    fi
    command -v npm >/dev/null 2>&1 || {
        echo "[assets] error: npm is needed to fetch $spec (apt-get install npm)" >&2
        exit 1
    }
    echo "[assets] $folder <- npm $spec" >&2
    [[ -n "$tmp" ]] || tmp="$(mktemp -d "${TMPDIR:-/tmp}/geogame-assets.XXXXXX")"
    work="$tmp/work"
    rm -rf "$work" && mkdir -p "$work/unpacked"
    if ! (cd "$work" && npm pack "$spec" --silent >"$work/pack.out" 2>"$work/pack.err" </dev/null); then
        cat "$work/pack.err" >&2
        echo "[assets] error: npm pack $spec failed" >&2
        exit 1
    fi
    tgz="$(tail -n 1 "$work/pack.out")"
    [[ -f "$work/$tgz" ]] || { echo "[assets] error: npm pack $spec gave no tarball" >&2; exit 1; }
    tar -xzf "$work/$tgz" -C "$work/unpacked" --strip-components=1 --no-same-owner
    if [[ -n "${main:-}" ]]; then
        [[ -f "$work/unpacked/$main" ]] || { echo "[assets] error: $spec has no $main" >&2; exit 1; }
        cp "$work/unpacked/$main" "$work/unpacked/__main.js"
    fi
    echo "$want" >"$work/unpacked/.geogame-fetched"
    rm -rf -- "${dest:?}/$folder"
    mkdir -p "$(dirname "$dest/$folder")"
    mv "$work/unpacked" "$dest/$folder"
    fetched=$((fetched + 1))
done <"$list"
[[ "$fetched" -gt 0 ]] && echo "[assets] fetched $fetched package(s) into $dest" >&2
exit 0
