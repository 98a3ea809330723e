//! Numbers: how many instances, whether to autoscale, and the monthly budget.
//!
//! Instance counts are read only next to a countable noun (instances, servers,
//! replicas, nodes, tasks, pods, containers, VMs, copies) or inside a sentence
//! that talks about scaling, so "Python 3", "port 8080", "2 GB RAM" and
//! "24/7" never become counts. Patterns, in order (a number is used once):
//! ranges ("2 to 5", "between two and five", "2-5", "from 1 up to 10"), lower
//! bounds ("at least 2", "min 2", "two instances minimum"), upper bounds
//! ("up to 8", "max 10", "at most 5", "scale out to 7"), exact counts
//! ("3 instances", "a single server", "3 of them"). "Scale to zero" is a lower
//! bound of 0.
//!
//! Autoscale: false when negated ("without autoscaling") or "fixed"; true for a
//! scaling word or a range; false for exactly one instance ("single
//! instance"); otherwise unset. Exactly N > 1 instances says nothing about
//! autoscaling.
//!
//! Budget: US dollars only (`$50`, `50 USD`, `50 dollars`, `50 bucks`,
//! `$1.5k`, `$2,000`), per month (or per year ÷ 12), or with a budget word
//! ("budget", "under", "max", …) and no other period. Amounts for something
//! else ("$5 a month for the domain") and other currencies are ignored.
//!
//! What it deliberately is not: arithmetic on what the user "probably" means —
//! "a couple", "a few", "cheap" set nothing.

use super::context::Ctx;
use super::lexicon::Effect;
use super::text::Doc;
use super::Mention;

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
    ("hundred", 100),
    ("dozen", 12),
];

/// The integer a word stands for.
pub(crate) fn number(key: &str) -> Option<u32> {
    if !key.is_empty() && key.len() <= 9 && key.bytes().all(|b| b.is_ascii_digit()) {
        return key.parse().ok();
    }
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == key)
        .map(|(_, n)| *n)
}

fn range_word(key: &str) -> Option<(u32, u32)> {
    let (a, b) = key.split_once('-')?;
    Some((number(a)?, number(b)?))
}

/// What the scaling rules found.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scaling {
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub autoscale: Option<bool>,
    /// Every integer written in the text (evidence for the LLM merge).
    pub numbers: Vec<u32>,
    pub scale_pos: bool,
    pub scale_neg: bool,
    pub range: bool,
    pub single: bool,
    pub fixed: bool,
    pub notes: Vec<String>,
}

struct Flags {
    noun: Vec<bool>,
    scale: Vec<bool>,
    money: Vec<bool>,
}

impl Flags {
    fn num(&self, doc: &Doc, i: usize) -> Option<u32> {
        if i >= doc.words.len() || self.money[i] {
            return None;
        }
        number(doc.key(i))
    }
    fn noun(&self, i: usize) -> bool {
        self.noun.get(i).copied().unwrap_or(false)
    }
}

/// Words before a countable noun that make it about the database, not the app
/// ("2 read replicas", "3 database nodes").
const NOT_APP: &[&str] = &[
    "read",
    "db",
    "database",
    "postgres",
    "postgresql",
    "mysql",
    "mongo",
    "mongodb",
    "redis",
    "memcached",
    "cache",
];

/// A countable noun within `gap` words after `i` (same clause, no number between).
fn noun_after(doc: &Doc, f: &Flags, i: usize, gap: usize) -> Option<usize> {
    for j in i + 1..=i + 1 + gap {
        if j >= doc.words.len() || !doc.same_clause(i, j) {
            return None;
        }
        if f.noun(j) {
            return (!NOT_APP.contains(&doc.key(j - 1))).then_some(j);
        }
        if f.num(doc, j).is_some()
            || matches!(
                doc.key(j),
                "of" | "and" | "or" | "to" | "per" | "than" | "between" | "from"
            )
        {
            return None;
        }
    }
    None
}

/// A countable noun or a scaling word within 12 words of word `i`, in its sentence.
fn count_context(doc: &Doc, f: &Flags, i: usize) -> bool {
    let s = doc.words[i].sentence;
    let lo = i.saturating_sub(12);
    let hi = (i + 12).min(doc.words.len());
    (lo..hi).any(|j| doc.words[j].sentence == s && (f.noun(j) || f.scale[j]))
}

