//! Proves the fake GitHub against raw HTTP (reqwest), an independent JWT
//! signer and HMAC check (ring), and the real `git` client, so the
//! project's GitHub tests can trust it.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::support::fake_github::{
    CallAuth, CommentAction, FakeGitHub, FakeGitHubConfig, FakePr, FakeRepo, FakeUser, PrAction,
    UserKind,
};

const T: Duration = Duration::from_secs(10);

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Signs a JWT with a PKCS#1 PEM, independently of the fake.
fn sign_jwt(pem: &str, claims: &Value) -> String {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(b64).unwrap();
    let pair = RsaKeyPair::from_der(&der).unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        format!("{header}.{payload}").as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn app_jwt(fake: &FakeGitHub) -> String {
    let now = unix_now();
    sign_jwt(
        &fake.app_private_key_pem(),
        &json!({"iss": fake.app_id(), "iat": now - 60, "exp": now + 540}),
    )
}

async fn token_request(fake: &FakeGitHub, authorization: Option<String>) -> reqwest::Response {
    let url = format!(
        "{}/app/installations/{}/access_tokens",
        fake.api_url(),
        fake.installation_id()
    );
    let mut req = reqwest::Client::new()
        .post(url)
        .header("accept", "application/vnd.github+json");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

async fn installation_token(fake: &FakeGitHub) -> String {
    let res = token_request(fake, Some(format!("Bearer {}", app_jwt(fake)))).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A REST client authenticated with a fresh installation token.
struct Api {
    fake: FakeGitHub,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn new(fake: &FakeGitHub) -> Self {
        Self {
            fake: fake.clone(),
            token: installation_token(fake).await,
            http: reqwest::Client::new(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.fake.api_url()))
            .header("authorization", format!("token {}", self.token))
            .header("accept", "application/vnd.github+json")
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let res = self.req(reqwest::Method::GET, path).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let res = self.req(method, path).json(&body).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }
}

struct World {
    fake: FakeGitHub,
    owner: FakeUser,
    repo: FakeRepo,
    pr: FakePr,
}

/// `alice/widgets` with a PR from `feature` (two commits: a change, a new
/// file and a deletion) into `main`.
async fn world(config: FakeGitHubConfig) -> World {
    let fake = FakeGitHub::start(config).await;
    let owner = fake.user("alice", UserKind::User);
    let repo = fake.create_repo(
        "alice",
        "widgets",
        &[
            ("README.md", "# Widgets\n\nline 3\nline 4\nline 5\n"),
            ("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n"),
            ("old.txt", "to be removed\n"),
        ],
    );
    fake.commit(
        &repo,
        "feature",
        &[
            (
                "README.md",
                Some("# Widgets\n\nline 3\nline four\nline 5\n"),
            ),
            ("src/two.rs", Some("pub fn two() -> u32 {\n    2\n}\n")),
        ],
        "Add two",
        &owner,
    );
    fake.commit(
        &repo,
        "feature",
        &[("old.txt", None)],
        "Remove old.txt",
        &owner,
    );
    let pr = fake.open_pr(&repo, "feature", "main", "Add two", "Adds `two`.", &owner);
    World {
        fake,
        owner,
        repo,
        pr,
    }
}

async fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = tokio::process::Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

// ---- App authentication -----------------------------------------------------

#[tokio::test]
async fn app_jwt_is_checked_like_github() {
    let fake = FakeGitHub::start(FakeGitHubConfig::default()).await;
    assert!(
        fake.app_private_key_pem()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
    );

    let res = token_request(&fake, Some(format!("Bearer {}", app_jwt(&fake)))).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("ghs_") && token.len() == 40, "{token}");
    assert_eq!(body["repository_selection"], "all");
    assert_eq!(body["permissions"]["pull_requests"], "write");
    let expires: SystemTime =
        humantime::parse_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires.duration_since(SystemTime::now()).unwrap();
    assert!(
        ttl > Duration::from_secs(3590) && ttl <= Duration::from_secs(3600),
        "{ttl:?}"
    );
    assert_eq!(fake.issued_tokens(), [token.to_string()]);

    // `iss` may be a string.
    let now = unix_now();
    let jwt = sign_jwt(
        &fake.app_private_key_pem(),
        &json!({"iss": fake.app_id().to_string(), "iat": now, "exp": now + 600}),
    );
    assert_eq!(
        token_request(&fake, Some(format!("Bearer {jwt}")))
            .await
            .status(),
        201
    );

    let other_key = FakeGitHub::start(FakeGitHubConfig::default())
        .await
        .app_private_key_pem();
    let cases = [
        (
            "another key",
            sign_jwt(
                &other_key,
                &json!({"iss": fake.app_id(), "iat": now, "exp": now + 60}),
            ),
            "A JSON web token could not be decoded",
        ),
        (
            "wrong iss",
            sign_jwt(
                &fake.app_private_key_pem(),
                &json!({"iss": 1, "iat": now, "exp": now + 60}),
            ),
            "A JSON web token could not be decoded",
        ),
        (
            "expired",
            sign_jwt(
                &fake.app_private_key_pem(),
                &json!({"iss": fake.app_id(), "iat": now - 700, "exp": now - 100}),
            ),
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ),
        (
            "too long",
            sign_jwt(
                &fake.app_private_key_pem(),
                &json!({"iss": fake.app_id(), "iat": now, "exp": now + 1200}),
            ),
            "'Expiration time' claim ('exp') is too far in the future",
        ),
        (
            "an installation token",
            token.to_string(),
            "A JSON web token could not be decoded",
        ),
    ];
    for (what, jwt, message) in cases {
        let res = token_request(&fake, Some(format!("Bearer {jwt}"))).await;
        assert_eq!(res.status(), 401, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["message"], message, "{what}");
        assert_eq!(body["documentation_url"], "https://docs.github.com/rest");
    }
    let res = token_request(&fake, None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "A JSON web token could not be decoded"
    );
    // Another installation: not found.
    let res = reqwest::Client::new()
        .post(format!(
            "{}/app/installations/1/access_tokens",
            fake.api_url()
        ))
        .bearer_auth(app_jwt(&fake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        fake.issued_tokens().len(),
        2,
        "refused requests issue nothing"
    );
    let res = reqwest::Client::new()
        .get(format!("{}/app", fake.api_url()))
        .bearer_auth(app_jwt(&fake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["slug"], "switchboard");
}

#[tokio::test]
async fn installation_token_is_required_and_expires() {
    let w = world(FakeGitHubConfig::default()).await;
    let url = format!("{}/repos/alice/widgets", w.fake.api_url());
    let http = reqwest::Client::new();

    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Requires authentication"
    );
    let res = http
        .get(&url)
        .header("authorization", "token ghs_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Bad credentials"
    );
    // The App JWT is not an installation token.
    let res = http
        .get(&url)
        .bearer_auth(app_jwt(&w.fake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let token = installation_token(&w.fake).await;
    for auth in [format!("token {token}"), format!("Bearer {token}")] {
        let res = http
            .get(&url)
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-ratelimit-limit"], "5000");
        assert_eq!(res.headers()["x-ratelimit-resource"], "core");
    }
    let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.headers()["x-ratelimit-used"], "3");
    assert_eq!(res.headers()["x-ratelimit-remaining"], "4997");

    w.fake.expire_tokens();
    let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Bad credentials"
    );
    let auths: Vec<CallAuth> = w.fake.calls().iter().map(|c| c.auth).collect();
    assert_eq!(auths.first(), Some(&CallAuth::None));
    assert_eq!(auths.last(), Some(&CallAuth::Rejected));
    // A fresh token works again.
    let token = installation_token(&w.fake).await;
    assert_eq!(
        http.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

// ---- REST -------------------------------------------------------------------

#[tokio::test]
async fn repository_and_collaborator_permissions() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    let (status, repo) = api.get("/repos/alice/widgets").await;
    assert_eq!(status, 200);
    assert_eq!(repo["id"], w.repo.id);
    assert_eq!(repo["full_name"], "alice/widgets");
    assert_eq!(repo["owner"]["login"], "alice");
    assert_eq!(repo["owner"]["type"], "User");
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(repo["private"], true);
    assert_eq!(repo["fork"], false);
    assert_eq!(
        repo["clone_url"],
        format!("{}/alice/widgets.git", w.fake.api_url())
    );
    assert_eq!(api.get("/repos/alice/nothing").await.0, 404);

    let bob = w.fake.user("bob", UserKind::User);
    let carol = w.fake.user("carol", UserKind::User);
    let dave = w.fake.user("dave", UserKind::User);
    w.fake.user("mallory", UserKind::User);
    let impostor = w.fake.user("switchboard-fan[bot]", UserKind::User);
    w.fake.set_permission(&w.repo, &bob, "write");
    w.fake.set_permission(&w.repo, &carol, "maintain");
    w.fake.set_permission(&w.repo, &dave, "triage");
    w.fake.set_permission(&w.repo, &impostor, "read");
    let expect = [
        ("alice", "admin", "admin"),
        ("bob", "write", "write"),
        ("carol", "write", "maintain"),
        ("dave", "read", "triage"),
        ("mallory", "none", "none"),
        ("switchboard-fan%5Bbot%5D", "read", "read"),
    ];
    for (login, permission, role) in expect {
        let (status, body) = api
            .get(&format!(
                "/repos/alice/widgets/collaborators/{login}/permission"
            ))
            .await;
        assert_eq!(status, 200, "{login}");
        assert_eq!(body["permission"], permission, "{login}");
        assert_eq!(body["role_name"], role, "{login}");
        assert_eq!(
            body["user"]["login"],
            login.replace("%5B", "[").replace("%5D", "]")
        );
    }
    let (status, _) = api
        .get("/repos/alice/widgets/collaborators/nobody-here/permission")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn issues_pull_requests_diff_and_files_match_git() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    let issue = w
        .fake
        .create_issue(&w.repo, "A bug", "It breaks.", &w.owner);

    let (status, i) = api
        .get(&format!("/repos/alice/widgets/issues/{}", issue.number))
        .await;
    assert_eq!(status, 200);
    assert_eq!(i["number"], issue.number);
    assert_eq!(i["title"], "A bug");
    assert_eq!(i["body"], "It breaks.");
    assert_eq!(i["user"]["login"], "alice");
    assert_eq!(i["state"], "open");
    assert!(
        i.get("pull_request").is_none(),
        "an issue has no pull_request"
    );

    let (_, i) = api
        .get(&format!("/repos/alice/widgets/issues/{}", w.pr.number))
        .await;
    assert_eq!(
        i["pull_request"]["url"],
        format!(
            "{}/repos/alice/widgets/pulls/{}",
            w.fake.api_url(),
            w.pr.number
        )
    );
    assert!(
        i["pull_request"]["diff_url"]
            .as_str()
            .unwrap()
            .ends_with(".diff")
    );

    let bare = w.fake.bare_repo_path(&w.repo);
    let head = git_out(&bare, &["rev-parse", "refs/heads/feature"]).await;
    let base = git_out(&bare, &["rev-parse", "refs/heads/main"]).await;
    let (head, base) = (head.trim(), base.trim());
    assert_eq!(w.fake.head_sha(&w.pr), head);
    assert_eq!(
        git_out(
            &bare,
            &["rev-parse", &format!("refs/pull/{}/head", w.pr.number)]
        )
        .await
        .trim(),
        head
    );

    let (status, p) = api
        .get(&format!("/repos/alice/widgets/pulls/{}", w.pr.number))
        .await;
    assert_eq!(status, 200);
    assert_eq!(p["number"], w.pr.number);
    assert_eq!(p["title"], "Add two");
    assert_eq!(p["state"], "open");
    assert_eq!(p["draft"], false);
    assert_eq!(p["maintainer_can_modify"], false);
    assert_eq!(p["head"]["ref"], "feature");
    assert_eq!(p["head"]["sha"], head);
    assert_eq!(p["head"]["label"], "alice:feature");
    assert_eq!(p["head"]["repo"]["full_name"], "alice/widgets");
    assert_eq!(p["base"]["ref"], "main");
    assert_eq!(p["base"]["sha"], base);
    assert_eq!(p["commits"], 2);
    assert_eq!(p["changed_files"], 3);
    assert_eq!(api.get("/repos/alice/widgets/pulls/99").await.0, 404);
    let (status, _) = api
        .get(&format!("/repos/alice/widgets/pulls/{}", issue.number))
        .await;
    assert_eq!(status, 404, "an issue is not a pull request");

    // The diff, as git computes it from the merge base.
    let expected = git_out(&bare, &["diff", "-M", &format!("{base}...{head}")]).await;
    for accept in [
        "application/vnd.github.diff",
        "application/vnd.github.v3.diff",
    ] {
        let res = api
            .req(
                reqwest::Method::GET,
                &format!("/repos/alice/widgets/pulls/{}", w.pr.number),
            )
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            content_type.starts_with("application/vnd.github.diff"),
            "{content_type}"
        );
        assert_eq!(res.text().await.unwrap(), expected);
    }

    let (status, files) = api
        .get(&format!("/repos/alice/widgets/pulls/{}/files", w.pr.number))
        .await;
    assert_eq!(status, 200);
    let numstat = git_out(&bare, &["diff", "--numstat", &format!("{base}...{head}")]).await;
    let mut from_git: Vec<(String, u64, u64)> = numstat
        .lines()
        .map(|l| {
            let mut p = l.split('\t');
            let a = p.next().unwrap().parse().unwrap();
            let d = p.next().unwrap().parse().unwrap();
            (p.next().unwrap().to_string(), a, d)
        })
        .collect();
    let mut from_fake: Vec<(String, u64, u64)> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(
                f["changes"],
                f["additions"].as_u64().unwrap() + f["deletions"].as_u64().unwrap()
            );
            (
                f["filename"].as_str().unwrap().to_string(),
                f["additions"].as_u64().unwrap(),
                f["deletions"].as_u64().unwrap(),
            )
        })
        .collect();
    from_git.sort();
    from_fake.sort();
    assert_eq!(from_fake, from_git);
    let status_of = |name: &str| {
        files
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["filename"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of("old.txt"), "removed");
    assert_eq!(status_of("src/two.rs"), "added");
    assert_eq!(status_of("README.md"), "modified");
    let readme = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["filename"] == "README.md")
        .unwrap();
    assert_eq!(
        readme["patch"],
        "@@ -1,5 +1,5 @@\n # Widgets\n \n line 3\n-line 4\n+line four\n line 5"
    );
}

#[tokio::test]
async fn issue_comments_round_trip_and_the_length_limit() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    let bob = w.fake.user("bob", UserKind::User);
    let trigger = w
        .fake
        .comment(&w.repo, w.pr.number, &bob, "@switchboard fix it");
    let path = format!("/repos/alice/widgets/issues/{}/comments", w.pr.number);

    let (status, c) = api
        .send(reqwest::Method::POST, &path, json!({"body": "working…"}))
        .await;
    assert_eq!(status, 201);
    let id = c["id"].as_u64().unwrap();
    assert!(id > trigger.id, "ids grow");
    assert_eq!(c["user"]["login"], "switchboard[bot]");
    assert_eq!(c["user"]["type"], "Bot");
    assert_eq!(c["body"], "working…");
    assert_eq!(c["performed_via_github_app"]["slug"], "switchboard");
    assert!(
        c["html_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/pull/{}#issuecomment-{id}", w.pr.number))
    );
    assert!(c["node_id"].is_string());
    assert_eq!(c["author_association"], "NONE");
    let created_at = c["created_at"].as_str().unwrap().to_string();

    let edit = format!("/repos/alice/widgets/issues/comments/{id}");
    let (status, e) = api
        .send(reqwest::Method::PATCH, &edit, json!({"body": "done"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(e["body"], "done");
    assert_eq!(e["created_at"], created_at.as_str());
    assert!(
        e["updated_at"].as_str().unwrap() > created_at.as_str(),
        "updated_at moves on"
    );
    let (status, single) = api.get(&edit).await;
    assert_eq!((status, single["body"].clone()), (200, json!("done")));

    let (status, list) = api.get(&path).await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["user"]["login"], "bob");
    assert_eq!(list[0]["author_association"], "NONE");
    assert_eq!(list[1]["id"], id);

    let state = w.fake.comments(&w.repo, w.pr.number);
    assert_eq!(state[1].author, "switchboard[bot]");
    assert_eq!(state[1].body, "done");
    assert_eq!(state[1].edits(), 1);
    assert_eq!(state[1].versions[0].body, "working…");
    assert!(state[1].created_at > state[0].created_at);

    // GitHub's limit is 65,536 characters (not bytes).
    let at_limit = "ü".repeat(65_536);
    let (status, _) = api
        .send(reqwest::Method::PATCH, &edit, json!({"body": at_limit}))
        .await;
    assert_eq!(status, 200);
    for (method, p) in [
        (reqwest::Method::POST, &path),
        (reqwest::Method::PATCH, &edit),
    ] {
        let (status, body) = api
            .send(method, p, json!({"body": "x".repeat(65_537)}))
            .await;
        assert_eq!(status, 422);
        assert_eq!(body["message"], "Validation Failed");
        assert_eq!(
            body["errors"],
            json!([{
                "resource": "IssueComment", "code": "custom", "field": "body",
                "message": "body is too long (maximum is 65536 characters)",
            }])
        );
    }
    let (status, body) = api
        .send(reqwest::Method::POST, &path, json!({"text": "no body"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["code"], "missing_field");
    assert_eq!(
        w.fake.comments(&w.repo, w.pr.number).len(),
        2,
        "refused posts leave nothing"
    );
    assert_eq!(
        api.send(
            reqwest::Method::POST,
            "/repos/alice/widgets/issues/77/comments",
            json!({"body": "x"})
        )
        .await
        .0,
        404
    );

    // wait_for_comment sees the current state.
    let found = w
        .fake
        .wait_for_comment(
            &w.repo,
            w.pr.number,
            |c| c.author == "switchboard[bot]" && c.edits() == 2,
            T,
        )
        .await;
    assert_eq!(found.id, id);
}

#[tokio::test]
async fn comment_pages_carry_a_link_header() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    let bob = w.fake.user("bob", UserKind::User);
    for i in 0..5 {
        w.fake
            .comment(&w.repo, w.pr.number, &bob, &format!("comment {i}"));
    }
    let path = format!("/repos/alice/widgets/issues/{}/comments", w.pr.number);
    let mut url = format!("{}{path}?per_page=2", w.fake.api_url());
    let mut bodies = Vec::new();
    let mut pages = 0;
    loop {
        let res = api
            .http
            .get(&url)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        let link = res
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_string());
        let page: Vec<Value> = res.json().await.unwrap();
        bodies.extend(page.iter().map(|c| c["body"].as_str().unwrap().to_string()));
        pages += 1;
        let link = link.expect("every page of a multi-page list has a Link header");
        if pages == 1 {
            assert_eq!(
                link,
                format!(
                    "<{0}{path}?per_page=2&page=2>; rel=\"next\", <{0}{path}?per_page=2&page=3>; rel=\"last\"",
                    w.fake.api_url()
                )
            );
        }
        let next = link
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_string());
        match next {
            Some(next) => url = next,
            None => {
                assert!(link.contains("rel=\"first\""));
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        bodies,
        (0..5).map(|i| format!("comment {i}")).collect::<Vec<_>>()
    );
    let res = api.req(reqwest::Method::GET, &path).send().await.unwrap();
    assert!(
        res.headers().get("link").is_none(),
        "one page (30 by default)"
    );
}

#[tokio::test]
async fn review_comments_replies_reactions_and_reviews() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    let bob = w.fake.user("bob", UserKind::User);
    let n = w.pr.number;
    let inline = w
        .fake
        .review_comment(&w.pr, &bob, "README.md", 4, "@switchboard why four?");

    let (status, list) = api
        .get(&format!("/repos/alice/widgets/pulls/{n}/comments"))
        .await;
    assert_eq!(status, 200);
    let c = &list[0];
    assert_eq!(c["id"], inline.id);
    assert_eq!(c["path"], "README.md");
    assert_eq!(c["line"], 4);
    assert_eq!(c["original_line"], 4);
    assert_eq!(c["side"], "RIGHT");
    assert_eq!(c["commit_id"], w.fake.head_sha(&w.pr));
    assert_eq!(
        c["diff_hunk"],
        "@@ -1,5 +1,5 @@\n # Widgets\n \n line 3\n-line 4\n+line four"
    );
    assert_eq!(c["user"]["login"], "bob");
    assert!(c.get("in_reply_to_id").is_none());
    assert!(c["pull_request_review_id"].is_u64());

    let (status, reply) = api
        .send(
            reqwest::Method::POST,
            &format!(
                "/repos/alice/widgets/pulls/{n}/comments/{}/replies",
                inline.id
            ),
            json!({"body": "Because."}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(reply["in_reply_to_id"], inline.id);
    assert_eq!(reply["path"], "README.md");
    assert_eq!(reply["user"]["login"], "switchboard[bot]");
    assert_eq!(
        w.fake.review_comments(&w.pr)[1].in_reply_to_id,
        Some(inline.id)
    );
    let (status, _) = api
        .send(
            reqwest::Method::POST,
            &format!("/repos/alice/widgets/pulls/{n}/comments/999/replies"),
            json!({"body": "x"}),
        )
        .await;
    assert_eq!(status, 404);

    // Reactions: 201 the first time, 200 when the same one exists.
    let on_review = format!(
        "/repos/alice/widgets/pulls/comments/{}/reactions",
        inline.id
    );
    let (status, r) = api
        .send(
            reqwest::Method::POST,
            &on_review,
            json!({"content": "eyes"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(r["content"], "eyes");
    assert_eq!(r["user"]["login"], "switchboard[bot]");
    let (status, again) = api
        .send(
            reqwest::Method::POST,
            &on_review,
            json!({"content": "eyes"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], r["id"]);
    let (status, _) = api
        .send(
            reqwest::Method::POST,
            &on_review,
            json!({"content": "thumbsup"}),
        )
        .await;
    assert_eq!(status, 422);
    let trigger = w.fake.comment(&w.repo, n, &bob, "@switchboard hi");
    let on_issue = format!(
        "/repos/alice/widgets/issues/comments/{}/reactions",
        trigger.id
    );
    assert_eq!(
        api.send(reqwest::Method::POST, &on_issue, json!({"content": "+1"}))
            .await
            .0,
        201
    );
    w.fake
        .wait_for_reaction(&trigger, "switchboard[bot]", "+1", T)
        .await;
    assert_eq!(
        w.fake.reactions(inline.id),
        [("switchboard[bot]".to_string(), "eyes".to_string())]
    );
    let (_, c) = api
        .get(&format!(
            "/repos/alice/widgets/issues/comments/{}",
            trigger.id
        ))
        .await;
    assert_eq!(c["reactions"]["+1"], 1);
    assert_eq!(c["reactions"]["total_count"], 1);

    // Reviews.
    let reviews = format!("/repos/alice/widgets/pulls/{n}/reviews");
    let (status, rv) = api
        .send(
            reqwest::Method::POST,
            &reviews,
            json!({"body": "Safe to merge", "event": "COMMENT"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rv["state"], "COMMENTED");
    assert_eq!(rv["body"], "Safe to merge");
    assert_eq!(rv["user"]["login"], "switchboard[bot]");
    assert_eq!(rv["commit_id"], w.fake.head_sha(&w.pr));
    assert!(rv["submitted_at"].is_string());
    let id = rv["id"].as_u64().unwrap();
    let (status, up) = api
        .send(
            reqwest::Method::PUT,
            &format!("{reviews}/{id}"),
            json!({"body": "Needs attention"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(up["body"], "Needs attention");
    let (status, _) = api
        .send(
            reqwest::Method::POST,
            &reviews,
            json!({"event": "REQUEST_CHANGES"}),
        )
        .await;
    assert_eq!(status, 422, "REQUEST_CHANGES needs a body");
    let (status, with_inline) = api
        .send(
            reqwest::Method::POST,
            &reviews,
            json!({"body": "see inline", "event": "COMMENT",
                   "comments": [{"path": "src/two.rs", "line": 2, "body": "nice"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let inline_of_review = w
        .fake
        .review_comments(&w.pr)
        .into_iter()
        .find(|c| c.body == "nice")
        .unwrap();
    assert_eq!(inline_of_review.path.as_deref(), Some("src/two.rs"));
    let (status, _) = api
        .send(
            reqwest::Method::POST,
            &reviews,
            json!({"body": "x", "event": "COMMENT", "comments": [{"path": "src/lib.rs", "line": 1, "body": "not in diff"}]}),
        )
        .await;
    assert_eq!(status, 422);

    let (status, listed) = api.get(&reviews).await;
    assert_eq!(status, 200);
    let states: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user"]["login"].as_str().unwrap(),
                r["body"].as_str().unwrap(),
            )
        })
        .collect();
    // The single review comment and the reply each came with a review.
    assert_eq!(
        states,
        [
            ("bob", ""),
            ("switchboard[bot]", ""),
            ("switchboard[bot]", "Needs attention"),
            ("switchboard[bot]", "see inline"),
        ]
    );
    let mine = w
        .fake
        .wait_for_review(&w.pr, |r| r.body == "Needs attention", T)
        .await;
    assert_eq!(mine.id, id);
    assert_eq!(mine.edits(), 1);
    assert_eq!(mine.state, "COMMENTED");
    assert_eq!(with_inline["state"], "COMMENTED");
}

#[tokio::test]
async fn unknown_routes_are_githubs_404() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    for path in [
        "/repos/alice/widgets/branches",
        "/user",
        "/repos/alice/widgets/issues/abc",
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["message"], "Not Found");
        assert_eq!(body["documentation_url"], "https://docs.github.com/rest");
    }
    let (status, _) = api
        .send(
            reqwest::Method::DELETE,
            "/repos/alice/widgets/issues/comments/1",
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn secondary_rate_limit_blocks_content_creation_and_records_violations() {
    let w = world(FakeGitHubConfig {
        content_per_minute: 3,
        ..FakeGitHubConfig::default()
    })
    .await;
    let api = Api::new(&w.fake).await;
    let path = format!("/repos/alice/widgets/issues/{}/comments", w.pr.number);
    for i in 0..3 {
        let (status, _) = api
            .send(
                reqwest::Method::POST,
                &path,
                json!({"body": format!("{i}")}),
            )
            .await;
        assert_eq!(status, 201);
    }
    // Reads are not content creation.
    assert_eq!(api.get(&path).await.0, 200);
    let res = api
        .req(reqwest::Method::POST, &path)
        .json(&json!({"body": "too many"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(res.headers().contains_key("x-ratelimit-remaining"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["message"],
        "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later."
    );
    assert!(
        w.fake.violations().is_empty(),
        "the first 403 is not a violation"
    );

    // Ignoring retry-after: a reaction inside the window.
    let c = w.fake.comments(&w.repo, w.pr.number)[0].id;
    let (status, _) = api
        .send(
            reqwest::Method::POST,
            &format!("/repos/alice/widgets/issues/comments/{c}/reactions"),
            json!({"content": "eyes"}),
        )
        .await;
    assert_eq!(status, 403);
    let violations = w.fake.violations();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].method, "POST");
    assert!(violations[0].path.ends_with("/reactions"));
    assert!(violations[0].early_by() > Duration::ZERO);
    assert_eq!(w.fake.comments(&w.repo, w.pr.number).len(), 3);
    assert!(w.fake.reactions(c).is_empty());
}

// ---- Pull requests and checks -------------------------------------------------

#[tokio::test]
async fn pull_requests_are_listed_and_opened_like_github() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    let tip = w.fake.commit(
        &w.repo,
        "switchboard/ab12",
        &[("notes.md", Some("notes\n"))],
        "Take notes",
        &w.owner,
    );
    let open = |head: &str, base: &str| json!({"title": "Take notes", "head": head, "base": base, "body": "From the thread."});
    let post = |body: Value| api.send(reqwest::Method::POST, "/repos/alice/widgets/pulls", body);

    let (status, created) = post(open("alice:switchboard/ab12", "main")).await;
    assert_eq!(status, 201, "{created:#}");
    let number = created["number"].as_u64().unwrap();
    assert_eq!(created["head"]["ref"], "switchboard/ab12");
    assert_eq!(created["head"]["label"], "alice:switchboard/ab12");
    assert_eq!(created["head"]["sha"], tip);
    assert_eq!(created["base"]["ref"], "main");
    assert_eq!(created["user"]["login"], w.fake.app_user().login);
    assert_eq!(created["state"], "open");
    let bare = w.fake.bare_repo_path(&w.repo);
    let pull_ref = git_out(&bare, &["rev-parse", &format!("refs/pull/{number}/head")]).await;
    assert_eq!(
        pull_ref.trim(),
        tip,
        "refs/pull/N/head is there before the answer"
    );

    // GitHub's 422s.
    let (status, again) = post(open("switchboard/ab12", "main")).await;
    assert_eq!(status, 422);
    assert_eq!(again["message"], "Validation Failed");
    assert_eq!(
        again["errors"][0]["message"],
        "A pull request already exists for alice:switchboard/ab12."
    );
    let field_of = |v: &Value| {
        (
            v["errors"][0]["field"].clone(),
            v["errors"][0]["code"].clone(),
        )
    };
    let (status, v) = post(open("nope", "main")).await;
    assert_eq!(
        (status, field_of(&v)),
        (422, (json!("head"), json!("invalid")))
    );
    let (status, v) = post(open("switchboard/ab12", "nope")).await;
    assert_eq!(
        (status, field_of(&v)),
        (422, (json!("base"), json!("invalid")))
    );
    let (status, v) = post(open("mallory:switchboard/ab12", "main")).await;
    assert_eq!(
        (status, field_of(&v)),
        (422, (json!("head"), json!("invalid")))
    );
    let (status, v) = post(json!({"head": "feature", "base": "main"})).await;
    assert_eq!(
        (status, field_of(&v)),
        (422, (json!("title"), json!("missing_field")))
    );
    // A branch at the base's commit, as a session's that changed nothing (the fake reads the
    // branches again after its next commit).
    let main = w.fake.branch_sha(&w.repo, "main").unwrap();
    git_out(&bare, &["update-ref", "refs/heads/unchanged", &main]).await;
    w.fake
        .commit(&w.repo, "other", &[("y", Some("y\n"))], "Other", &w.owner);
    let (status, v) = post(open("unchanged", "main")).await;
    assert_eq!(status, 422);
    assert_eq!(
        v["errors"][0]["message"],
        "No commits between main and unchanged"
    );
    assert_eq!(
        w.fake.pull_requests(&w.repo).len(),
        2,
        "no refused create opened one"
    );

    // Lists: newest first; `head` filters only as owner:branch.
    let numbers = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    let (status, all) = api.get("/repos/alice/widgets/pulls").await;
    assert_eq!((status, numbers(&all)), (200, vec![number, w.pr.number]));
    let (_, mine) = api
        .get("/repos/alice/widgets/pulls?head=alice:switchboard/ab12&state=open")
        .await;
    assert_eq!(numbers(&mine), [number]);
    let (_, bare_name) = api
        .get("/repos/alice/widgets/pulls?head=switchboard/ab12")
        .await;
    assert_eq!(
        numbers(&bare_name).len(),
        2,
        "a bare branch name filters nothing"
    );
    let (_, into_main) = api
        .get("/repos/alice/widgets/pulls?base=main&direction=asc")
        .await;
    assert_eq!(numbers(&into_main), [w.pr.number, number]);
    let (_, closed) = api.get("/repos/alice/widgets/pulls?state=closed").await;
    assert_eq!(numbers(&closed), Vec::<u64>::new());
}

/// The keys of each object in a fixture payload that the fake's payload lacks, arrays compared by
/// their first items; an app's `permissions` (its own choice) and an account's `*_url` templates
/// (left out of every object of the fake, see its docs) aside.
fn missing_keys(fixture: &Value, ours: &Value, at: &str, out: &mut Vec<String>) {
    if let (Some(theirs), Some(mine)) = (fixture.as_array(), ours.as_array()) {
        if let (Some(t), Some(m)) = (theirs.first(), mine.first()) {
            missing_keys(t, m, &format!("{at}[0]"), out);
        }
        return;
    }
    let (Some(theirs), Some(mine)) = (fixture.as_object(), ours.as_object()) else {
        return;
    };
    for (key, value) in theirs {
        if key == "permissions" || (at.ends_with(".owner") && key.ends_with("_url")) {
            continue;
        }
        match mine.get(key) {
            None => out.push(format!("{at}.{key}")),
            Some(m) => missing_keys(value, m, &format!("{at}.{key}"), out),
        }
    }
}

/// The first example of `event` with `action` in the `@octokit/webhooks-examples` fixtures.
fn fixture(event: &str, action: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/github/webhooks/{event}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let examples: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    examples
        .into_iter()
        .find(|e| e["action"] == action)
        .unwrap()
}

#[tokio::test]
async fn check_runs_are_listed_and_reported_like_github() {
    let w = world(FakeGitHubConfig::default()).await;
    let api = Api::new(&w.fake).await;
    let (url, mut rx) = receiver().await;
    let head = w.fake.head_sha(&w.pr);
    let lint = w
        .fake
        .add_check_run(&w.repo, "feature", "lint", "queued", None);
    let test = w
        .fake
        .add_check_run(&w.repo, &head, "test", "completed", Some("failure"));

    // REST: by branch or commit, newest first.
    let names = |v: &Value| {
        v["check_runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (status, by_branch) = api
        .get("/repos/alice/widgets/commits/feature/check-runs")
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_branch["total_count"], 2);
    assert_eq!(names(&by_branch), ["test", "lint"]);
    let failed = &by_branch["check_runs"][0];
    assert_eq!(
        (
            &failed["status"],
            &failed["conclusion"],
            &failed["head_sha"]
        ),
        (&json!("completed"), &json!("failure"), &json!(head))
    );
    assert_eq!(failed["app"]["slug"], "github-actions");
    assert_eq!(failed["pull_requests"][0]["number"], w.pr.number);
    let (_, by_sha) = api
        .get(&format!(
            "/repos/alice/widgets/commits/{head}/check-runs?status=queued"
        ))
        .await;
    assert_eq!(names(&by_sha), ["lint"]);
    let (status, unknown) = api
        .get("/repos/alice/widgets/commits/nope/check-runs")
        .await;
    assert_eq!(status, 422);
    assert_eq!(unknown["message"], "No commit found for SHA: nope");

    // The run's end is reported; the suite waits for its other run.
    let sent = w.fake.report_check_run(&url, &test).await;
    assert_eq!(sent.len(), 1);
    let (h, body) = rx.recv().await.unwrap();
    assert_eq!(header(&h, "x-github-event"), "check_run");
    let p: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["action"], "completed");
    assert_eq!(p["check_run"]["name"], "test");
    assert_eq!(p["check_run"]["conclusion"], "failure");
    assert_eq!(p["check_run"]["head_sha"], head);
    assert!(
        p["check_run"]["html_url"]
            .as_str()
            .unwrap()
            .starts_with(&w.fake.api_url())
    );
    assert_eq!(p["check_run"]["check_suite"]["status"], "in_progress");
    assert_eq!(p["check_run"]["check_suite"]["head_branch"], "feature");
    assert_eq!(p["installation"]["id"], w.fake.installation_id());
    assert_eq!(p["repository"]["full_name"], "alice/widgets");
    let mut missing = Vec::new();
    let example = fixture("check_run", "completed");
    missing_keys(
        &example["check_run"],
        &p["check_run"],
        "check_run",
        &mut missing,
    );
    assert!(
        missing.is_empty(),
        "keys GitHub sends that the fake lacks: {missing:?}"
    );

    // The last run ends: the suite concludes with the worst of its runs.
    w.fake.complete_check_run(&lint, "success");
    let sent = w.fake.report_check_run(&url, &lint).await;
    assert_eq!(
        sent.iter().map(|d| d.event.as_str()).collect::<Vec<_>>(),
        ["check_run", "check_suite"]
    );
    rx.recv().await.unwrap();
    let (h, body) = rx.recv().await.unwrap();
    assert_eq!(header(&h, "x-github-event"), "check_suite");
    let p: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["action"], "completed");
    let suite = &p["check_suite"];
    assert_eq!(
        (&suite["status"], &suite["conclusion"]),
        (&json!("completed"), &json!("failure"))
    );
    assert_eq!(suite["head_sha"], head);
    assert_eq!(suite["head_commit"]["id"], head);
    assert_eq!(suite["head_commit"]["message"], "Remove old.txt");
    assert_eq!(suite["latest_check_runs_count"], 2);
    assert_eq!(suite["pull_requests"][0]["number"], w.pr.number);
    let mut missing = Vec::new();
    let example = fixture("check_suite", "completed");
    missing_keys(&example["check_suite"], suite, "check_suite", &mut missing);
    assert!(
        missing.is_empty(),
        "keys GitHub sends that the fake lacks: {missing:?}"
    );

    // A re-run replaces the run it re-ran, unless `filter=all`.
    w.fake
        .add_check_run(&w.repo, "feature", "test", "completed", Some("success"));
    let (_, latest) = api
        .get("/repos/alice/widgets/commits/feature/check-runs")
        .await;
    assert_eq!(names(&latest), ["test", "lint"]);
    assert_eq!(latest["check_runs"][0]["conclusion"], "success");
    let (_, all) = api
        .get("/repos/alice/widgets/commits/feature/check-runs?filter=all")
        .await;
    assert_eq!(all["total_count"], 3);
    assert_eq!(names(&all), ["test", "test", "lint"]);
}

// ---- Webhooks ---------------------------------------------------------------

/// A receiver that records each request and answers 202.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let tx = Arc::new(Mutex::new(tx));
    let app = axum::Router::new().route(
        "/github/webhook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                tx.lock().unwrap().send((headers, body)).unwrap();
                (axum::http::StatusCode::ACCEPTED, "queued")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/github/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn deliveries_are_signed_like_hookshot_and_redeliveries_keep_the_id() {
    let w = world(FakeGitHubConfig::default()).await;
    let (url, mut rx) = receiver().await;
    let bob = w.fake.user("bob", UserKind::User);
    let comment = w
        .fake
        .comment(&w.repo, w.pr.number, &bob, "@switchboard hi");
    let payload = w
        .fake
        .payload_issue_comment(&comment, CommentAction::Created);

    let delivery = w.fake.deliver(&url, "issue_comment", payload.clone()).await;
    assert_eq!(delivery.status, 202);
    assert_eq!(delivery.response, "queued");
    let (h, body) = rx.recv().await.unwrap();
    assert_eq!(body, delivery.body);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), payload);
    assert_eq!(header(&h, "x-github-event"), "issue_comment");
    assert_eq!(header(&h, "x-github-delivery"), delivery.id);
    assert!(uuid::Uuid::parse_str(&delivery.id).is_ok());
    assert_eq!(
        header(&h, "x-github-hook-installation-target-type"),
        "integration"
    );
    assert_eq!(
        header(&h, "x-github-hook-installation-target-id"),
        w.fake.app_id().to_string()
    );
    assert!(header(&h, "x-github-hook-id").parse::<u64>().is_ok());
    assert!(header(&h, "user-agent").starts_with("GitHub-Hookshot/"));
    assert_eq!(header(&h, "content-type"), "application/json");
    // The signatures, computed here with ring over the received bytes.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, w.fake.webhook_secret().as_bytes());
    let expected = format!("sha256={}", hex(ring::hmac::sign(&key, &body).as_ref()));
    assert_eq!(header(&h, "x-hub-signature-256"), expected);
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        w.fake.webhook_secret().as_bytes(),
    );
    assert_eq!(
        header(&h, "x-hub-signature"),
        format!("sha1={}", hex(ring::hmac::sign(&key, &body).as_ref()))
    );
    let wrong = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"not the secret");
    assert_ne!(
        header(&h, "x-hub-signature-256"),
        format!("sha256={}", hex(ring::hmac::sign(&wrong, &body).as_ref()))
    );

    let again = w.fake.redeliver(&delivery).await;
    let (h2, body2) = rx.recv().await.unwrap();
    assert_eq!(again.id, delivery.id);
    assert_eq!(header(&h2, "x-github-delivery"), delivery.id);
    assert_eq!(body2, body);
    assert_eq!(header(&h2, "x-hub-signature-256"), expected);

    let other = w.fake.deliver(&url, "ping", w.fake.payload_ping()).await;
    assert_ne!(other.id, delivery.id);
    rx.recv().await.unwrap();
    assert_eq!(w.fake.deliveries().len(), 3);

    // Raw: unsigned, exactly as given.
    let (status, _) = w
        .fake
        .deliver_raw(
            &url,
            &[
                ("X-GitHub-Event", "ping"),
                ("Content-Type", "application/json"),
            ],
            "{}",
        )
        .await;
    assert_eq!(status, 202);
    let (h3, body3) = rx.recv().await.unwrap();
    assert!(h3.get("x-hub-signature-256").is_none());
    assert_eq!(&body3[..], b"{}");
    let (status, error) = w.fake.deliver_raw("http://127.0.0.1:1/x", &[], "{}").await;
    assert_eq!(status, 0, "{error}");
}

/// Keys a client reads, checked against what `@octokit/webhooks-examples`
/// shows for each event.
#[tokio::test]
async fn payloads_have_real_shapes() {
    let w = world(FakeGitHubConfig::default()).await;
    let bob = w.fake.user("bob", UserKind::User);
    let dependabot = w.fake.user("dependabot[bot]", UserKind::Bot);
    let has = |v: &Value, keys: &[&str]| {
        for k in keys {
            assert!(v.get(*k).is_some(), "missing {k} in {v:#}");
        }
    };
    let common = |v: &Value| {
        has(v, &["action", "repository", "sender", "installation"]);
        assert!(v.get("organization").is_none());
        assert_eq!(v["installation"]["id"], w.fake.installation_id());
        assert!(v["installation"]["node_id"].is_string());
        assert_eq!(v["repository"]["full_name"], "alice/widgets");
        has(
            &v["repository"],
            &[
                "id",
                "node_id",
                "name",
                "owner",
                "private",
                "clone_url",
                "default_branch",
            ],
        );
    };

    let on_pr = w
        .fake
        .comment(&w.repo, w.pr.number, &bob, "@switchboard look");
    let p = w.fake.payload_issue_comment(&on_pr, CommentAction::Created);
    common(&p);
    assert_eq!(p["action"], "created");
    assert_eq!(p["sender"]["login"], "bob");
    assert_eq!(p["comment"]["id"], on_pr.id);
    assert_eq!(p["comment"]["body"], "@switchboard look");
    has(
        &p["comment"],
        &[
            "user",
            "created_at",
            "updated_at",
            "html_url",
            "author_association",
            "node_id",
        ],
    );
    has(
        &p["issue"],
        &[
            "number",
            "title",
            "body",
            "user",
            "state",
            "html_url",
            "pull_request",
        ],
    );
    assert!(p.get("changes").is_none());
    w.fake.edit_comment(&on_pr, "@switchboard look again");
    let e = w.fake.payload_issue_comment(&on_pr, CommentAction::Edited);
    assert_eq!(e["action"], "edited");
    assert_eq!(e["changes"]["body"]["from"], "@switchboard look");
    assert_eq!(e["comment"]["body"], "@switchboard look again");
    assert!(e["comment"]["updated_at"].as_str() > e["comment"]["created_at"].as_str());

    let issue = w.fake.create_issue(&w.repo, "Bug", "", &bob);
    let on_issue = w.fake.comment(&w.repo, issue.number, &bob, "@switchboard");
    let p = w
        .fake
        .payload_issue_comment(&on_issue, CommentAction::Created);
    assert!(p["issue"].get("pull_request").is_none());

    // `issues`: labeled and assigned, sent by whoever did it, with the issue as it is now.
    let labeled = w.fake.label_issue(&issue, "agent", &bob);
    common(&labeled);
    assert_eq!(labeled["action"], "labeled");
    assert_eq!(labeled["sender"]["login"], "bob");
    assert_eq!(labeled["label"]["name"], "agent");
    assert_eq!(labeled["issue"]["labels"][0], labeled["label"]);
    let mut missing = Vec::new();
    let example = fixture("issues", "labeled");
    missing_keys(&example["label"], &labeled["label"], "label", &mut missing);
    assert!(
        missing.is_empty(),
        "keys GitHub sends that the fake lacks: {missing:?}"
    );
    let app = w.fake.app_user();
    let assigned = w.fake.assign_issue(&issue, &app, &bob);
    common(&assigned);
    assert_eq!(assigned["action"], "assigned");
    assert_eq!(assigned["assignee"]["login"], app.login.as_str());
    assert_eq!(assigned["issue"]["assignee"], assigned["assignee"]);
    assert_eq!(assigned["issue"]["assignees"][0], assigned["assignee"]);
    assert_eq!(assigned["issue"]["labels"][0]["name"], "agent");
    assert!(
        assigned["issue"]["updated_at"].as_str() > labeled["issue"]["updated_at"].as_str(),
        "a label or an assignment updates the issue"
    );

    let rc = w
        .fake
        .review_comment(&w.pr, &bob, "src/two.rs", 2, "@switchboard explain");
    let p = w.fake.payload_review_comment(&rc, CommentAction::Created);
    common(&p);
    has(
        &p["comment"],
        &[
            "path",
            "line",
            "diff_hunk",
            "commit_id",
            "pull_request_review_id",
            "original_line",
        ],
    );
    has(
        &p["pull_request"],
        &["number", "head", "base", "user", "title", "body"],
    );

    let review = w
        .fake
        .review(&w.pr, &bob, "@switchboard review-deps", "COMMENT");
    let p = w.fake.payload_review(&review);
    common(&p);
    assert_eq!(p["action"], "submitted");
    assert_eq!(
        p["review"]["state"], "commented",
        "webhooks spell states in lower case"
    );
    assert_eq!(p["review"]["body"], "@switchboard review-deps");
    has(
        &p["review"],
        &["id", "user", "commit_id", "submitted_at", "html_url"],
    );

    w.fake.commit(
        &w.repo,
        "deps",
        &[("Cargo.lock", Some("v2\n"))],
        "Bump serde",
        &dependabot,
    );
    let bump = w.fake.open_pr(
        &w.repo,
        "deps",
        "main",
        "Bump serde from 1.0.1 to 1.0.2",
        "Bumps serde.",
        &dependabot,
    );
    let p = w.fake.payload_pull_request(&bump, PrAction::Opened);
    common(&p);
    assert_eq!(p["action"], "opened");
    assert_eq!(p["number"], bump.number);
    assert_eq!(p["pull_request"]["user"]["login"], "dependabot[bot]");
    assert_eq!(p["pull_request"]["user"]["type"], "Bot");
    assert_eq!(p["pull_request"]["user"]["id"], 49_699_333);
    assert_eq!(p["sender"]["login"], "dependabot[bot]");
    assert_eq!(p["pull_request"]["changed_files"], 1);
    assert_eq!(p["pull_request"]["head"]["sha"], w.fake.head_sha(&bump));
    let before = w.fake.head_sha(&bump);
    let after = w.fake.commit(
        &w.repo,
        "deps",
        &[("Cargo.lock", Some("v3\n"))],
        "Bump again",
        &dependabot,
    );
    assert_eq!(w.fake.head_sha(&bump), after, "the PR follows its branch");
    let p = w.fake.payload_pull_request(
        &bump,
        PrAction::Synchronize {
            before: before.clone(),
            after: after.clone(),
        },
    );
    assert_eq!(p["action"], "synchronize");
    assert_eq!(
        (p["before"].as_str().unwrap(), p["after"].as_str().unwrap()),
        (before.as_str(), after.as_str())
    );
    assert_eq!(p["pull_request"]["head"]["sha"], after);
    assert_eq!(
        w.fake.payload_pull_request(&bump, PrAction::Reopened)["action"],
        "reopened"
    );

    let ping = w.fake.payload_ping();
    has(&ping, &["zen", "hook_id", "hook"]);
    assert_eq!(ping["hook"]["app_id"], w.fake.app_id());
}

// ---- Git over HTTP ----------------------------------------------------------

/// Runs the real git client with no user or system config, and the token
/// (if any) given by a credential helper from the environment — never in
/// the URL.
async fn git_client(cwd: &Path, args: &[&str], token: Option<&str>) -> std::process::Output {
    let mut cmd = tokio::process::Command::new("git");
    cmd.current_dir(cwd)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", cwd)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .args([
            "-c",
            "user.name=Switchboard",
            "-c",
            "user.email=bot@example.invalid",
        ])
        .args(["-c", "credential.helper="]);
    if let Some(token) = token {
        cmd.env("SB_TEST_TOKEN", token).args([
            "-c",
            "credential.helper=!f() { test \"$1\" = get && echo username=x-access-token && echo \"password=$SB_TEST_TOKEN\"; }; f",
        ]);
    }
    cmd.args(args).output().await.unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "git failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn git_clone_fetch_and_push_over_http_with_the_installation_token() {
    let w = world(FakeGitHubConfig::default()).await;
    let token = installation_token(&w.fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let clone_url = format!("{}/alice/widgets.git", w.fake.api_url());

    // Without credentials git gets a 401 and, with no helper and no
    // terminal, gives up.
    let out = git_client(tmp.path(), &["clone", &clone_url, "anon"], None).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not read Username") || stderr.contains("Authentication failed"),
        "{stderr}"
    );
    // A wrong token fails authentication.
    let out = git_client(
        tmp.path(),
        &["clone", &clone_url, "wrong"],
        Some("ghs_wrong"),
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Authentication failed"));
    let calls = w.fake.calls();
    let git_call = calls
        .iter()
        .find(|c| c.path.ends_with("/info/refs"))
        .unwrap();
    assert_eq!(git_call.status, 401);

    // With the token from the helper: clone, fetch the PR ref, push.
    ok(&git_client(tmp.path(), &["clone", &clone_url, "work"], Some(&token)).await);
    let work = tmp.path().join("work");
    let remote = ok(&git_client(&work, &["remote", "get-url", "origin"], None).await);
    assert_eq!(remote.trim(), clone_url, "no token in the URL");
    let n = w.pr.number;
    ok(&git_client(
        &work,
        &["fetch", "origin", &format!("refs/pull/{n}/head")],
        Some(&token),
    )
    .await);
    let fetched = ok(&git_client(&work, &["rev-parse", "FETCH_HEAD"], None).await);
    let before = w.fake.head_sha(&w.pr);
    assert_eq!(fetched.trim(), before);

    ok(&git_client(
        &work,
        &["checkout", "-q", "-b", "feature", "FETCH_HEAD"],
        None,
    )
    .await);
    std::fs::write(
        work.join("src/two.rs"),
        "pub fn two() -> u32 {\n    1 + 1\n}\n",
    )
    .unwrap();
    ok(&git_client(&work, &["commit", "-q", "-am", "Compute two"], None).await);
    let new = ok(&git_client(&work, &["rev-parse", "HEAD"], None).await)
        .trim()
        .to_string();
    let out = git_client(&work, &["push", "origin", "feature"], None).await;
    assert!(!out.status.success(), "no push without the token");
    ok(&git_client(&work, &["push", "origin", "feature"], Some(&token)).await);

    let push = w.fake.wait_for_push("refs/heads/feature", T).await;
    assert_eq!(
        (push.old.as_str(), push.new.as_str()),
        (before.as_str(), new.as_str())
    );
    assert_eq!(push.token, token);
    assert_eq!(push.repo, "alice/widgets");
    assert_eq!(w.fake.head_sha(&w.pr), new);
    let bare = w.fake.bare_repo_path(&w.repo);
    assert_eq!(
        git_out(&bare, &["rev-parse", &format!("refs/pull/{n}/head")])
            .await
            .trim(),
        new
    );
    assert_eq!(
        w.fake.branch_sha(&w.repo, "feature").as_deref(),
        Some(new.as_str())
    );

    // A new branch and an expired token.
    ok(&git_client(
        &work,
        &["push", "origin", "HEAD:refs/heads/other"],
        Some(&token),
    )
    .await);
    w.fake.wait_for_push("refs/heads/other", T).await;
    assert_eq!(w.fake.pushes().len(), 2);
    w.fake.expire_tokens();
    let out = git_client(&work, &["fetch", "origin"], Some(&token)).await;
    assert!(!out.status.success(), "an expired token is refused");
    assert!(
        w.fake
            .calls()
            .iter()
            .any(|c| c.path.ends_with("git-receive-pack")
                && c.auth == CallAuth::Installation
                && c.status == 200)
    );
    // The token never reached the clone's config.
    let config = std::fs::read_to_string(work.join(".git/config")).unwrap();
    assert!(!config.contains(&token));
}
