# Sourced by the CI scripts that need Python packages: `pinned_venv DIR NAME==VERSION...`
# makes a virtualenv at DIR (installing Debian's python3-venv if python3 lacks venv) and
# installs the pinned packages into it unless each is there at its version. Idempotent.

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

pinned_venv() {
    local venv=$1
    shift
    if "$venv/bin/python" - "$@" 2>/dev/null <<'PY'; then
import sys
from importlib.metadata import version
sys.exit(any(version(name) != pinned for name, pinned in (p.split("==") for p in sys.argv[1:])))
PY
        return 0
    fi
    echo "${0##*/}: installing $* into $venv"
    if ! python3 -m venv "$venv"; then
        # Debian's python3 keeps venv (ensurepip) in a package of its own.
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}