const MIN_WORDS: &[&str] = &["min", "minimum"];
const MAX_WORDS: &[&str] = &["max", "maximum", "upto"];
const FILLERS: &[&str] = &[
    "of",
    "than",
    "instances",
    "instance",
    "replicas",
    "nodes",
    "at",
    "is",
    "to",
    "be",
    "count",
    "set",
    "=",
];

pub(crate) fn scaling(doc: &Doc, mentions: &[Mention], money: Vec<bool>) -> Scaling {
    let n = doc.words.len();
    let mut f = Flags {
        noun: vec![false; n],
        scale: vec![false; n],
        money,
    };
    let mut out = Scaling::default();
    let mut fixed_at = Vec::new();
    for m in mentions {
        for e in m.effects {
            match e {
                Effect::CountNoun => f.noun[m.start..m.end].iter_mut().for_each(|x| *x = true),
                Effect::Scale => mark_scale(&mut f, &mut out, m, &m.ctx),
                Effect::ScaleVerb => {
                    let next = doc.key(m.end);
                    let ok = matches!(
                        next,
                        "to" | "out"
                            | "up"
                            | "down"
                            | "between"
                            | "from"
                            | "automatically"
                            | "horizontally"
                            | "based"
                            | "with"
                            | "on"
                    ) || number(next).is_some()
                        || range_word(next).is_some();
                    if ok && doc.same_clause(m.start, m.end) {
                        mark_scale(&mut f, &mut out, m, &m.ctx);
                    }
                }
                Effect::Fixed if !m.ctx.negated => fixed_at.push(m.start),
                _ => {}
            }
        }
    }
    for (i, w) in doc.words.iter().enumerate() {
        if w.span.is_none() && !f.money[i] {
            if let Some(v) = number(&w.key) {
                out.numbers.push(v);
            } else if let Some((a, b)) = range_word(&w.key) {
                out.numbers.extend([a, b]);
            }
        }
    }

    let mut used = vec![false; n];
    let mut mins: Vec<u32> = Vec::new();
    let mut maxs: Vec<u32> = Vec::new();
    let mut exact: Vec<u32> = Vec::new();

    // 1. Ranges.
    for i in 0..n {
        if used[i] || f.money[i] {
            continue;
        }
        let (a, b, k) = if let Some((a, b)) = range_word(doc.key(i)) {
            (a, b, i)
        } else if let Some(a) = f.num(doc, i) {
            let j = i + 1;
            let (conn_len, ok) = match doc.key(j) {
                "to" | "through" | "thru" => (1, true),
                "up" if doc.key(j + 1) == "to" => (2, true),
                "and" if i > 0 && doc.key(i - 1) == "between" => (1, true),
                _ => (0, false),
            };
            if !ok {
                continue;
            }
            let k = j + conn_len;
            match f.num(doc, k) {
                Some(b) if doc.same_clause(i, k) => (a, b, k),
                _ => continue,
            }
        } else {
            continue;
        };
        if a > b
            || !(noun_after(doc, &f, k, 2).is_some()
                || count_context(doc, &f, i) && f.scale_in_sentence(doc, i))
        {
            continue;
        }
        used[i] = true;
        used[k] = true;
        mins.push(a);
        maxs.push(b);
        if a < b {
            out.range = true;
        }
    }

    // 2./3. Lower and upper bounds written before the number.
    for i in 0..n {
        let key = doc.key(i);
        let prev = if i > 0 { doc.key(i - 1) } else { "" };
        let prev2 = if i > 1 { doc.key(i - 2) } else { "" };
        let lower = MIN_WORDS.contains(&key)
            || (key == "least" && prev == "at")
            || (matches!(key, "fewer" | "less") && prev == "no" && doc.key(i + 1) == "than");
        let scale_to = key == "to"
            && (prev == "out" && prev2 == "scale"
                || prev == "scale"
                || (prev == "up" && f.scale.get(i.wrapping_sub(2)).copied().unwrap_or(false)));
        let upper = MAX_WORDS.contains(&key)
            || (key == "most" && prev == "at")
            || (key == "to" && prev == "up")
            || (key == "than" && prev == "more" && prev2 == "no")
            || scale_to;
        if !lower && !upper {
            continue;
        }
        let mut k = i + 1;
        let mut saw_noun = false;
        while k < n && k <= i + 3 && FILLERS.contains(&doc.key(k)) && doc.same_clause(i, k) {
            saw_noun |= f.noun(k);
            k += 1;
        }
        let Some(v) = f.num(doc, k) else { continue };
        if used[k] || !doc.same_clause(i, k) || !(saw_noun || count_context(doc, &f, k)) {
            continue;
        }
        used[k] = true;
        if lower || (scale_to && v == 0) {
            mins.push(v);
        } else {
            maxs.push(v);
        }
    }

    // 4a. Key–value counts: "replicas: 3", "instances = 2", "Count=2".
    for j in 0..n.saturating_sub(1) {
        let key = doc.key(j);
        let plural_noun = f.noun(j) && key.ends_with('s');
        if !(plural_noun || key == "count") || used[j + 1] {
            continue;
        }
        let Some(v) = f.num(doc, j + 1) else { continue };
        let gap = doc
            .text
            .get(doc.words[j].end..doc.words[j + 1].start)
            .unwrap_or("x")
            .trim();
        if matches!(gap, "" | ":" | "=" | ":=")
            && (plural_noun
                || count_context(doc, &f, j)
                || j == 0
                || matches!(
                    doc.text.get(doc.words[j].end..doc.words[j].end + 1),
                    Some("=" | ":")
                ))
        {
            used[j + 1] = true;
            exact.push(v);
            if v == 1 {
                out.single = true;
            }
        }
    }

    // 4. Exact counts, and bounds written after the noun ("two instances minimum").
    // (Each iteration only marks its own number, so the snapshot is exact.)
    let taken = used.clone();
    for i in (0..n).filter(|&i| !taken[i]) {
        let key = doc.key(i);
        let single = matches!(
            key,
            "single" | "single-instance" | "single-server" | "single-node" | "single-vm"
        );
        let v = if single { Some(1) } else { f.num(doc, i) };
        let Some(v) = v else { continue };
        if i > 0
            && doc.same_clause(i - 1, i)
            && matches!(
                doc.key(i - 1),
                "port"
                    | "node"
                    | "python"
                    | "version"
                    | "v"
                    | "php"
                    | "java"
                    | "ruby"
                    | "go"
                    | "rails"
                    | "django"
                    | "postgres"
                    | "mysql"
                    | "redis"
            )
        {
            continue;
        }
        let noun = if key.starts_with("single-") {
            Some(i)
        } else {
            noun_after(doc, &f, i, if single { 1 } else { 2 })
        };
        let noun = match noun {
            Some(j) => j,
            None => {
                // "3 of them", when the sentence is about instances.
                if matches!(doc.key(i + 1), "of")
                    && matches!(doc.key(i + 2), "them" | "those")
                    && count_context(doc, &f, i)
                {
                    used[i] = true;
                    exact.push(v);
                }
                continue;
            }
        };
        // "one instance of Postgres" is about the database, not the app.
        if doc.key(noun + 1) == "of"
            && (matches!(
                doc.key(noun + 2),
                "postgres"
                    | "postgresql"
                    | "mysql"
                    | "mongodb"
                    | "mongo"
                    | "redis"
                    | "memcached"
                    | "database"
                    | "db"
            ) || (matches!(doc.key(noun + 2), "the" | "a" | "our" | "my")
                && matches!(doc.key(noun + 3), "database" | "db" | "cache")))
        {
            continue;
        }
        used[i] = true;
        let after = doc.key(noun + 1);
        let after2 = doc.key(noun + 2);
        if matches!(after, "minimum" | "min")
            || (after == "at" && matches!(after2, "least" | "minimum"))
            || (after == "or" && after2 == "more")
        {
            mins.push(v);
        } else if matches!(after, "maximum" | "max" | "tops")
            || (after == "at" && after2 == "most")
            || (after == "or" && matches!(after2, "less" | "fewer"))
        {
            maxs.push(v);
        } else {
            exact.push(v);
            if v == 1 {
                out.single = true;
            }
        }
    }

    let pick = |vals: Vec<u32>, notes: &mut Vec<String>, what: &str| -> Option<u32> {
        let mut d = vals;
        d.sort_unstable();
        d.dedup();
        match d.len() {
            0 => None,
            1 => Some(d[0]),
            _ => {
                notes.push(format!(
                    "{what}: the text gives several numbers ({d:?}); left unset"
                ));
                None
            }
        }
    };
    let min = pick(
        mins.iter().chain(&exact).copied().collect(),
        &mut out.notes,
        "min instances",
    );
    let max = pick(
        maxs.iter().chain(&exact).copied().collect(),
        &mut out.notes,
        "max instances",
    );
    (out.min, out.max) = match (min, max) {
        (Some(a), Some(b)) if a > b => {
            out.notes.push(format!(
                "instances: at least {a} but at most {b} contradict each other; left unset"
            ));
            (None, None)
        }
        other => other,
    };
    out.fixed = fixed_at.iter().any(|&i| count_context(doc, &f, i));
    // "min 2 max 6" is a range as much as "2 to 6" is.
    if matches!((out.min, out.max), (Some(a), Some(b)) if a < b) {
        out.range = true;
    }
    out.autoscale = if out.scale_neg || out.fixed {
        Some(false)
    } else if out.scale_pos || out.range {
        Some(true)
    } else if out.single && out.min == Some(1) && out.max == Some(1) {
        Some(false)
    } else {
        None
    };
    out
}

