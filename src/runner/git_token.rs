//! How git on a host gets the platform's token without it reaching a URL, a file or a command
//! line: the script reads it from its stdin into a shell variable, and `gitc` runs git with a
//! credential helper that hands it out from the environment — only for the origin being fetched.
//! `runner::git` (GitHub checkouts), `runner::worktree` (project worktrees) and
//! `runner::shared_clone` (the clone both share) all start their scripts with [`prelude`].

use super::shell::{quote, quote_path};
use crate::config::Secret;

/// How git gets the token: a helper that answers `get` from the environment — only for the
/// protocol and host of the URL this script fetches or pushes. The checkout's own config is the
/// agent's to write: a `url.<elsewhere>.insteadOf` there would send the fetch (and so the
/// request for credentials) to another server, which is given nothing.
const CREDENTIAL_HELPER: &str = r#"!f() { test "$1" = get || return 0; p=; h=; while IFS= read -r l && [ -n "$l" ]; do case $l in protocol=*) p=${l#protocol=};; host=*) h=${l#host=};; esac; done; test -n "$SB_GIT_HOST" && test "$p" = "$SB_GIT_PROTOCOL" && test "$h" = "$SB_GIT_HOST" && echo username=x-access-token && echo "password=$SB_GIT_TOKEN"; }; f"#;

/// The protocol and host (with a port other than the scheme's own) git names in a credential
/// request for `url`, e.g. `("https", "github.com")`; `None` for a path or a URL without a host.
fn credential_origin(url: &str) -> Option<(String, String)> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let host = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Some((parsed.scheme().to_owned(), host))
}

/// The shell prelude of every script that fetches or pushes: reads the token, defines `gitc` (git with it for
/// `url`'s origin only, and without the checkout's hooks).
pub(super) fn prelude(dir: &str, url: &str) -> String {
    let (protocol, host) = credential_origin(url).unwrap_or_default();
    format!(
        r#"set -e
IFS= read -r sb_git_token
gitc() {{ SB_GIT_TOKEN=$sb_git_token SB_GIT_PROTOCOL={protocol} SB_GIT_HOST={host} git -c core.hooksPath=/dev/null -c credential.helper= -c credential.helper={helper} -c core.askPass= "$@"; }}
d={dir}
mkdir -p "$d"
cd "$d"
"#,
        protocol = quote(&protocol),
        host = quote(&host),
        helper = quote(CREDENTIAL_HELPER),
        dir = quote_path(dir),
    )
}

pub(super) fn stdin(token: &Secret) -> Vec<u8> {
    format!("{}\n", token.expose()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Asks the credential helper, as git would, for `protocol://host`.
    fn ask_helper(protocol: &str, host: &str) -> String {
        use std::io::Write;
        let script = CREDENTIAL_HELPER.strip_prefix('!').unwrap();
        let mut child = Command::new("sh")
            .args(["-c", &format!("{script} \"$@\""), "helper", "get"])
            .env("SB_GIT_TOKEN", "tok3n")
            .env("SB_GIT_PROTOCOL", "https")
            .env("SB_GIT_HOST", "github.example:8443")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        write!(
            child.stdin.take().unwrap(),
            "protocol={protocol}\nhost={host}\npath=o/r.git\n\n"
        )
        .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    }

    /// The token goes only to the origin of the URL being fetched: a checkout config that
    /// rewrites the URL (`insteadOf`) to another host or scheme gets nothing.
    #[test]
    fn the_helper_answers_only_for_the_fetched_origin() {
        assert_eq!(
            ask_helper("https", "github.example:8443"),
            "username=x-access-token\npassword=tok3n\n"
        );
        for (protocol, host) in [
            ("https", "evil.example"),
            ("https", "github.example"),
            ("http", "github.example:8443"),
            ("https", "github.example:8443.evil.example"),
        ] {
            assert_eq!(ask_helper(protocol, host), "", "{protocol}://{host}");
        }
        assert_eq!(
            credential_origin("https://github.example:8443/o/r.git"),
            Some(("https".into(), "github.example:8443".into()))
        );
        assert_eq!(
            credential_origin("https://github.com/o/r.git"),
            Some(("https".into(), "github.com".into()))
        );
        assert_eq!(credential_origin("/srv/git/r.git"), None);
    }
}
