//! What `deploy`, `redeploy` and `destroy` show while they work, from the
//! [`Event`]s execution reports (execution itself prints nothing).
//!
//! On a terminal (stderr, not `--json`, `TERM` not `dumb`): one spinner line
//! per phase — the phase title, its elapsed time and a live one-line summary
//! of the latest line of what runs (Terraform, pip, npm…; "2 of 5 resources"
//! during an apply once the plan said how many) — replaced by
//! `✓ title (12.3s)` or `✗ title (12.3s)` when the phase ends. autodeploy's
//! own lines, and with `-v` every line, are printed above the spinner (the
//! summary is of the commands' lines: an own line clears it).
//!
//! Anywhere else: plain lines, `==> title` when a phase starts and
//! `    name done in 12.3s` when it ends, no cursor movement and no colour.
//!
//! Colour only when the stream is a terminal and `NO_COLOR` is unset or
//! empty (<https://no-color.org>).
//!
//! Lines come from the user's code: the summary is stripped of escape
//! sequences and control characters ([`summary_line`]) and printed lines are
//! escaped (`display`), so nothing it prints can move the cursor, recolour
//! or retitle the terminal.

use crate::cmd::deploy::phase_title;
use autodeploy_core::{LogStream, Phase};
use autodeploy_execute::{Event, Progress};
use autodeploy_render::escape::display;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Columns a summary is cut to before the terminal's own width cuts it further.
const SUMMARY_COLUMNS: usize = 240;