fn mark_scale(f: &mut Flags, out: &mut Scaling, m: &Mention, ctx: &Ctx) {
    f.scale[m.start..m.end].iter_mut().for_each(|x| *x = true);
    if ctx.negated {
        out.scale_neg = true;
    } else {
        out.scale_pos = true;
    }
}

impl Flags {
    fn scale_in_sentence(&self, doc: &Doc, i: usize) -> bool {
        let s = doc.words[i].sentence;
        let lo = i.saturating_sub(12);
        let hi = (i + 12).min(doc.words.len());
        (lo..hi).any(|j| doc.words[j].sentence == s && self.scale[j])
    }
}

/// What the budget rules found.
#[derive(Debug, Default, Clone)]
pub(crate) struct Budget {
    pub value: Option<f64>,
    /// Every dollar amount per month in the text that is not about something
    /// else (evidence for the LLM merge).
    pub amounts: Vec<f64>,
    /// Byte ranges of all money expressions (their digits are not counts).
    pub ranges: Vec<(usize, usize)>,
    pub notes: Vec<String>,
}

// The money patterns, each compiled on first use, and only when the text
// can hold a match (see [`budget`]): most requests name no amount.
lazy_regex!(
    dollars_re,
    r"(?:\$|\busd ?)\s?(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<f>\d+))?(?: ?(?P<k>k|thousand)\b)?|\b(?P<n2>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<f2>\d+))?(?: ?(?P<k2>k))? ?(?:usd|dollars?|bucks)\b"
);
lazy_regex!(
    period_re,
    r"^\s*(?:usd|dollars?|bucks)?\s*(?:/\s*|per\s+|a\s+|an\s+|each\s+|every\s+|in\s+a\s+)?(?P<p>months?|mo|mon|monthly|years?|yr|annum|annually|yearly|hours?|hr|hourly|days?|daily|weeks?|weekly|wk)\b"
);
lazy_regex!(
    purpose_re,
    r"^\s*for\s+(?:the|a|an|my|our|this|its)\s+(?P<w>[a-z]+)"
);
lazy_regex!(
    other_currency_re,
    r"(?:€|£|¥)\s?\d|\b\d[\d,.]*\s?(?:k\s?)?(?:eur|euros?|gbp|pounds?|yen|inr|rupees)\b"
);

