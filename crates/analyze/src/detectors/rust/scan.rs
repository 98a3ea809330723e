//! What a Rust source file says: socket binds with their evaluated address
//! (`TcpListener::bind`, `.bind(("127.0.0.1", 8080))`, warp's `.run(…)`), the
//! environment variables it reads (`env::var` and whether a default follows,
//! env helpers, clap `#[arg(env)]` attributes) and its health route.
//!
//! Not here: Rocket's own configuration (`rocket.rs`), databases from Cargo.toml.

use super::code::{address, call_args, take_statement, Addr, RsFile};
use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use crate::scan::{each_match, line_text};
use autodeploy_core::{Severity, SourceFix};
use regex::Regex;
use std::sync::LazyLock;

static BIND_CALL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"(\w+)?(?:\.|::)(bind(?:_rustls\w*|_openssl|_auto_h2c)?|run|listen|new)\s*\(",
    )
    .expect("regex")
});

static ENV_VAR: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"\b(?:std::)?(?:env|dotenvy|dotenv)::var(?:_os)?\s*\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)"#,
    )
    .expect("regex")
});

static HELPER_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\b([a-z_][\w:]*)\s*\(\s*"([A-Z_][A-Z0-9_]*)"\s*(,|\))"#)
        .expect("regex")
});

static CLAP_ATTR: LazyLock<Regex> = LazyLock::new(|| {
    // Up to the first `)]`: an attribute spans lines and holds lists
    // (`value_parser = ["text", "json"]`).
    crate::scan::try_regex(r#"(?s)#\[(?:arg|clap|structopt)\((.*?)\)\]"#).expect("regex")
});

static CLAP_ENV: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\benv\s*=\s*"([A-Za-z_][A-Za-z0-9_]*)""#).expect("regex")
});

static CLAP_BARE_ENV: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?:^|[,(\s])env\s*(?:,|$)").expect("regex"));

static CLAP_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"^(?:pub(?:\([^)]*\))?\s+)?([a-z_][a-z0-9_]*)\s*:\s*(.+)")
        .expect("regex")
});

static CLAP_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bdefault_value(?:_t)?\s*=\s*"?([^",)]+)"?"#).expect("regex")
});

static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?:\.route|#\[(?:get|head)|web::resource|\.at|\.path|\.get)\s*\(\s*"(/(?:api/(?:v\d+/)?)?(?:healthz?|health[-_]?check(?:er)?|ping|status|_health|livez|readyz))""#)
        .expect("regex")
});

static WARP_HEALTH: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"warp::path!?\s*\(\s*"(healthz?|ping|status)"\s*\)"#).expect("regex")
});

/// A socket bind found in code.
#[derive(Debug, Clone)]
pub(super) struct Bind {
    file: String,
    line: u32,
    addr: Addr,
}

pub(super) fn scan_binds(file: &str, text: &str, out: &mut Vec<Bind>) {
    let rs = RsFile::new(text);
    for c in BIND_CALL.captures_iter(text) {
        let owner = c.get(1).map(|m| m.as_str()).unwrap_or("");
        let method = &c[2];
        if method == "new" && owner != "TcpListener" {
            continue;
        }
        let m = c.get(0).expect("match");
        let open = m.end() - 1;
        let Some(args) = call_args(text, open) else {
            continue;
        };
        let Some(first) = args.first().filter(|a| !a.is_empty()) else {
            continue;
        };
        let at = text[open..].find(first).map(|o| open + o).unwrap_or(open);
        let Some(addr) = address(&rs.eval(first, rs.line_of(at))) else {
            continue;
        };
        if addr.port.is_none() {
            continue;
        }
        out.push(Bind {
            file: file.to_string(),
            line: rs.line_of(m.start()),
            addr,
        });
    }
}

pub(super) fn apply_bind(ctx: &Ctx, d: &mut Draft, b: &Bind) {
    let text = ctx.read_path(&b.file).unwrap_or_default();
    let call = line_text(&text, b.line);
    if let Some(p) = b.addr.port {
        let at = b.addr.port_line.unwrap_or(b.line);
        let note = if at == b.line {
            call.clone()
        } else {
            format!("{} → {call}", line_text(&text, at))
        };
        d.port(p, Trust::Code, ev(&b.file, Some(at), note));
    }
    // A port written in the code, in a file that never reads PORT: the copy
    // reads it first, so a platform (or the local target) can assign one.
    let port_fix = (!text.contains("\"PORT\""))
        .then(|| b.addr.port_fix())
        .flatten();
    let mut zero_done = false;
    if let (Some((line, find, replace)), Some(port)) = (port_fix, b.addr.port) {
        zero_done = b.addr.host_piece.as_ref().is_some_and(|h| h.raw == find);
        d.finding(
            "hardcoded_port",
            Severity::Info,
            Some(&b.file),
            Some(line),
            format!(
                "{}:{line} listens on port {port} whatever PORT says; platforms that assign the port (and autodeploy's local target) need it read from PORT, with {port} as the default (autodeploy does so in its copy)",
                b.file
            ),
            Some(SourceFix {
                file: b.file.clone(),
                line,
                find,
                replace,
            }),
        );
        d.env_var("PORT", true, &b.file, line);
    }
    if b.addr.is_loopback() {
        let host = b.addr.host.clone().unwrap_or_default();
        // Made 0.0.0.0 by the port's edit when both are one literal.
        let fix = (!zero_done).then(|| b.addr.zero_fix()).flatten();
        let line = fix.as_ref().map(|f| f.0).unwrap_or(b.line);
        d.finding(
            "binds_localhost",
            Severity::Warning,
            Some(&b.file),
            Some(line),
            format!(
                "{}:{line} binds {host}, so nothing outside this machine can reach the server; bind 0.0.0.0 — autodeploy does so in its copy",
                b.file
            ),
            fix.map(|(line, find, replace)| SourceFix {
                file: b.file.clone(),
                line,
                find,
                replace,
            }),
        );
    }
}

