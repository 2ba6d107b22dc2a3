#!/bin/sh
# Prepares this machine for the SSH end-to-end tests (tests/support/sshd.rs).
# Idempotent: safe to run again. Needs root (scripts/test runs it as root, or with sudo).
#
# - installs OpenSSH's sshd if /usr/sbin/sshd is missing (the tests start their own instance
#   on a random loopback port; the system sshd does not need to run);
# - creates the login user `sbtest` that the tests log in as when they run as root. Its shell
#   is /bin/sh so that no ~/.bashrc slows down every exec; its password field is `*` (no
#   password, but not locked: sshd with `UsePAM no` refuses accounts locked with `!`);
# - makes sure PostgreSQL answers on 127.0.0.1:5432 (the suite runs on SQLite and Postgres),
#   installing and starting it if needed;
# - installs what the screenshot tests' host needs (the same as a real workspace host with a
#   display): Xvfb, ImageMagick with its SVG coder, x11-utils (xwininfo, xev, xprop: for the
#   tests to see windows appear), Chromium and a font. The SVG coder's package is named after
#   ImageMagick's version (libmagickcore-6.q16-6-extra on Debian 12, -6.q16-7- on Ubuntu 24.04,
#   -7.q16-10- on Debian 13), so it is found from the imagemagick package's dependencies;
# - installs systemd's tools (systemd-analyze, for tests/e2e/deploy.rs: no running systemd needed)
#   and shellcheck (CI checks the shell scripts with it);
# - installs the pinned coding-agent CLIs the real-CLI tests drive (tests/support/agent_clis.rs)
#   into AGENT_CLI_PREFIX with npm, readable by every user: claude (its native binary comes in
#   the optional package @anthropic-ai/claude-code-linux-x64), codex (@openai/codex-linux-x64)
#   and opencode (opencode-linux-x64). Everything comes from the npm registry; no install
#   script downloads from anywhere else. Installed again only when a version differs.
set -eu

AGENT_CLI_PREFIX=/opt/switchboard-agent-clis
AGENT_CLIS="@anthropic-ai/claude-code@2.1.332 @openai/codex@0.171.0 opencode-ai@1.18.33"

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test-setup.sh must run as root (sudo $0, or scripts/test which does so)" >&2
    exit 1
fi

apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then
        apt-get update
        apt_updated=yes
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# The installed ImageMagick SVG coder package, if any.
svg_coder_installed() {
    dpkg-query -W -f '${Package} ${Status}\n' 'libmagickcore-*-extra' 2>/dev/null |
        awk '$NF == "installed" { print $1; exit }'
}

# The SVG coder package of the ImageMagick apt would install: its libmagickcore's "-extra".
svg_coder_available() {
    core=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances imagemagick 2>/dev/null |
        grep -oE '^ *Depends: libmagickcore-[0-9.]+q16-[0-9]+$' | sed 's/.*Depends: //' |
        sort -V | tail -n 1)
    if [ -n "$core" ] && apt-cache show "$core-extra" >/dev/null 2>&1; then
        echo "$core-extra"
    fi
}

if [ ! -x /usr/sbin/sshd ]; then
    echo "installing openssh-server"
    apt_install openssh-server
fi

missing=""
for package in xvfb imagemagick x11-utils chromium fonts-dejavu-core shellcheck; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
if [ -z "$(svg_coder_installed)" ]; then
    coder=$(svg_coder_available)
    if [ -z "$coder" ]; then
        # Lists not fetched yet (a fresh container): fetch them and ask again.
        apt-get update
        apt_updated=yes
        coder=$(svg_coder_available)
    fi
    if [ -z "$coder" ]; then
        echo "apt knows no libmagickcore-*-extra package (ImageMagick's SVG coder)" >&2
        exit 1
    fi
    missing="$missing $coder"
fi
if [ -n "$missing" ]; then
    echo "installing$missing"
    # One word per package.
    # shellcheck disable=SC2086
    apt_install $missing
fi

# sshd refuses to start without its privilege-separation directory.
mkdir -p /run/sshd
chmod 0755 /run/sshd

if ! id sbtest >/dev/null 2>&1; then
    echo "creating user sbtest"
    useradd -m -s /bin/sh sbtest
fi
if [ "$(getent passwd sbtest | cut -d: -f7)" != /bin/sh ]; then
    usermod -s /bin/sh sbtest
fi
if [ "$(getent shadow sbtest | cut -d: -f2)" != '*' ]; then
    usermod -p '*' sbtest
fi

if ! command -v pg_isready >/dev/null 2>&1; then
    echo "installing postgresql"
    apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "starting postgresql"
    for cluster in /etc/postgresql/*/main; do
        [ -d "$cluster" ] || continue
        version=$(basename "$(dirname "$cluster")")
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 50); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 0.2
    done
fi
if ! psql -q -h 127.0.0.1 -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
    echo "PostgreSQL does not accept user postgres on 127.0.0.1:5432 without a password;" >&2
    echo "allow it (trust for 127.0.0.1 in pg_hba.conf) or set SWITCHBOARD_TEST_POSTGRES" >&2
    exit 1
fi

# The installed version of npm package $1 under AGENT_CLI_PREFIX, empty if none.
agent_cli_version() {
    manifest="$AGENT_CLI_PREFIX/node_modules/$1/package.json"
    [ -r "$manifest" ] && node -p "require(process.argv[1]).version" "$manifest" 2>/dev/null
}

if ! command -v npm >/dev/null 2>&1; then
    echo "installing npm"
    apt_install nodejs npm
fi
stale=""
for spec in $AGENT_CLIS; do
    package=${spec%@*}
    [ "$(agent_cli_version "$package")" = "${spec##*@}" ] || stale="$stale $spec"
done
if [ -n "$stale" ]; then
    echo "installing agent CLIs$stale into $AGENT_CLI_PREFIX"
    mkdir -p "$AGENT_CLI_PREFIX"
    # One word per package spec.
    # shellcheck disable=SC2086
    npm install --prefix "$AGENT_CLI_PREFIX" --no-audit --no-fund --no-save --omit=dev $AGENT_CLIS
fi
chmod -R a+rX "$AGENT_CLI_PREFIX"
# claude's and opencode's postinstall scripts put the native binary in place of a stub: a binary that
# does not run means they did not (an npm that blocks install scripts), so say so instead of letting
# the tests fail obscurely.
for command in claude codex opencode; do
    if ! "$AGENT_CLI_PREFIX/node_modules/.bin/$command" --version >/dev/null 2>&1; then
        echo "$AGENT_CLI_PREFIX/node_modules/.bin/$command does not run: remove $AGENT_CLI_PREFIX and" \
            "run this script again with an npm that runs the packages' install scripts" >&2
        exit 1
    fi
done

echo "test setup done: sshd at /usr/sbin/sshd, login user sbtest, PostgreSQL on 127.0.0.1:5432," \
    "Xvfb, ImageMagick and Chromium, systemd-analyze, shellcheck," \
    "agent CLIs in $AGENT_CLI_PREFIX/node_modules/.bin"