const BUDGET_CUES: &[&str] = &[
    "budget",
    "under",
    "below",
    "less than",
    "max",
    "maximum",
    "at most",
    "up to",
    "cap",
    "capped",
    "limit",
    "spend",
    "spending",
    "around",
    "about",
    "approximately",
    "roughly",
    "within",
    "no more than",
    "keep it",
    "cheaper than",
    "~",
    "tops",
    "or less",
];
/// "for the <word>" after an amount: these words still mean the deployment.
const INFRA_WORDS: &[&str] = &[
    "app",
    "application",
    "hosting",
    "infrastructure",
    "infra",
    "deployment",
    "whole",
    "everything",
    "cloud",
    "servers",
    "server",
    "compute",
    "stack",
    "project",
    "service",
    "site",
    "website",
    "api",
];

pub(crate) fn budget(doc: &Doc) -> Budget {
    let text = doc.masked.as_str();
    let mut out = Budget::default();
    let mut accepted: Vec<f64> = Vec::new();
    // Every dollar amount holds `$`, `usd`, `dollar` or `bucks` (the patterns
    // are case-sensitive; `masked` is lowercased): without one, nothing to compile.
    let may_hold_dollars = ["$", "usd", "dollar", "bucks"]
        .iter()
        .any(|w| text.contains(w));
    let dollars = may_hold_dollars.then(|| dollars_re().captures_iter(text));
    for c in dollars.into_iter().flatten() {
        let m = c.get(0).expect("match");
        let (n, f, k) = match c.name("n") {
            Some(n) => (n, c.name("f"), c.name("k")),
            None => (c.name("n2").expect("n2"), c.name("f2"), c.name("k2")),
        };
        let mut v: f64 = n.as_str().replace(',', "").parse().unwrap_or(f64::NAN);
        if let Some(f) = f {
            v += format!("0.{}", f.as_str()).parse::<f64>().unwrap_or(0.0);
        }
        if k.is_some() {
            v *= 1000.0;
        }
        out.ranges.push((m.start(), m.end()));
        if !v.is_finite() {
            continue;
        }
        let rest = &text[m.end()..];
        let (period, after_period) = match period_re().captures(rest) {
            Some(p) => (
                Some(p.name("p").expect("p").as_str()),
                &rest[p.get(0).expect("m").end()..],
            ),
            None => (None, rest),
        };
        let monthly = match period {
            Some(p) if p.starts_with("mo") || p == "mon" => Some(1.0),
            Some(p) if p.starts_with('y') || p.starts_with("ann") => Some(12.0),
            Some(_) => None, // per hour/day/week: not a monthly budget
            None => Some(1.0),
        };
        let Some(div) = monthly else { continue };
        // "-5 dollars", "minus $5": a budget is an amount above zero.
        let lead = text[..m.start()].trim_end();
        let before_sign = lead.trim_end_matches(['-', '\u{2212}']);
        let signed = before_sign.len() < lead.len()
            && !before_sign.ends_with(|c: char| c.is_alphanumeric() || c == '$');
        if signed || lead == "minus" || lead.ends_with(" minus") {
            let from = before_sign.trim_end_matches("minus").len();
            let shown = &doc.text[from..m.end()];
            out.notes.push(format!(
                "budget: \"{}\" is not a budget (it must be more than $0 a month); left unset",
                shown.trim()
            ));
            continue;
        }
        let value = (v / div * 100.0).round() / 100.0;
        if let Some(p) = purpose_re().captures(after_period) {
            if !INFRA_WORDS.contains(&p.name("w").expect("w").as_str()) {
                continue; // "$5 a month for the domain"
            }
        }
        let before_start = floor_boundary(text, m.start().saturating_sub(40));
        let before = &text[before_start..m.start()];
        let after_end = ceil_boundary(after_period, after_period.len().min(24));
        let after = &after_period[..after_end];
        let cue = BUDGET_CUES
            .iter()
            .any(|w| has_word(before, w) || has_word(after, w));
        out.amounts.push(value);
        if period.is_some() || cue {
            accepted.push(value);
        }
    }
    accepted.dedup_by(|a, b| (*a - *b).abs() < f64::EPSILON);
    let mut distinct: Vec<f64> = Vec::new();
    for v in accepted {
        if !distinct.iter().any(|d| (d - v).abs() < 0.005) {
            distinct.push(v);
        }
    }
    match distinct.len() {
        0 => {}
        1 => out.value = Some(distinct[0]),
        _ => out.notes.push(format!(
            "budget: several amounts ({distinct:?}); left unset"
        )),
    }
    // Another currency's amount holds its sign or its name.
    let may_hold_other_currency = ["€", "£", "¥", "eur", "gbp", "pound", "yen", "inr", "rupee"]
        .iter()
        .any(|w| text.contains(w));
    if out.value.is_none() && may_hold_other_currency && other_currency_re().is_match(text) {
        out.notes.push("budget: only US dollars are read; amounts in other currencies are not converted — say it in USD".into());
    }
    out
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn has_word(hay: &str, w: &str) -> bool {
    let mut from = 0;
    while let Some(p) = hay[from..].find(w) {
        let s = from + p;
        let e = s + w.len();
        let ok_before = s == 0 || !hay.as_bytes()[s - 1].is_ascii_alphanumeric() || w == "~";
        let ok_after = e == hay.len() || !hay.as_bytes()[e].is_ascii_alphanumeric();
        if ok_before && ok_after {
            return true;
        }
        from = e;
    }
    false
}
