#!/usr/bin/env bash
# The package as users install it: build the wheel, install it with its dependencies (pinned by constraints.txt)
# into a fresh virtual environment, and from an empty folder run the commands and the README's Python example on
# the packaged example catalogue alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$root/.venv/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$work/dist" "$root"
wheel=$(ls "$work"/dist/yikatong-*.whl)
"$python" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for wanted in ("yikatong/data/catalog.toml", "yikatong/py.typed", "yikatong/adapters/bankfile/layouts/delimited-gb18030.toml"):
    assert wanted in names, f"the wheel lacks {wanted}"
assert any(n.endswith("licenses/LICENSE") for n in names), "the wheel lacks LICENSE"
PY
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$root/constraints.txt" "$wheel"
bin="$work/venv/bin"

mkdir "$work/empty"
cd "$work/empty"
version=$("$bin/yikatong" --version)
test "$version" = "$("$bin/python" -m yikatong --version)"
echo "installed: $version"
"$bin/yikatong" demo --out demo --rows 400 --quiet > demo.txt
grep -q '审计链 audit chain' demo.txt
"$bin/yikatong" synth --rows 20000 --out data --period 2026-11 --seed 7 > synth.txt
"$bin/yikatong" validate data/roster.csv --item GLJT --period 2026-11 --context data --out report > validate.txt
grep -q '20,000 行 rows' validate.txt
test -s report/summary.json

# The README's Python example, on files synth writes.
"$bin/yikatong" synth --rows 400 --out examples --period 2026-11 --format csv --context-format csv > /dev/null
"$root/.venv/bin/python" - "$root/README.md" > readme_example.py <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
print(text.split("```python\n", 1)[1].split("```", 1)[0])
PY
"$bin/python" readme_example.py

# Without the [testing] extra, a contract kit says what to install.
if "$bin/python" -c 'import yikatong.testing.bank_contract' 2> kit.txt; then
    echo "yikatong.testing.bank_contract imported without pytest" >&2
    exit 1
fi
grep -q "pip install 'yikatong\[testing\]'" kit.txt
echo "wheel check: demo, synth --rows 20000, validate, README example and the contract-kit message all ran from an empty folder"
