//! Projects from the config: `/projects` on Telegram lists them with the chat's default marked,
//! the web console's API returns them to signed-in viewers only, and `switchboard check` names
//! them.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::db::Db;
use crate::support::harness::{Harness, Options, WEB_ADMIN_TOKEN};
use crate::support::web_client::WebClient;

/// Two projects: `web` is the default of Alice's private chat (its id is hers, 1001).
const PROJECTS: &str = r#"
[projects.web]
repo = "https://git.example.com/acme/web.git"
default_branch = "main"
hosts = ["remote", "local"]
telegram_chats = [1001]

[projects.api]
repo = "https://git.example.com/acme/api.git"
host = "remote"
slack_channels = ["C1001"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_are_listed_in_chats_on_the_web_and_by_check() {
    let mut options = Options::new(Db::Sqlite);
    options.extra_config = PROJECTS.to_owned();
    let t = Harness::start_with(options).await;
    assert_eq!(t.chat.id, 1001, "the chat the config names");

    t.say("/projects");
    assert_eq!(
        t.next().await.text,
        "Projects\n\n\
         • api · https://git.example.com/acme/api.git · the remote's default branch · on remote\n\
         • web · https://git.example.com/acme/web.git · branch main · on remote, local · this \
         chat's default"
    );

    t.wait_for_http().await;
    let mut web = WebClient::new(&t.web_url());
    assert_eq!(
        web.get_raw("/api/projects").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(web.sign_in(WEB_ADMIN_TOKEN).await.0, StatusCode::OK);
    let (status, body) = web.get("/api/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "projects": [
            {
                "name": "api",
                "repo": "https://git.example.com/acme/api.git",
                "default_branch": null,
                "hosts": ["remote"],
                "agent": null,
                "model": null,
            },
            {
                "name": "web",
                "repo": "https://git.example.com/acme/web.git",
                "default_branch": "main",
                "hosts": ["remote", "local"],
                "agent": null,
                "model": null,
            },
        ]})
    );

    let check = tokio::task::block_in_place(|| t.cli(&["check"]));
    let check = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.contains(
            "✓ projects: api (https://git.example.com/acme/api.git on remote); web \
             (https://git.example.com/acme/web.git on remote, local)"
        ),
        "{check}"
    );
}
