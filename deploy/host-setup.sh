#!/bin/sh
# Prepares a Debian/Ubuntu machine as a Switchboard workspace host.
#
#   sudo sh host-setup.sh [USER] [PUBLIC_KEY]
#
# USER (default: switchboard) is the account Switchboard logs in as; PUBLIC_KEY is the public
# half of the key in the bot's hosts.NAME.key_file (the contents of the .pub file). Idempotent.
#
# What it does:
# - installs git, tmux, OpenSSH's server, GNU coreutils/util-linux (Switchboard's turn protocol
#   uses `setsid -f` and `tail --pid`), Node.js and npm;
# - installs what /screenshot and image answers use: Xvfb, ImageMagick (with its recommended
#   SVG coder), Chromium and a font, and runs a display :99 for USER as the systemd unit
#   switchboard-xvfb — set hosts.NAME.display = ":99", and DISPLAY = ":99" in
#   hosts.NAME.agents.claude.env so the agent's GUI programs and browsers draw on it;
# - creates USER with /bin/sh as login shell (Debian's bash reads ~/.bashrc even for `ssh host
#   cmd`, which slows every command), a workspace ~/switchboard and the state dir ~/.switchboard;
# - installs Claude Code, the Codex CLI and OpenCode (pinned: codex_version, opencode_version)
#   from npm into ~/.local (so no root is needed to update them) as ~/.local/bin/claude,
#   ~/.local/bin/codex and ~/.local/bin/opencode — set hosts.NAME.agents.claude.command,
#   hosts.NAME.agents.codex.command and hosts.NAME.agents.opencode.command to those paths;
# - authorizes PUBLIC_KEY for USER.
#
# What it does not do: put an API key on the host. Log in once as USER and run `claude` (and
# `codex login`, `opencode auth login`) to sign in, or give ANTHROPIC_API_KEY / OPENAI_API_KEY
# with agents.NAME.env or agents.NAME.env_files in the bot's configuration. OpenCode's providers
# and models are its own ~/.config/opencode/opencode.json.
set -eu

user=${1:-switchboard}
public_key=${2:-}
# The Codex CLI version Switchboard's adapter was measured against (src/agents/codex.rs).
codex_version=0.171.0
# The OpenCode version its adapter was measured against (src/agents/opencode.rs).
opencode_version=1.18.33

if [ "$(id -u)" -ne 0 ]; then
    echo "run as root: sudo sh $0 $*" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    git tmux openssh-server coreutils util-linux ca-certificates nodejs npm \
    xvfb chromium fonts-dejavu-core
# With its recommends: they carry the SVG coder.
apt-get install -y -qq imagemagick

if ! id "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$user"
fi
# No password, but not locked: sshd refuses locked accounts when PAM is off.
usermod -p '*' "$user"
home=$(getent passwd "$user" | cut -d: -f6)

install -d -o "$user" -g "$user" -m 0755 "$home/switchboard"
install -d -o "$user" -g "$user" -m 0700 "$home/.switchboard" "$home/.ssh"

if [ -n "$public_key" ]; then
    touch "$home/.ssh/authorized_keys"
    if ! grep -qF "$public_key" "$home/.ssh/authorized_keys"; then
        printf '%s\n' "$public_key" >> "$home/.ssh/authorized_keys"
    fi
    chown "$user:$user" "$home/.ssh/authorized_keys"
    chmod 0600 "$home/.ssh/authorized_keys"
fi

cat > /etc/systemd/system/switchboard-xvfb.service <<EOF
[Unit]
Description=X display :99 for Switchboard's agent and /screenshot
After=network.target

[Service]
User=$user
ExecStart=/usr/bin/Xvfb :99 -screen 0 1280x800x24 -nolisten tcp
Restart=always

[Install]
WantedBy=multi-user.target
EOF
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now switchboard-xvfb.service
fi

# $HOME is the user's, expanded by the user's shell: single quotes on purpose.
# shellcheck disable=SC2016
su -s /bin/sh "$user" -c 'npm install --silent --global --prefix "$HOME/.local" @anthropic-ai/claude-code'
# shellcheck disable=SC2016
echo "claude: $(su -s /bin/sh "$user" -c '"$HOME/.local/bin/claude" --version')"
su -s /bin/sh "$user" -c "npm install --silent --global --prefix \"\$HOME/.local\" @openai/codex@$codex_version"
# shellcheck disable=SC2016
echo "codex: $(su -s /bin/sh "$user" -c '"$HOME/.local/bin/codex" --version')"
su -s /bin/sh "$user" -c "npm install --silent --global --prefix \"\$HOME/.local\" opencode-ai@$opencode_version"
# shellcheck disable=SC2016
echo "opencode: $(su -s /bin/sh "$user" -c '"$HOME/.local/bin/opencode" --version')"

# The host key to pin in the bot's configuration (hosts.NAME.host_key):
key=/etc/ssh/ssh_host_ed25519_key.pub
if [ -f "$key" ]; then
    echo "host_key = \"$(cut -d' ' -f1,2 "$key")\""
fi
echo "agent commands: $home/.local/bin/claude, $home/.local/bin/codex, $home/.local/bin/opencode"
