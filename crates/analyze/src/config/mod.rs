//! Language-independent configuration that speaks for any service: Procfile,
//! Dockerfile, `.env` files and docker-compose. These are the most trusted
//! sources of a port or start command (DESIGN: explicit config first).
//!
//! Each overlay adds claims and findings to drafts; none of them decides.

pub mod compose;
pub mod dockerfile;
pub mod dotenv;
pub mod procfile;

use crate::ctx::Ctx;
use crate::draft::Draft;
use regex::Regex;
use std::sync::LazyLock;

/// Apply the per-folder overlays (Procfile, Dockerfile, .env) to a draft.
/// Returns extra drafts the overlays discovered (Procfile `worker:` lines).
pub fn apply(ctx: &Ctx, draft: &mut Draft) -> Vec<Draft> {
    let extra = procfile::apply(ctx, draft);
    dockerfile::apply(ctx, draft);
    dotenv::apply(ctx, draft);
    extra
}

static PORT_FLAGS: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::regex(
        r#"(?x)
        (?:--port|--http-port|--server\.port|-p|-P)(?:=|\s+)(\d{2,5})\b
        | (?:--bind|-b|--listen|--host)(?:=|\s+)["']?[^\s"':]*:(\d{2,5})\b
        | \bPORT=(\d{2,5})\b
        | server\.port=(\d{2,5})\b
        | \b(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|::):(\d{2,5})\b
        "#,
    )
});

/// A port written into a start command (`--port 8000`, `--bind 0.0.0.0:8000`, `PORT=3000 node x`).
pub fn port_in_command(cmd: &str) -> Option<u16> {
    let caps = PORT_FLAGS.captures(cmd)?;
    caps.iter()
        .skip(1)
        .flatten()
        .next()
        .and_then(|m| m.as_str().parse().ok())
        .filter(|p: &u16| *p > 0)
}

#[cfg(test)]
mod tests {
    use super::port_in_command;

    #[test]
    fn ports_in_commands() {
        assert_eq!(
            port_in_command("gunicorn --bind 0.0.0.0:8000 app:app"),
            Some(8000)
        );
        assert_eq!(
            port_in_command("uvicorn main:app --host 0.0.0.0 --port 8080"),
            Some(8080)
        );
        assert_eq!(port_in_command("PORT=3000 node server.js"), Some(3000));
        assert_eq!(port_in_command("rails server -p 3001"), Some(3001));
        assert_eq!(
            port_in_command("java -Dserver.port=9090 -jar app.jar"),
            Some(9090)
        );
        assert_eq!(
            port_in_command("gunicorn app:app --bind 0.0.0.0:$PORT"),
            None
        );
        assert_eq!(port_in_command("node server.js"), None);
    }
}
