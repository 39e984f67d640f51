#!/usr/bin/env bash
# Vendor the JavaScript that the book's pages load, so the built site needs no network.
#
# Fetches three pinned npm packages with `npm pack` into _vendor/npm/ (a cache: a tarball
# already there with the expected checksum is not fetched again) and lays out the parts the
# site uses in _vendor/site/. Sphinx copies that folder into the root of the HTML output
# (`html_extra_path` in _config.yml), and `mathjax_path` / `nb_ipywidgets_js` point at it:
#
#   vendor/mathjax/   MathJax 3 (es5): tex-mml-chtml.js and the files it loads on demand
#                     (CHTML woff-v2 fonts, TeX extensions, menu, accessibility, speech rules)
#   vendor/widgets/   RequireJS, the Jupyter widgets HTML manager (embed-amd.js), its icon
#                     fonts, and widgets-setup.js (from tools/assets/)
#
# Usage: tools/vendor_assets.sh   (run from anywhere; `make book` and `make test` call it)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/_vendor/npm"
site="$root/_vendor/site"

# package spec, tarball name that `npm pack` writes, SHA-256 of that tarball
packages=(
  "mathjax@3.2.2 mathjax-3.2.2.tgz 1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
  "requirejs@2.3.7 requirejs-2.3.7.tgz 31f3330c978fb28684622fe71165dc946432cf0210b2ea8a1ca0233e70f2737d"
  "@jupyter-widgets/html-manager@1.0.6 jupyter-widgets-html-manager-1.0.6.tgz 6c198ceb99ba7e7526990a1de16e8147ad7d3a714e3fb06741183623c04b5f6e"
)

checksum_ok() {  # tarball expected-sha256
  [ -s "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

mkdir -p "$cache"
for entry in "${packages[@]}"; do
  read -r spec tarball sha <<<"$entry"
  if ! checksum_ok "$cache/$tarball" "$sha"; then
    if ! command -v npm >/dev/null; then
      echo "vendor_assets: npm is needed to fetch $spec (install Node.js and npm)" >&2
      exit 1
    fi
    echo "vendor_assets: fetching $spec"
    rm -f "$cache/$tarball"
    npm pack --silent --ignore-scripts --pack-destination "$cache" "$spec" >/dev/null
    if ! checksum_ok "$cache/$tarball" "$sha"; then
      echo "vendor_assets: checksum mismatch for $cache/$tarball" >&2
      exit 1
    fi
  fi
done

work="$(mktemp -d "$root/_vendor/.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
for entry in "${packages[@]}"; do
  read -r _ tarball _ <<<"$entry"
  mkdir -p "$work/${tarball%.tgz}"
  tar -xzf "$cache/$tarball" -C "$work/${tarball%.tgz}"
done

out="$work/site/vendor"

# MathJax 3: the combined TeX + MathML input, CommonHTML output component and what it loads.
mj="$work/mathjax-3.2.2/package/es5"
mkdir -p "$out/mathjax/output/chtml/fonts" "$out/mathjax/input/tex"
cp "$mj/tex-mml-chtml.js" "$out/mathjax/"
cp -R "$mj/output/chtml/fonts/woff-v2" "$out/mathjax/output/chtml/fonts/"
cp -R "$mj/input/tex/extensions" "$out/mathjax/input/tex/"
cp -R "$mj/ui" "$mj/a11y" "$mj/sre" "$out/mathjax/"
cp "$work/mathjax-3.2.2/package/LICENSE" "$out/mathjax/LICENSE"

# Jupyter widgets: RequireJS, the AMD embed bundle, its icon fonts, and our set-up script.
hm="$work/jupyter-widgets-html-manager-1.0.6/package"
mkdir -p "$out/widgets"
cp "$work/requirejs-2.3.7/package/require.js" "$out/widgets/"
cp "$hm/dist/embed-amd.js" "$out/widgets/"
cp "$hm/dist/"*.woff2 "$hm/dist/"*.woff "$hm/dist/"*.ttf "$hm/dist/"*.eot "$hm/dist/"*.svg "$out/widgets/"
cp "$hm/LICENSE" "$out/widgets/LICENSE.html-manager"
cp "$hm/dist/embed.js.LICENSE.txt" "$out/widgets/LICENSE.bundled-packages"
cp "$root/tools/assets/widgets-setup.js" "$out/widgets/"

rm -rf "$site"
mv "$work/site" "$site"
echo "vendor_assets: $(find "$site" -type f | wc -l) files in _vendor/site"
