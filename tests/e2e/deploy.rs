//! The systemd unit, installed the way `deploy/` tells a person to, for each chat platform
//! alone: the unit plus that platform's drop-in (`deploy/credentials/`) in a scratch root, checked
//! by systemd's own `systemd-analyze verify` (which needs no running systemd) and read back
//! merged by `systemd-analyze cat-config`. systemd refuses to start a unit one of whose
//! `LoadCredential=` files is missing, so with only the files the platform's instructions create,
//! every credential the merged unit loads must exist — a Slack-only install must not need a
//! Telegram token. The credentials must be the ones the drop-in's config snippet reads (a config
//! the bot parses) and the platform's README must send people there.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use switchboard::config::Config;
use tempfile::TempDir;

/// Where systemd hands a service its credentials.
const CREDENTIALS: &str = "/run/credentials/switchboard.service/";

/// A way to run the bot with one platform (or the web console's admin token) and nothing else.
struct Platform {
    /// `deploy/credentials/<drop_in>.conf`.
    drop_in: &'static str,
    /// The README that sets the platform up.
    readme: &'static str,
    /// The files a person creates in `/etc/switchboard`, one credential each.
    secrets: &'static [&'static str],
}

const PLATFORMS: [Platform; 6] = [
    Platform {
        drop_in: "telegram",
        readme: "bots/telegram/README.md",
        secrets: &["telegram-token"],
    },
    Platform {
        drop_in: "slack",
        readme: "bots/slack/README.md",
        secrets: &["slack-bot-token", "slack-app-token"],
    },
    Platform {
        drop_in: "slack-events",
        readme: "bots/slack/README.md",
        secrets: &["slack-bot-token", "slack-signing-secret"],
    },
    Platform {
        drop_in: "discord",
        readme: "bots/discord/README.md",
        secrets: &["discord-token"],
    },
    Platform {
        drop_in: "github",
        readme: "bots/github/README.md",
        secrets: &["github-app.pem", "github-webhook-secret"],
    },
    Platform {
        drop_in: "web",
        readme: "deploy/README.md",
        secrets: &["web-admin-token"],
    },
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The unit installed under a scratch root, as its header's commands install it.
struct Install {
    root: TempDir,
}

impl Install {
    /// The unit, and `drop_ins` from `deploy/credentials/`.
    fn new(drop_ins: &[&str]) -> Install {
        let root = tempfile::tempdir().expect("a scratch root");
        let at = |p: &str| root.path().join(p.trim_start_matches('/'));
        // systemd's own units (the targets the unit names), from this machine.
        let system = ["/usr/lib/systemd/system", "/lib/systemd/system"]
            .into_iter()
            .find(|d| Path::new(d).join("multi-user.target").exists())
            .expect("systemd's units (apt-get install systemd: scripts/test-setup.sh)");
        copy_dir(Path::new(system), &at("/usr/lib/systemd/system"));
        let units = at("/etc/systemd/system");
        fs::create_dir_all(units.join("switchboard.service.d")).unwrap();
        fs::copy(
            repo("deploy/switchboard.service"),
            units.join("switchboard.service"),
        )
        .unwrap();
        for d in drop_ins {
            let name = format!("{d}.conf");
            fs::copy(
                repo(&format!("deploy/credentials/{name}")),
                units.join("switchboard.service.d").join(&name),
            )
            .unwrap_or_else(|e| panic!("deploy/credentials/{name}: {e}"));
        }
        let binary = at("/usr/local/bin/switchboard");
        fs::create_dir_all(binary.parent().unwrap()).unwrap();
        fs::write(&binary, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir_all(at("/etc/switchboard")).unwrap();
        Install { root }
    }

    fn path(&self, absolute: &str) -> PathBuf {
        self.root.path().join(absolute.trim_start_matches('/'))
    }

    /// `sudo install -m 0600 /dev/stdin /etc/switchboard/<name>`.
    fn secret(&self, name: &str) {
        let file = self.path(&format!("/etc/switchboard/{name}"));
        fs::write(&file, "a secret\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    }

    fn analyze(&self, args: &[&str]) -> std::process::Output {
        Command::new("systemd-analyze")
            .arg(format!("--root={}", self.root.path().display()))
            .args(args)
            .output()
            .expect("systemd-analyze (apt-get install systemd: scripts/test-setup.sh)")
    }

    /// `systemd-analyze verify` passes without a word.
    fn assert_verifies(&self, what: &str) {
        let unit = self.path("/etc/systemd/system/switchboard.service");
        let out = self.analyze(&["verify", "--man=no", unit.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && said.trim().is_empty(),
            "{what}: systemd-analyze verify: {said}"
        );
    }

    /// `LoadCredential=` of the unit merged with its drop-ins, as (id, path).
    fn credentials(&self) -> Vec<(String, String)> {
        let out = self.analyze(&["cat-config", "systemd/system/switchboard.service"]);
        assert!(out.status.success(), "{out:?}");
        let mut loaded = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some(value) = line.trim().strip_prefix("LoadCredential=") else {
                continue;
            };
            match value.split_once(':') {
                Some((id, path)) => loaded.push((id.to_owned(), path.to_owned())),
                // An empty assignment resets the list.
                None if value.is_empty() => loaded.clear(),
                None => panic!("LoadCredential={value}: no path"),
            }
        }
        loaded
    }

    /// Every credential the unit loads has its file: systemd would start it.
    fn assert_would_start(&self, what: &str) {
        for (id, path) in self.credentials() {
            assert!(
                self.path(&path).is_file(),
                "{what}: LoadCredential={id}:{path} has no file, so systemd would not start \
                 the service"
            );
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            let link = fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(link, target).unwrap();
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The TOML a drop-in's header tells people to put in the config (its indented `#   ` lines
/// from the `[table]` on).
fn config_snippet(drop_in: &str) -> String {
    let text = read(&format!("deploy/credentials/{drop_in}.conf"));
    text.lines()
        .skip_while(|l| !l.starts_with("#   ["))
        .map_while(|l| l.strip_prefix("#   "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The unit alone is the web console alone: it verifies and starts with no secret at all.
#[test]
fn the_unit_alone_starts_with_no_secret() {
    let install = Install::new(&[]);
    install.assert_verifies("the unit alone");
    assert_eq!(
        install.credentials(),
        vec![],
        "the unit loads no credential"
    );
    install.assert_would_start("the unit alone");
}

/// Each platform alone, installed as its drop-in's header says: systemd verifies it, and with
/// only that platform's secret files every credential is there. The drop-in loads exactly those
/// files, the config it shows reads them from the credentials directory (and parses), and the
/// platform's README points to it.
#[test]
fn each_platform_alone_starts_with_its_own_credentials() {
    for p in &PLATFORMS {
        let what = format!("{} alone", p.drop_in);
        let install = Install::new(&[p.drop_in]);
        for secret in p.secrets {
            install.secret(secret);
        }
        install.assert_verifies(&what);
        install.assert_would_start(&what);

        let loaded: BTreeSet<String> = install.credentials().into_iter().map(|c| c.0).collect();
        let wanted: BTreeSet<String> = p.secrets.iter().map(|s| s.to_string()).collect();
        assert_eq!(loaded, wanted, "{what}: the credentials it loads");
        let snippet = config_snippet(p.drop_in);
        Config::parse(&snippet).unwrap_or_else(|e| panic!("{what}: {snippet}\n{e:#}"));
        let readme = read(p.readme);
        assert!(
            readme.contains(&format!("credentials/{}.conf", p.drop_in)),
            "{}: name deploy/credentials/{}.conf",
            p.readme,
            p.drop_in
        );
        for secret in p.secrets {
            let credential = format!("\"{CREDENTIALS}{secret}\"");
            assert!(
                snippet.contains(&credential),
                "{what}: {snippet} reads {secret}"
            );
        }
    }
}

/// Every drop-in in `deploy/credentials/` is one of the platforms above, so none goes untested.
#[test]
fn every_drop_in_is_tested() {
    let found: BTreeSet<String> = fs::read_dir(repo("deploy/credentials"))
        .expect("deploy/credentials")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let tested: BTreeSet<String> = PLATFORMS
        .iter()
        .map(|p| format!("{}.conf", p.drop_in))
        .collect();
    assert_eq!(found, tested);
}
