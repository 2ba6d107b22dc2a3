//! REST answers: a status, a JSON (or diff) body, extra headers; GitHub's
//! error bodies for the errors modelled; page slicing with GitHub's `Link`
//! header.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::json::{self, DOCS};

pub(super) enum Body {
    Json(Value),
    /// A non-JSON media type (`application/vnd.github.diff`).
    Text(String, &'static str),
}

pub(super) struct Reply {
    pub status: StatusCode,
    pub body: Body,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: StatusCode, v: Value) -> Self {
        Self {
            status,
            body: Body::Json(v),
            headers: Vec::new(),
        }
    }

    pub fn ok(v: Value) -> Self {
        Self::json(StatusCode::OK, v)
    }

    /// 201 with `Location`, as GitHub answers a creation.
    pub fn created(v: Value) -> Self {
        let location = v["url"].as_str().map(str::to_string);
        let mut reply = Self::json(StatusCode::CREATED, v);
        if let Some(location) = location {
            reply.headers.push(("location", location));
        }
        reply
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// With GitHub's `Link` header, when the list has more than one page.
    pub fn with_link(self, link: Option<String>) -> Self {
        match link {
            Some(link) => self.with_header("link", link),
            None => self,
        }
    }

    pub fn error(status: StatusCode, message: &str, docs: &str) -> Self {
        Self::json(status, json::error(message, docs, status.as_u16()))
    }

    pub fn not_found() -> Self {
        Self::error(StatusCode::NOT_FOUND, "Not Found", DOCS)
    }

    pub fn bad_credentials() -> Self {
        Self::error(StatusCode::UNAUTHORIZED, "Bad credentials", DOCS)
    }

    pub fn requires_authentication() -> Self {
        Self::error(StatusCode::UNAUTHORIZED, "Requires authentication", DOCS)
    }

    pub fn problems_parsing_json() -> Self {
        Self::error(StatusCode::BAD_REQUEST, "Problems parsing JSON", DOCS)
    }

    /// 422 `Validation Failed` with one error object.
    pub fn validation(resource: &str, field: &str, code: &str, message: Option<&str>) -> Self {
        let mut error = json!({"resource": resource, "code": code, "field": field});
        if let Some(message) = message {
            error["message"] = json!(message);
        }
        let mut body = json::error("Validation Failed", DOCS, 422);
        body["errors"] = json!([error]);
        Self::json(StatusCode::UNPROCESSABLE_ENTITY, body)
    }

    /// 422 `Validation Failed` with one `custom` error that says what is
    /// wrong in a sentence (`A pull request already exists for o:b.`).
    pub fn validation_custom(resource: &str, message: &str) -> Self {
        let mut body = json::error("Validation Failed", DOCS, 422);
        body["errors"] = json!([{"resource": resource, "code": "custom", "message": message}]);
        Self::json(StatusCode::UNPROCESSABLE_ENTITY, body)
    }

    /// 422 `Unprocessable Entity` with plain-string errors, as the reviews
    /// API answers.
    pub fn unprocessable(errors: &[&str]) -> Self {
        let mut body = json::error("Unprocessable Entity", DOCS, 422);
        body["errors"] = json!(errors);
        Self::json(StatusCode::UNPROCESSABLE_ENTITY, body)
    }
}

/// GitHub's limit on comment, review and reply bodies, in characters.
pub(super) const MAX_BODY_CHARS: usize = 65_536;

/// Checks a `body` field of a JSON request: present, a string, not blank,
/// not too long. `resource` names the object in the 422 (`IssueComment`,
/// `PullRequestReviewComment`, `PullRequestReview`).
pub(super) fn required_body<'a>(input: &'a Value, resource: &str) -> Result<&'a str, Reply> {
    let Some(body) = input["body"].as_str().filter(|b| !b.trim().is_empty()) else {
        return Err(Reply::validation(resource, "body", "missing_field", None));
    };
    check_length(body, resource)?;
    Ok(body)
}

pub(super) fn check_length(body: &str, resource: &str) -> Result<(), Reply> {
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(Reply::validation(
            resource,
            "body",
            "custom",
            Some("body is too long (maximum is 65536 characters)"),
        ));
    }
    Ok(())
}

/// `per_page` (default 30, at most 100) and `page` (from 1).
pub(super) fn page_params(query: &[(String, String)]) -> (usize, usize) {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = get("per_page").unwrap_or(30).clamp(1, 100);
    let page = get("page").unwrap_or(1).max(1);
    (per_page, page)
}

/// One page of `items` and, when there is more than one page, GitHub's
/// `Link` header (`prev`, `next`, `last`, `first`, in that order), each
/// URL keeping the request's other query parameters.
pub(super) fn paginate(
    items: Vec<Value>,
    base_url: &str,
    path: &str,
    query: &[(String, String)],
) -> Reply {
    let (slice, link) = page(items, base_url, path, query);
    Reply::ok(Value::Array(slice)).with_link(link)
}

/// The page of `items` the query asks for, and the `Link` header's value
/// when there is more than one page (for answers that wrap their list in
/// an object, like `check_runs`).
pub(super) fn page(
    items: Vec<Value>,
    base_url: &str,
    path: &str,
    query: &[(String, String)],
) -> (Vec<Value>, Option<String>) {
    let (per_page, page) = page_params(query);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    if last == 1 {
        return (slice, None);
    }
    let url = |p: usize| {
        let mut params: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        params.push(format!("page={p}"));
        format!("<{base_url}{path}?{}>", params.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    (slice, Some(links.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_of(reply: &Reply) -> Option<&str> {
        reply
            .headers
            .iter()
            .find(|(k, _)| *k == "link")
            .map(|(_, v)| v.as_str())
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn link_header_like_githubs() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let first = paginate(items.clone(), "http://h", "/x", &q(&[("per_page", "2")]));
        assert_eq!(
            link_of(&first),
            Some(
                "<http://h/x?per_page=2&page=2>; rel=\"next\", <http://h/x?per_page=2&page=3>; rel=\"last\""
            )
        );
        let middle = paginate(
            items.clone(),
            "http://h",
            "/x",
            &q(&[("page", "2"), ("per_page", "2")]),
        );
        assert!(matches!(&middle.body, Body::Json(v) if *v == json!([2, 3])));
        assert_eq!(
            link_of(&middle),
            Some(
                "<http://h/x?per_page=2&page=1>; rel=\"prev\", <http://h/x?per_page=2&page=3>; rel=\"next\", \
                 <http://h/x?per_page=2&page=3>; rel=\"last\", <http://h/x?per_page=2&page=1>; rel=\"first\""
            )
        );
        let last = paginate(
            items.clone(),
            "http://h",
            "/x",
            &q(&[("per_page", "2"), ("page", "3")]),
        );
        assert!(matches!(&last.body, Body::Json(v) if *v == json!([4])));
        assert!(!link_of(&last).unwrap().contains("next"));
        let single = paginate(items, "http://h", "/x", &[]);
        assert_eq!(link_of(&single), None, "one page has no Link header");
    }

    #[test]
    fn body_limit_is_in_characters() {
        let at_limit = "é".repeat(MAX_BODY_CHARS);
        assert!(check_length(&at_limit, "IssueComment").is_ok());
        assert!(check_length(&format!("{at_limit}x"), "IssueComment").is_err());
    }
}
