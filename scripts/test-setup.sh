#!/bin/sh
# Prepares this machine for the SSH end-to-end tests (tests/support/sshd.rs).
# Idempotent: safe to run again. Needs root (run with sudo).
#
# - installs OpenSSH's sshd if /usr/sbin/sshd is missing (the tests start their own instance
#   on a random loopback port; the system sshd does not need to run);
# - creates the login user `sbtest` that the tests log in as when they run as root. Its shell
#   is /bin/sh so that no ~/.bashrc slows down every exec; its password field is `*` (no
#   password, but not locked: sshd with `UsePAM no` refuses accounts locked with `!`);
# - makes sure PostgreSQL answers on 127.0.0.1:5432 (the suite runs on SQLite and Postgres),
#   installing and starting it if needed;
# - installs what the screenshot tests' host needs (the same as a real workspace host with a
#   display): Xvfb, ImageMagick with its SVG coder, x11-utils (xwininfo, for the tests to see
#   windows appear), Chromium and a font.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test-setup.sh must run as root: sudo $0" >&2
    exit 1
fi

if [ ! -x /usr/sbin/sshd ]; then
    echo "installing openssh-server"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server
fi

missing=""
for package in xvfb imagemagick libmagickcore-6.q16-6-extra x11-utils chromium fonts-dejavu-core; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
    echo "installing$missing"
    apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
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
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "starting postgresql"
    for version in $(ls /etc/postgresql); do
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

echo "test setup done: sshd at /usr/sbin/sshd, login user sbtest, PostgreSQL on 127.0.0.1:5432," \
    "Xvfb, ImageMagick and Chromium"
