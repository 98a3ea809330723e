//! Tokens the app checks callers against: an environment variable whose
//! value the code compares with an incoming request's header
//! (`r.Header.Get("Authorization") != os.Getenv("LEDGER_AUTH_TOKEN")`,
//! `req.headers["x-api-key"] === process.env.API_TOKEN`). The app owns such
//! a token, so a deployment can generate it; a token the code sends out
//! (`headers: {Authorization: process.env.GITHUB_TOKEN}`) is one only its
//! user has.
//!
//! One pass over the drafts after the detectors: for each required
//! credential-like variable, the sources of the draft's language that name it
//! (quoted) are read, and a request-header read within a few lines of the
//! name marks it.

use crate::ctx::Ctx;
use crate::draft::Draft;
use crate::scan::regex;
use autodeploy_core::Language;
use regex::Regex;
use std::sync::LazyLock;

/// Reads of an incoming request's headers, as the common frameworks spell
/// them (net/http, gin, echo; Express, Koa, Fastify; Flask, Django,
/// Starlette).
static HEADER_READ: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(?:r|req|request|ctx|c)\.(?:Header\.Get\(|Header\[|GetHeader\(|headers\b|header\(|get\(|META\b|Request\.Header\.Get\()",
    )
});

/// How far from the name a header read still counts: the lines of one
/// small handler or middleware.
const WINDOW: usize = 600;

fn extensions(language: Language) -> &'static [&'static str] {
    match language {
        Language::Go => &[".go"],
        Language::Python => &[".py"],
        Language::Javascript | Language::Typescript => &[".js", ".mjs", ".cjs", ".ts"],
        Language::Ruby => &[".rb"],
        Language::Php => &[".php"],
        _ => &[],
    }
}

/// Mark the draft's required credentials that the code checks requests
/// against.
pub fn mark(ctx: &Ctx, d: &mut Draft) {
    let exts = extensions(d.language);
    if exts.is_empty() || !d.env.iter().any(|e| e.secret && e.required) {
        return;
    }
    let sources = ctx.sources(&d.dir, exts);
    for e in d.env.iter_mut().filter(|e| e.secret && e.required) {
        e.checks_requests = sources.iter().any(|f| {
            ctx.read_path(f)
                .is_some_and(|text| compared_with_a_header(&text, &e.name))
        });
    }
}

/// True when `name`, quoted (or as `process.env.NAME`), sits within
/// [`WINDOW`] bytes of a request header read in `text`.
fn compared_with_a_header(text: &str, name: &str) -> bool {
    if !text.contains(name) {
        return false;
    }
    let needles = [
        format!("\"{name}\""),
        format!("'{name}'"),
        format!("`{name}`"),
        format!("env.{name}"),
    ];
    needles.iter().any(|needle| {
        text.match_indices(needle.as_str()).any(|(at, _)| {
            // `env.API_TOKEN` is not `env.API_TOKEN_URL`.
            let after = text[at + needle.len()..].chars().next();
            if after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                return false;
            }
            let start = floor(text, at.saturating_sub(WINDOW));
            let end = floor(text, (at + needle.len() + WINDOW).min(text.len()));
            HEADER_READ.is_match(&text[start..end])
        })
    })
}

fn floor(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::compared_with_a_header;

    #[test]
    fn a_token_compared_with_a_request_header_is_the_apps_own() {
        let go = r#"func Auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		envToken := strings.TrimSpace(os.Getenv("LEDGER_AUTH_TOKEN"))
		if envToken != "" && strings.TrimSpace(r.Header.Get("Authorization")) != envToken {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}
}"#;
        assert!(compared_with_a_header(go, "LEDGER_AUTH_TOKEN"));
        let express = "app.use((req, res, next) => {\n  if (req.headers['x-api-key'] !== process.env.API_TOKEN) return res.sendStatus(401);\n  next();\n});\n";
        assert!(compared_with_a_header(express, "API_TOKEN"));
        let flask = "@app.before_request\ndef check():\n    if request.headers.get('X-Token') != os.environ['ADMIN_TOKEN']:\n        abort(401)\n";
        assert!(compared_with_a_header(flask, "ADMIN_TOKEN"));
    }

    #[test]
    fn a_token_sent_out_is_the_users() {
        let node = "const res = await fetch(url, {\n  headers: { Authorization: `token ${process.env.GITHUB_TOKEN}` },\n});\n";
        assert!(!compared_with_a_header(node, "GITHUB_TOKEN"));
        let py = "r = requests.get(url, headers={'Authorization': os.environ['STRIPE_TOKEN']})\n";
        assert!(!compared_with_a_header(py, "STRIPE_TOKEN"));
        let go = "req, _ := http.NewRequest(\"GET\", u, nil)\nreq.Header.Set(\"Authorization\", os.Getenv(\"SLACK_TOKEN\"))\n";
        assert!(!compared_with_a_header(go, "SLACK_TOKEN"));
        // Only the whole name counts.
        let longer = "if (req.headers.host === process.env.API_TOKEN_URL) next();\n";
        assert!(!compared_with_a_header(longer, "API_TOKEN"));
    }
}
