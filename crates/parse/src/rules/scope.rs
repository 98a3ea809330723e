//! Which parts of the repository the request names as what to deploy: "the
//! backend", "just the API", "the API and its workers", "the worker too",
//! "everything but the worker". Decide matches the roles against the
//! analysis's services; nothing here knows the repository.
//!
//! A role word counts only as the object of the request: right after "the",
//! "just", "only", "its", "their", "our" (or "and" once a role was named), and
//! not followed by a word that makes it something else ("the API key", "the
//! backend team"). "this Flask backend" describes the app and names no part.
//! A negated mention ("without the worker", "not the frontend") leaves that
//! part out.

use super::context;
use super::text::Doc;
use autodeploy_core::ServiceRole;

/// The parts named, and the parts named to leave out.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub only: Vec<ServiceRole>,
    pub without: Vec<ServiceRole>,
}

/// The role word (one or two words) starting at word `i`, and its length.
fn role_at(doc: &Doc, i: usize) -> Option<(ServiceRole, usize)> {
    let two = |a: &str, b: &str| doc.key(i) == a && doc.key(i + 1) == b;
    if two("back", "end") {
        return Some((ServiceRole::Backend, 2));
    }
    if two("front", "end") {
        return Some((ServiceRole::Frontend, 2));
    }
    // "just the web", "the web service": the Procfile's `web` process, the
    // server side; "the web app", "the web site" may as well be the front end.
    if doc.key(i) == "web" && !WEB_THINGS.contains(&doc.key(i + 1)) {
        return Some((ServiceRole::Backend, 1));
    }
    let role = match doc.key(i) {
        "backend" | "back-end" | "api" | "apis" => ServiceRole::Backend,
        "frontend" | "front-end" | "ui" | "spa" => ServiceRole::Frontend,
        "worker" | "workers" => ServiceRole::Worker,
        _ => return None,
    };
    Some((role, 1))
}

/// Words after "web" that make it something else than the web process.
const WEB_THINGS: &[&str] = &[
    "app",
    "apps",
    "application",
    "site",
    "sites",
    "website",
    "page",
    "pages",
    "ui",
    "frontend",
    "front",
    "client",
    "browser",
    "hook",
    "hooks",
    "socket",
    "sockets",
    "console",
    "interface",
    "assets",
];

/// Words after a role word that make it something other than a part of the app.
const NOT_A_PART: &[&str] = &[
    "gateway",
    "key",
    "keys",
    "token",
    "tokens",
    "url",
    "urls",
    "endpoint",
    "endpoints",
    "call",
    "calls",
    "route",
    "routes",
    "docs",
    "version",
    "limit",
    "limits",
    "team",
    "teams",
    "dev",
    "devs",
    "developer",
    "developers",
    "framework",
    "library",
    "port",
    "domain",
    "requests",
    "traffic",
    "node",
    "nodes",
    "pool",
    "pools",
];

/// A part named as an addition ("the worker too", "also the worker",
/// "including the workers"): deployed beside the rest, never instead of it.
fn additive(doc: &Doc, i: usize, len: usize) -> bool {
    let after = doc.key(i + len);
    let before2 = if i >= 2 { doc.key(i - 2) } else { "" };
    matches!(after, "too" | "also" | "included")
        || (after == "as" && doc.key(i + len + 1) == "well")
        || matches!(before2, "also" | "plus" | "including")
}

pub(crate) fn scope(doc: &Doc) -> Scope {
    let mut out = Scope::default();
    // Parts named only as additions: they narrow nothing on their own.
    let mut also: Vec<ServiceRole> = Vec::new();
    let mut i = 0;
    while i < doc.words.len() {
        let Some((role, len)) = role_at(doc, i) else {
            i += 1;
            continue;
        };
        let before = if i > 0 { doc.key(i - 1) } else { "" };
        let named_before = !out.only.is_empty() || !out.without.is_empty();
        let object = matches!(before, "the" | "just" | "only" | "its" | "their" | "our")
            || (before == "and" && named_before);
        let after = doc.key(i + len);
        if object && !NOT_A_PART.contains(&after) {
            let list = if context::of(doc, i, i + len).negated {
                &mut out.without
            } else if additive(doc, i, len) {
                &mut also
            } else {
                &mut out.only
            };
            if !list.contains(&role) {
                list.push(role);
            }
        }
        i += len;
    }
    // "the backend and the worker too": both; "the worker too" alone: all.
    if !out.only.is_empty() {
        for r in also {
            if !out.only.contains(&r) {
                out.only.push(r);
            }
        }
    }
    out.only.retain(|r| !out.without.contains(r));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceRole::*;

    fn of(text: &str) -> (Vec<ServiceRole>, Vec<ServiceRole>) {
        let s = scope(&Doc::new(text));
        (s.only, s.without)
    }

    #[test]
    fn parts_named_as_what_to_deploy() {
        let cases: &[(&str, &[ServiceRole], &[ServiceRole])] = &[
            ("deploy the backend on AWS ECS", &[Backend], &[]),
            ("deploy just the API on Cloud Run", &[Backend], &[]),
            ("only the frontend, on S3", &[Frontend], &[]),
            (
                "the API and its workers on AWS ECS with Postgres",
                &[Backend, Worker],
                &[],
            ),
            ("deploy the api and workers to gcp", &[Backend, Worker], &[]),
            ("deploy the back end to azure", &[Backend], &[]),
            ("put the front-end on a CDN", &[Frontend], &[]),
            (
                "deploy the backend and the worker too",
                &[Backend, Worker],
                &[],
            ),
            ("deploy everything without the worker", &[], &[Worker]),
            // The Procfile's `web` process: the server side.
            ("deploy to Cloud Run, just the web", &[Backend], &[]),
            ("deploy only the web service on GCP", &[Backend], &[]),
            (
                "deploy the web and the worker on gcp",
                &[Backend, Worker],
                &[],
            ),
            ("deploy the web app on AWS", &[], &[]),
            ("put the web site on S3", &[], &[]),
            // An addition alone narrows nothing: everything, the worker included.
            ("deploy on AWS with redis, the worker too", &[], &[]),
            ("deploy on gcp, including the workers", &[], &[]),
            (
                "deploy the api on aws, plus the worker",
                &[Backend, Worker],
                &[],
            ),
            ("deploy it, the worker as well", &[], &[]),
            (
                "don't deploy the frontend, just the backend",
                &[Backend],
                &[Frontend],
            ),
            // Descriptions of the app and other things named "api": no part.
            ("deploy this Flask backend on AWS with Postgres", &[], &[]),
            ("deploy my api on aws", &[], &[]),
            ("deploy on aws behind the API gateway", &[], &[]),
            ("the backend team wants it on gcp", &[], &[]),
            ("deploy on AWS, the API key is in the env", &[], &[]),
            (
                "deploy this Flask app on AWS with Postgres, 2 to 5 instances",
                &[],
                &[],
            ),
        ];
        for (text, only, without) in cases {
            assert_eq!(of(text), (only.to_vec(), without.to_vec()), "{text}");
        }
    }
}
