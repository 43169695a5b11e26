# Sourced by the scripts: makes sure .venv exists and holds what pyproject.toml asks for.
# Re-installs only when pyproject.toml changed since the last install (a stamp in .venv).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PRESSE_VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
stamp="$VENV/.presse-installed"
want="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
if [ ! -x "$PY" ]; then
  echo "creating the virtual environment in $VENV ..." >&2
  python3 -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing presse-search and its dependencies into $VENV ..." >&2
  "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$PY" -m pip install --quiet --disable-pip-version-check -e "$REPO[dev]" >&2
  echo "$want" > "$stamp"
fi
cd "$REPO"
