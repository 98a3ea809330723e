//! Where a Go program starts serving: `http.ListenAndServe(addr, h)`,
//! `http.Server{Addr: …}` + `srv.ListenAndServe()`, `net.Listen("tcp", addr)`
//! and the framework methods of [`super::FRAMEWORKS`] (`r.Run(":8080")`,
//! `e.Start(addr)`, `app.Listen(":3000")`), each with its evaluated address.
//!
//! Not here: deciding the service's port (that is `resolve`'s job: this only
//! adds claims), gRPC or other non-HTTP listeners beyond `net.Listen`.

use super::expr::{address, call_args, matching, take_expr, Addr, GoFile};
use super::Framework;
use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use crate::scan::{line_of, line_text};
use autodeploy_core::{Severity, SourceFix};
use regex::Regex;
use std::sync::LazyLock;

static LISTEN_AND_SERVE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\b(\w+)\.(ListenAndServe(?:TLS)?)\s*\(").expect("regex")
});

static HTTP_SERVER: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bhttp\.Server\s*\{").expect("regex"));

static ADDR_FIELD: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bAddr\s*:\s*").expect("regex"));

static NET_LISTEN: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"\bnet\.Listen\s*\(\s*"tcp[46]?"\s*,"#).expect("regex")
});

static METHOD_CALL: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r"\b(\w+)\.(Run|RunTLS|Start|StartTLS|StartAutoTLS|Listen|ListenTLS)\s*\(",
    )
    .expect("regex")
});

/// A place a server is started.
#[derive(Debug, Clone)]
pub(super) struct Listen {
    pub(super) file: String,
    pub(super) line: u32,
    pub(super) addr: Option<Addr>,
    /// A port implied without an address (`r.Run()` in gin).
    pub(super) implicit_port: Option<u16>,
    /// Via the standard library (`http.ListenAndServe`, `http.Server{}`).
    pub(super) stdlib: bool,
}

/// Record a listen site's port and a loopback bind.
pub(super) fn apply_listen(ctx: &Ctx, web: &mut Draft, l: &Listen) {
    let text = ctx.read_path(&l.file).unwrap_or_default();
    let call = line_text(&text, l.line);
    if let Some(p) = l.implicit_port {
        web.port(
            p,
            Trust::Code,
            ev(
                &l.file,
                Some(l.line),
                format!("{call} (no address: gin listens on $PORT or :{p})"),
            ),
        );
        web.env_var("PORT", true, &l.file, l.line);
    }
    let Some(addr) = &l.addr else { return };
    if let Some(p) = addr.port {
        let at = addr.port_line.unwrap_or(l.line);
        let note = if at == l.line {
            call.clone()
        } else {
            format!("{} → {call}", line_text(&text, at))
        };
        web.port(p, Trust::Code, ev(&l.file, Some(at), note));
    }
    if addr.is_loopback() {
        let host = addr.host.clone().unwrap_or_default();
        let (line, fix) = match &addr.host_piece {
            Some(piece) if !piece.raw.is_empty() => (
                piece.line,
                Some(SourceFix {
                    file: l.file.clone(),
                    line: piece.line,
                    find: piece.raw.clone(),
                    replace: piece.raw.replacen(&host, "0.0.0.0", 1),
                }),
            ),
            _ => (l.line, None),
        };
        web.finding(
            "binds_localhost",
            Severity::Warning,
            Some(&l.file),
            Some(line),
            format!(
                "{}:{line} listens on {host}, so nothing outside this machine can reach the server; listen on 0.0.0.0 (or \":<port>\") — autodeploy does so in its copy",
                l.file
            ),
            fix,
        );
    }
}

/// Find where servers start in one file.
pub(super) fn scan_listens(file: &str, text: &str, declared: &[&Framework], out: &mut Vec<Listen>) {
    let go = GoFile::new(text);
    let eval_addr = |arg: &str, at: usize| -> Option<Addr> {
        let line = line_of(text, at);
        address(&go.eval(arg, line))
    };
    // http.ListenAndServe(addr, h) / srv.ListenAndServe()
    for c in LISTEN_AND_SERVE.captures_iter(text) {
        let m = c.get(0).expect("match");
        let open = m.end() - 1;
        let args = call_args(text, open).unwrap_or_default();
        let first = args.first().copied().unwrap_or("");
        let addr = if first.is_empty() {
            None
        } else {
            let at = text[open..].find(first).map(|o| open + o).unwrap_or(open);
            eval_addr(first, at)
        };
        out.push(Listen {
            file: file.to_string(),
            line: line_of(text, m.start()),
            addr,
            implicit_port: None,
            stdlib: true,
        });
    }
    // http.Server{Addr: …}
    for m in HTTP_SERVER.find_iter(text) {
        let open = m.end() - 1;
        let Some(close) = matching(text, open) else {
            continue;
        };
        let block = &text[open..close];
        let Some(a) = ADDR_FIELD.find(block) else {
            continue;
        };
        let at = open + a.end();
        let expr = take_expr(&text[at..]);
        out.push(Listen {
            file: file.to_string(),
            line: line_of(text, at),
            addr: eval_addr(expr, at),
            implicit_port: None,
            stdlib: true,
        });
    }
    // net.Listen("tcp", addr)
    for m in NET_LISTEN.find_iter(text) {
        let open = text[m.start()..]
            .find('(')
            .map(|o| m.start() + o)
            .unwrap_or(m.start());
        let args = call_args(text, open).unwrap_or_default();
        let Some(arg) = args.get(1) else { continue };
        let at = text[open..].find(arg).map(|o| open + o).unwrap_or(open);
        let addr = eval_addr(arg, at);
        if addr.as_ref().is_some_and(|a| a.port.is_some()) {
            out.push(Listen {
                file: file.to_string(),
                line: line_of(text, m.start()),
                addr,
                implicit_port: None,
                stdlib: false,
            });
        }
    }
    // Framework methods: r.Run(":8080"), e.Start(addr), app.Listen(":3000").
    for c in METHOD_CALL.captures_iter(text) {
        let recv = &c[1];
        let method = &c[2];
        let Some(fw) = declared.iter().find(|f| f.methods.contains(&method)) else {
            continue;
        };
        if recv == "net" || recv == "http" {
            continue;
        }
        let m = c.get(0).expect("match");
        let open = m.end() - 1;
        let args = call_args(text, open).unwrap_or_default();
        let bound = receiver_bound(text, recv, fw.pkg);
        let line = line_of(text, m.start());
        match args.first() {
            None if bound && method == "Run" => out.push(Listen {
                file: file.to_string(),
                line,
                addr: None,
                implicit_port: Some(fw.default_port),
                stdlib: false,
            }),
            Some(arg) => {
                let at = text[open..].find(arg).map(|o| open + o).unwrap_or(open);
                let addr = eval_addr(arg, at);
                if bound || addr.as_ref().is_some_and(|a| a.port.is_some()) {
                    out.push(Listen {
                        file: file.to_string(),
                        line,
                        addr,
                        implicit_port: None,
                        stdlib: false,
                    });
                }
            }
            None => {}
        }
    }
}

/// True when `recv` is created by the framework package in this file
/// (`r := gin.Default()`, `app = fiber.New()`, `e *echo.Echo`).
fn receiver_bound(text: &str, recv: &str, pkg: &str) -> bool {
    [
        format!("{recv} := {pkg}."),
        format!("{recv} = {pkg}."),
        format!("{recv} *{pkg}."),
    ]
    .iter()
    .any(|p| text.contains(p.as_str()))
}
