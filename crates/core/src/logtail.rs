//! The last lines of a failed command or app, as a person reads them.
//!
//! A Node, Java or .NET crash prints one line that says what went wrong and
//! then dozens of `    at …` stack frames; the last 15–30 lines of such a
//! log are all frames and the message is cut off (a knex migration that
//! timed out showed 15 frames and not its `TimeoutError`). Runs of frames
//! are folded to their first two and a count before the tail is taken, so
//! the message above them stays in view.

/// Is the line a stack frame (`    at f (file:1:2)`, bluebird's `From
/// previous event:`)?
fn frame(line: &str) -> bool {
    let t = line.trim_start();
    (t.len() < line.len() && t.starts_with("at ")) || t == "From previous event:"
}

/// Frames kept at the top of each run.
const KEPT: usize = 2;

/// The last `n` lines of `lines`, with every run of stack frames longer than
/// two folded to its first two and `… N more stack frames`.
pub fn tail<S: AsRef<str>>(lines: &[S], n: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run = 0usize;
    for l in lines {
        let l = l.as_ref();
        if frame(l) {
            run += 1;
            if run <= KEPT {
                out.push(l.to_string());
            }
            continue;
        }
        if run > KEPT {
            out.push(format!("    … {} more stack frames", run - KEPT));
        }
        run = 0;
        out.push(l.to_string());
    }
    if run > KEPT {
        out.push(format!("    … {} more stack frames", run - KEPT));
    }
    let skip = out.len().saturating_sub(n);
    out.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_above_a_long_stack_stays_in_the_tail() {
        let mut lines = vec![
            "$ knex migrate:latest".to_string(),
            "TimeoutError: Knex: Timeout acquiring a connection.".to_string(),
        ];
        for i in 0..20 {
            lines.push(format!(
                "    at f{i} (/app/node_modules/knex/lib/x.js:{i}:1)"
            ));
        }
        lines.push("From previous event:".into());
        lines.push("    at g (/app/y.js:1:1)".into());
        lines.push("error Command failed with exit code 1.".into());
        let t = tail(&lines, 6);
        assert_eq!(
            t,
            [
                "$ knex migrate:latest",
                "TimeoutError: Knex: Timeout acquiring a connection.",
                "    at f0 (/app/node_modules/knex/lib/x.js:0:1)",
                "    at f1 (/app/node_modules/knex/lib/x.js:1:1)",
                "    … 20 more stack frames",
                "error Command failed with exit code 1.",
            ]
        );
        // Short runs and ordinary lines are untouched; "at" inside a line is not a frame.
        let plain = [
            "Traceback",
            "  File \"app.py\", line 1",
            "look at this",
            "    at one",
        ];
        assert_eq!(tail(&plain, 10), plain);
        assert_eq!(tail(&plain, 1), ["    at one"]);
    }
}
