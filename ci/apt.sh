# Sourced by the CI and benchmark scripts that need Debian packages (apt-get, as root):
#
#   apt_install PACKAGE...             installs them; nothing when none is named
#   apt_install_for COMMAND:PACKAGE... installs the package of each command that is neither
#                                      on PATH nor in /usr/sbin (where daemons such as
#                                      mosquitto and nginx install, off some users' PATH)
#
# What it installs is said on stderr under the calling script's name. Fails (returns 1)
# without root, or when apt-get does.

apt_install() {
    (($#)) || return 0
    local packages
    packages=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
    echo "${0##*/}: installing ${packages% } with apt-get" >&2
    if [ "$(id -u)" != 0 ]; then
        echo "${0##*/}: need root to apt-get install ${packages% }" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # One word per package: unquoted on purpose.
    # shellcheck disable=SC2086
    apt-get install -y -qq $packages >/dev/null
}

apt_install_for() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] ||
            missing+=("${pair##*:}")
    done
    apt_install "${missing[@]}"
}