pub(super) fn scan_env(
    d: &mut Draft,
    file: &str,
    text: &str,
    clap_ports: &mut Vec<(u16, String, u32, String)>,
) {
    each_match(text, &ENV_VAR, |line, c| {
        let m = c.get(0).expect("match");
        let rest = take_statement(&text[m.end()..]);
        let line_start = text[..m.start()].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let before = &text[line_start..m.start()];
        // `var_os` answers an Option: required only when unwrapped.
        let os = m.as_str().contains("var_os");
        let unwrapped = [".unwrap()", ".expect(", ".ok_or", "?"]
            .iter()
            .any(|p| rest.contains(p));
        let optional = (os && !unwrapped)
            || [
                ".unwrap_or",
                ".ok()",
                ".is_ok()",
                ".is_err()",
                ".map_or",
                ".unwrap_or_default()",
                ".or(",
                ".or_else(",
            ]
            .iter()
            .any(|p| rest.contains(p))
            || ["if let", "match ", "while let", "let Ok(", "let Some("]
                .iter()
                .any(|p| before.contains(p));
        d.env_var(&c[1], optional, file, line);
    });
    each_match(text, &HELPER_ENV, |line, c| {
        let name = &c[1];
        let last = name.rsplit("::").next().unwrap_or(name);
        if !last.contains("env") || last.contains("set_") || last.contains("remove") {
            return;
        }
        // `Command::new("git").env("GIT_ASKPASS", "")` sets a child's
        // variable: a method `env`/`envs` reads nothing.
        let start = c.get(1).map_or(0, |m| m.start());
        if matches!(last, "env" | "envs" | "env_remove") && text[..start].trim_end().ends_with('.')
        {
            return;
        }
        if &c[3] == "," {
            d.env_var(&c[2], true, file, line);
        } else if last.contains("must") || last.contains("require") {
            d.env_var(&c[2], false, file, line);
        }
    });
    each_match(text, &CLAP_ATTR, |line, c| {
        let args = &c[1];
        // The field the attribute is on: the next line after the attribute's
        // last one that is not an attribute or doc comment.
        let last_line = line as usize + c[0].matches('\n').count();
        let field = text
            .lines()
            .skip(last_line)
            .take(8)
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("#[") && !l.starts_with("///"))
            .and_then(|l| CLAP_FIELD.captures(l))
            .map(|f| (f[1].to_string(), optional_type(&f[2])));
        let name = match CLAP_ENV.captures(args) {
            Some(e) => e[1].to_string(),
            // `#[arg(long, env)]`: the variable is the field name in upper case.
            None if CLAP_BARE_ENV.is_match(args) => match &field {
                Some((f, _)) => f.to_ascii_uppercase(),
                None => return,
            },
            None => return,
        };
        let default = CLAP_DEFAULT.captures(args).map(|x| x[1].trim().to_string());
        let optional_field = field.as_ref().is_some_and(|(_, opt)| *opt);
        d.env_var(&name, default.is_some() || optional_field, file, line);
        if let Some(p) = default.as_deref().and_then(|v| v.parse::<u16>().ok()) {
            if name.ends_with("PORT") {
                clap_ports.push((p, file.to_string(), line, name.clone()));
            }
        }
    });
}

/// A field type clap fills without the variable: `Option<…>` (absent),
/// `bool` (a switch: false), `Vec<…>` (a repeatable flag: empty).
fn optional_type(ty: &str) -> bool {
    let ty = ty.trim().trim_end_matches(',').trim();
    ty.starts_with("Option<")
        || ty.starts_with("std::option::Option<")
        || ty.starts_with("Vec<")
        || ty.starts_with("std::vec::Vec<")
        || ty == "bool"
}

pub(super) fn health(text: &str) -> Option<(u32, String)> {
    if let Some((line, c)) = crate::scan::first_match(text, &HEALTH_ROUTE) {
        return Some((line, c[1].to_string()));
    }
    crate::scan::first_match(text, &WARP_HEALTH).map(|(line, c)| (line, format!("/{}", &c[1])))
}

#[cfg(test)]
mod health_tests {
    use super::health;

    #[test]
    fn health_routes_of_actix_axum_and_warp() {
        let actix = "App::new()\n    .route(\"/health_check\", web::get().to(health_check))\n";
        assert_eq!(health(actix), Some((2, "/health_check".to_string())));
        let axum = "Router::new().route(\"/healthz\", get(ok))";
        assert_eq!(health(axum), Some((1, "/healthz".to_string())));
        let warp = "let h = warp::path!(\"ping\").map(|| \"pong\");";
        assert_eq!(health(warp), Some((1, "/ping".to_string())));
        assert_eq!(health(".route(\"/users\", get(list))"), None);
        let api = ".route(\"/api/healthchecker\", get(health_checker_handler))";
        assert_eq!(health(api), Some((1, "/api/healthchecker".to_string())));
    }
}