/// Whether to colour a stream: a terminal, and `NO_COLOR` unset or empty.
pub fn colour_enabled(terminal: bool, no_color: Option<OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Colours, or none: every styled string goes through one of these.
#[derive(Debug, Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    /// For stderr: on a terminal and without `NO_COLOR`.
    pub fn stderr() -> Paint {
        Paint(colour_enabled(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
    }

    /// For stdout: on a terminal and without `NO_COLOR`.
    pub fn stdout() -> Paint {
        Paint(colour_enabled(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
    }

    fn apply(self, style: console::Style, s: &str) -> String {
        style.force_styling(self.0).apply_to(s).to_string()
    }
    pub fn bold(self, s: &str) -> String {
        self.apply(console::Style::new().bold(), s)
    }
    pub fn dim(self, s: &str) -> String {
        self.apply(console::Style::new().dim(), s)
    }
    pub fn green(self, s: &str) -> String {
        self.apply(console::Style::new().green().bold(), s)
    }
    pub fn red(self, s: &str) -> String {
        self.apply(console::Style::new().red().bold(), s)
    }
    pub fn yellow(self, s: &str) -> String {
        self.apply(console::Style::new().yellow().bold(), s)
    }
    pub fn cyan(self, s: &str) -> String {
        self.apply(console::Style::new().cyan(), s)
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// Spinner lines redrawn in place (stderr is a terminal, not `--json`).
    pub live: bool,
    pub paint: Paint,
    /// `-v`: every line of every command, not only autodeploy's own.
    pub verbose: bool,
}

impl Mode {
    pub fn detect(json: bool, verbose: bool) -> Mode {
        let terminal =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        Mode {
            live: terminal && !json,
            paint: Paint::stderr(),
            verbose,
        }
    }
}

/// `12.3s` under a minute, `2m05s` from then on.
pub fn fmt_elapsed(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// Whether `c` must not reach a terminal as is (the set of
/// `autodeploy_render::escape::display`): C0 controls, DEL, C1 controls, the
/// line and paragraph separators, and the bidirectional controls.
fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` without escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte
/// escapes, and their C1 forms) and without other control characters; a tab
/// becomes a space.
fn strip_controls(s: &str) -> String {
    #[derive(PartialEq)]
    enum St {
        Text,
        /// After ESC.
        Esc,
        /// After ESC and intermediates (0x20–0x2f), until a final byte.
        EscIntermediate,
        /// Control Sequence: parameters until a final byte 0x40–0x7e.
        Csi,
        /// A string (OSC, DCS…) until BEL or ST (ESC \ or 0x9c).
        Str,
        /// ESC inside a string: `\` ends it.
        StrEsc,
    }
    let mut out = String::with_capacity(s.len());
    let mut st = St::Text;
    for c in s.chars() {
        st = match st {
            St::Text => match c {
                '\u{1b}' => St::Esc,
                '\u{9b}' => St::Csi,
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => St::Str,
                '\t' => {
                    out.push(' ');
                    St::Text
                }
                c if is_unsafe_char(c) => St::Text,
                c => {
                    out.push(c);
                    St::Text
                }
            },
            St::Esc => match c {
                '[' => St::Csi,
                ']' | 'P' | 'X' | '^' | '_' => St::Str,
                '\u{20}'..='\u{2f}' => St::EscIntermediate,
                _ => St::Text,
            },
            St::EscIntermediate => match c {
                '\u{20}'..='\u{2f}' => St::EscIntermediate,
                _ => St::Text,
            },
            St::Csi => match c {
                '\u{40}'..='\u{7e}' => St::Text,
                // A CSI cut short by another escape.
                '\u{1b}' => St::Esc,
                _ => St::Csi,
            },
            St::Str => match c {
                '\u{7}' | '\u{9c}' => St::Text,
                '\u{1b}' => St::StrEsc,
                _ => St::Str,
            },
            St::StrEsc => match c {
                '\\' => St::Text,
                '\u{1b}' => St::StrEsc,
                _ => St::Str,
            },
        };
    }
    out
}

/// The one line a terminal would show for `line`, fit for a status line:
/// the text after its last carriage return that has any (progress bars
/// redraw with CR), escape sequences and control characters removed,
/// whitespace runs made one space, cut to `columns` display columns (wide
/// characters count two) with `…`. `None` when nothing readable is left.
pub fn summary_line(line: &str, columns: usize) -> Option<String> {
    let visible = line.rsplit('\r').find_map(|seg| {
        let clean = strip_controls(seg);
        let words: Vec<&str> = clean.split_whitespace().collect();
        (!words.is_empty()).then(|| words.join(" "))
    })?;
    if !visible.chars().any(char::is_alphanumeric) {
        return None;
    }
    Some(console::truncate_str(&visible, columns, "…").into_owned())
}

/// Resources a Terraform run has finished, out of what its plan said.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResourceCount {
    pub total: Option<usize>,
    pub done: usize,
}

impl ResourceCount {
    /// Reads one line of Terraform's output: "Plan: 2 to add, 1 to change,
    /// 0 to destroy." sets the total; "…: Creation complete after 3s",
    /// "Modifications complete", "Destruction complete" count one each.
    pub fn observe(&mut self, line: &str) {
        let line = line.trim();
        if let Some(total) = plan_total(line) {
            *self = ResourceCount {
                total: Some(total),
                done: 0,
            };
        } else if [
            ": Creation complete after ",
            ": Modifications complete after ",
            ": Destruction complete after ",
        ]
        .iter()
        .any(|m| line.contains(m))
        {
            self.done += 1;
        }
    }

    /// "2 of 5 resources", once a plan gave a total above zero.
    pub fn label(&self) -> Option<String> {
        match self.total {
            Some(t) if t > 0 => Some(format!("{} of {t} resources", self.done.min(t))),
            _ => None,
        }
    }
}

/// The resources "Plan: X to add, Y to change, Z to destroy." acts on.
fn plan_total(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("Plan: ")?.trim_end_matches('.');
    let mut total = 0;
    let mut any = false;
    for part in rest.split(", ") {
        let (n, what) = part.split_once(" to ")?;
        let n: usize = n.trim().parse().ok()?;
        if matches!(what, "add" | "change" | "destroy") {
            total += n;
            any = true;
        }
    }
    any.then_some(total)
}

/// What the spinner of `phase` says after a command printed `line`: the
/// line's summary, led by the resource count while Terraform applies or
/// destroys. `None` leaves the message as it was.
fn spinner_message(phase: Phase, resources: &ResourceCount, line: &str) -> Option<String> {
    let summary = summary_line(line, SUMMARY_COLUMNS)?;
    let counted = matches!(phase, Phase::TerraformApply | Phase::Destroy)
        .then(|| resources.label())
        .flatten();
    Some(match counted {
        Some(c) => format!("{c} · {summary}"),
        None => summary,
    })
}

struct Current {
    phase: Phase,
    started: Instant,
    bar: Option<ProgressBar>,
}

struct State {
    mode: Mode,
    current: Option<Current>,
    resources: ResourceCount,
}

impl State {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::Phase(p) => {
                self.end(true);
                self.start(*p);
            }
            Event::Log { stream, line, .. } => {
                let system = *stream == LogStream::System;
                if system || self.mode.verbose {
                    self.print(&format!("    {}", display(line)));
                }
                self.resources.observe(line);
                if system {
                    // Printed just above: the spinner need not repeat it,
                    // and an older command's line no longer says what runs.
                    if let Some(bar) = self.current.as_ref().and_then(|c| c.bar.as_ref()) {
                        bar.set_message("");
                    }
                    return;
                }
                if let Some(Current {
                    phase,
                    bar: Some(bar),
                    ..
                }) = &self.current
                {
                    if let Some(text) = spinner_message(*phase, &self.resources, line) {
                        bar.set_message(self.mode.paint.dim(&text));
                    }
                }
            }
        }
    }

    /// A line above the spinner (or a plain line when there is none).
    fn print(&self, text: &str) {
        match self.current.as_ref().and_then(|c| c.bar.as_ref()) {
            Some(bar) => bar.println(text),
            None => errln!("{text}"),
        }
    }

    fn start(&mut self, phase: Phase) {
        if matches!(phase, Phase::TerraformPlan | Phase::Destroy) {
            self.resources = ResourceCount::default();
        }
        let title = phase_title(phase);
        let bar = if self.mode.live {
            let paint = self.mode.paint;
            let style = ProgressStyle::with_template("{spinner} {prefix} {took}  {wide_msg}")
                .expect("a valid template")
                .tick_strings(&[
                    &paint.cyan("⠋"),
                    &paint.cyan("⠙"),
                    &paint.cyan("⠹"),
                    &paint.cyan("⠸"),
                    &paint.cyan("⠼"),
                    &paint.cyan("⠴"),
                    &paint.cyan("⠦"),
                    &paint.cyan("⠧"),
                    &paint.cyan("⠇"),
                    &paint.cyan("⠏"),
                    " ",
                ])
                .with_key(
                    "took",
                    move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&paint.dim(&fmt_elapsed(state.elapsed())));
                    },
                );
            let bar = ProgressBar::new_spinner()
                .with_style(style)
                .with_prefix(paint.bold(title));
            bar.enable_steady_tick(Duration::from_millis(100));
            Some(bar)
        } else {
            errln!("==> {title}");
            None
        };
        self.current = Some(Current {
            phase,
            started: Instant::now(),
            bar,
        });
    }

    fn end(&mut self, ok: bool) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let took = fmt_elapsed(cur.started.elapsed());
        match cur.bar {
            Some(bar) => {
                bar.finish_and_clear();
                let paint = self.mode.paint;
                let mark = if ok {
                    paint.green("✓")
                } else {
                    paint.red("✗")
                };
                errln!(
                    "{mark} {} {}",
                    phase_title(cur.phase),
                    paint.dim(&format!("({took})"))
                );
            }
            None if ok => errln!("    {} done in {took}", cur.phase.as_str()),
            None => errln!("    {} failed after {took}", cur.phase.as_str()),
        }
    }
}

/// Prints one line of the command's own while progress is shown.
pub type Say = Arc<dyn Fn(&str) + Send + Sync>;

/// The progress display of one command. Dropping it ends a phase still
/// shown as failed (the command returned an error).
pub struct Phases {
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl Phases {
    pub fn new(mode: Mode) -> Phases {
        Phases {
            state: Arc::new(Mutex::new(State {
                mode,
                current: None,
                resources: ResourceCount::default(),
            })),
        }
    }

    /// The callback execution reports to.
    pub fn progress(&self) -> Progress {
        let state = self.state.clone();
        Arc::new(move |ev: &Event| lock(&state).event(ev))
    }

    /// Prints a line of the command's own (above the spinner on a terminal).
    pub fn say(&self) -> Say {
        let state = self.state.clone();
        Arc::new(move |text: &str| lock(&state).print(text))
    }

    /// The phase shown ends: `ok` or failed.
    pub fn end(&self, ok: bool) {
        lock(&self.state).end(ok);
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        self.end(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(colour_enabled(true, None));
        assert!(!colour_enabled(false, None));
        assert!(!colour_enabled(true, Some("1".into())));
        assert!(!colour_enabled(true, Some("0".into())), "any value counts");
        assert!(colour_enabled(true, Some("".into())), "empty is unset");
        assert!(Paint(false).green("ok") == "ok");
        assert!(Paint(true).green("ok").contains("\u{1b}["));
    }

    #[test]
    fn elapsed_reads_in_seconds_then_minutes() {
        assert_eq!(fmt_elapsed(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(fmt_elapsed(Duration::from_millis(50)), "0.1s");
        assert_eq!(fmt_elapsed(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn escape_sequences_are_removed_not_shown() {
        assert_eq!(
            summary_line("\u{1b}[1;31mERROR\u{1b}[0m: no module named flask", 80).as_deref(),
            Some("ERROR: no module named flask")
        );
        // Screen clear, cursor moves, OSC 8 link and window title (BEL and ST ends).
        let hostile =
            "\u{1b}[2J\u{1b}[H\u{1b}]8;;https://evil.example/\u{1b}\\click\u{1b}]8;;\u{1b}\\ \
                       \u{1b}]0;owned\u{7}here\u{1b}(B\u{1b}7done";
        assert_eq!(summary_line(hostile, 80).as_deref(), Some("click heredone"));
        // C1 forms: CSI 0x9b and OSC 0x9d … ST 0x9c; other controls dropped.
        assert_eq!(
            summary_line("a\u{9b}31mb\u{9d}0;t\u{9c}c\u{0}\u{7}\u{8}d\u{85}e", 80).as_deref(),
            Some("abcde")
        );
        // Bidirectional overrides cannot reorder what is shown.
        assert_eq!(
            summary_line("file \u{202e}gnp.exe\u{2066}", 80).as_deref(),
            Some("file gnp.exe")
        );
        // An unterminated sequence swallows the rest rather than leak it.
        assert_eq!(
            summary_line("ok \u{1b}]0;never ends", 80).as_deref(),
            Some("ok")
        );
        for s in [
            summary_line(hostile, 80).unwrap(),
            summary_line("x\u{1b}[31", 80).unwrap(),
        ] {
            assert!(!s.chars().any(is_unsafe_char), "{s:?}");
        }
    }

    #[test]
    fn carriage_returns_keep_what_the_terminal_would_show_last() {
        assert_eq!(
            summary_line("Downloading 10%\rDownloading 55%\rDownloading 100%", 80).as_deref(),
            Some("Downloading 100%")
        );
        // A trailing CR (CRLF output) and empty redraws are skipped.
        assert_eq!(
            summary_line("Collecting flask\r\r", 80).as_deref(),
            Some("Collecting flask")
        );
        assert_eq!(summary_line("\r   \r\t", 80), None);
        assert_eq!(summary_line("-----", 80), None, "nothing readable");
        assert_eq!(
            summary_line("  npm   WARN\tdeprecated  ", 80).as_deref(),
            Some("npm WARN deprecated")
        );
    }

    #[test]
    fn long_and_wide_lines_are_cut_to_the_columns() {
        let long = "x".repeat(500);
        let s = summary_line(&long, 40).unwrap();
        assert_eq!(console::measure_text_width(&s), 40);
        assert!(s.ends_with('…'));
        assert_eq!(summary_line("short", 40).as_deref(), Some("short"));
        // Each of these takes two columns: 10 of them do not fit in 9.
        let wide = "日本語のテキストです";
        let s = summary_line(wide, 9).unwrap();
        assert!(console::measure_text_width(&s) <= 9, "{s}");
        assert!(s.starts_with("日本語の") && s.ends_with('…'), "{s}");
        assert_eq!(summary_line(wide, 20).as_deref(), Some(wide));
    }

    #[test]
    fn terraform_lines_count_resources_against_the_plan() {
        let mut c = ResourceCount::default();
        c.observe("aws_vpc.main: Creating...");
        assert_eq!(c.label(), None, "no total before a plan line");
        c.observe("Plan: 3 to add, 1 to change, 1 to destroy.");
        assert_eq!(c.label().as_deref(), Some("0 of 5 resources"));
        c.observe("aws_vpc.main: Creation complete after 2s [id=vpc-1]");
        c.observe("aws_instance.app: Still creating... [20s elapsed]");
        c.observe("aws_security_group.web: Modifications complete after 1s [id=sg-1]");
        c.observe("aws_eip.old: Destruction complete after 0s");
        assert_eq!(c.label().as_deref(), Some("3 of 5 resources"));
        c.observe("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.");
        assert_eq!(c.label(), None, "nothing to do: no count");
        c.observe("Plan: lots to add");
        assert_eq!(c.total, Some(0), "an unreadable plan line changes nothing");
    }

    #[test]
    fn the_spinner_counts_resources_only_while_terraform_applies_or_destroys() {
        let mut c = ResourceCount::default();
        c.observe("Plan: 2 to add, 0 to change, 0 to destroy.");
        c.observe("aws_vpc.main: Creation complete after 1s [id=vpc-1]");
        let line = "aws_instance.app: Still creating... [20s elapsed]";
        assert_eq!(
            spinner_message(Phase::TerraformApply, &c, line).as_deref(),
            Some("1 of 2 resources · aws_instance.app: Still creating... [20s elapsed]")
        );
        assert_eq!(
            spinner_message(Phase::TerraformPlan, &c, line).as_deref(),
            Some(line)
        );
        assert_eq!(spinner_message(Phase::TerraformApply, &c, "  "), None);
        let none = ResourceCount::default();
        assert_eq!(
            spinner_message(Phase::Destroy, &none, "stopping the app").as_deref(),
            Some("stopping the app"),
            "no count without a plan (a local destroy)"
        );
    }
}
