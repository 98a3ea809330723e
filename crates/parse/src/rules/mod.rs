//! The rule-based parser: text → [`Intent`], pure and fast (no I/O, no
//! allocation proportional to anything but the capped input).
//!
//! Pipeline: [`text`] prepares words and spans → [`lexicon`] and [`regions`]
//! find mentions → [`context`] reads each mention's surroundings → one value
//! per field is resolved (negations veto; a single best value or nothing) →
//! [`numbers`] reads counts, autoscaling and budget; [`entities`] reads
//! machine types, domains and repositories.
//!
//! Invariant: a field is set only when a mention in the text supports it.
//! Defaults are not applied here (that is decide's job). Besides the Intent,
//! the analysis keeps [`Evidence`] — every value the text could support — which
//! the LLM merge uses to drop values the text does not support, and notes that
//! explain fields left unset on purpose.

/// `fn $name() -> &'static Regex`: the pattern compiled on first call, once
/// per process. The rules call it only when the text can hold a match (a
/// literal every match contains is present), so a request compiles only the
/// patterns it can use.
macro_rules! lazy_regex {
    ($name:ident, $pattern:expr) => {
        fn $name() -> &'static regex::Regex {
            static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
            RE.get_or_init(|| regex::Regex::new($pattern).unwrap())
        }
    };
}

lazy_regex!(
    region_shape_re,
    r"^[a-z]{2,}(?:-[a-z]+)*-(?:north|south|east|west|central|northeast|northwest|southeast|southwest)[a-z]*-?[0-9]{1,2}[a-z]?$"
);

pub(crate) mod context;
pub(crate) mod entities;
pub(crate) mod lexicon;
pub(crate) mod numbers;
pub(crate) mod regions;
pub(crate) mod scope;
pub(crate) mod text;

use autodeploy_core::{Cache, Cloud, DatabaseEngine, Environment, Intent, Strategy};
use context::{resolve, Cand, Ctx, Kind, Resolved};
use lexicon::{Effect, Tier};
use text::{Doc, SpanKind};

/// One lexicon phrase found in the text.
#[derive(Debug, Clone)]
pub(crate) struct Mention {
    pub start: usize,
    pub end: usize,
    pub effects: &'static [Effect],
    pub ctx: Ctx,
}

/// Everything the text could support, per field (negated mentions excluded).
/// Used to decide whether a value proposed by an LLM is grounded in the text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Evidence {
    pub clouds: Vec<Cloud>,
    pub strategies: Vec<Strategy>,
    pub databases: Vec<DatabaseEngine>,
    pub caches: Vec<Cache>,
    pub environments: Vec<Environment>,
    /// (cloud, region) pairs any region mention can mean.
    pub regions: Vec<(Cloud, &'static str)>,
    pub instance_types: Vec<(String, Cloud)>,
    pub domains: Vec<String>,
    pub repos: Vec<String>,
    pub numbers: Vec<u32>,
    pub money: Vec<f64>,
    pub https_pos: bool,
    pub https_neg: bool,
    pub lb_pos: bool,
    pub lb_neg: bool,
    pub scale_pos: bool,
    pub scale_neg: bool,
    pub range: bool,
    pub single: bool,
}

/// The rules' result: the Intent, its evidence, and notes for people.
#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    pub intent: Intent,
    pub evidence: Evidence,
    pub notes: Vec<String>,
}

fn find_mentions(doc: &Doc) -> Vec<Mention> {
    let lex = lexicon::lexicon();
    let words = &doc.words;
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let Some(list) = (w.span.is_none())
            .then(|| lex.by_first.get(w.key.as_str()))
            .flatten()
        else {
            i += 1;
            continue;
        };
        let found = list.iter().find(|(phrase, _)| {
            phrase.iter().enumerate().all(|(k, p)| {
                words
                    .get(i + k)
                    .is_some_and(|x| x.span.is_none() && x.key == *p && x.clause == w.clause)
            })
        });
        match found {
            Some((phrase, effects)) => {
                let end = i + phrase.len();
                out.push(Mention {
                    start: i,
                    end,
                    effects,
                    ctx: context::of(doc, i, end),
                });
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// Words before "server(s)" that make it a machine ("a server", "two servers").
const SERVER_QUALIFIERS: &[&str] = &[
    "a",
    "an",
    "one",
    "single",
    "dedicated",
    "own",
    "virtual",
    "linux",
    "ubuntu",
    "debian",
    "plain",
    "cloud",
    "my",
    "our",
    "1",
    "bare",
    "small",
    "big",
    "cheap",
    "separate",
];

/// "the previous dev deployed this", "our dev team": "dev" is a person or a team.
fn developer_not_environment(doc: &Doc, m: &Mention) -> bool {
    let before = if m.start > 0 {
        doc.key(m.start - 1)
    } else {
        ""
    };
    let after = doc.key(m.end);
    doc.key(m.start) == "dev"
        && (matches!(
            before,
            "previous"
                | "former"
                | "senior"
                | "junior"
                | "lead"
                | "another"
                | "other"
                | "solo"
                | "freelance"
                | "backend"
                | "frontend"
        ) || (doc.same_clause(m.start, m.end)
            && matches!(
                after,
                "team"
                    | "teams"
                    | "who"
                    | "deployed"
                    | "built"
                    | "wrote"
                    | "said"
                    | "left"
                    | "did"
                    | "made"
                    | "created"
                    | "tools"
                    | "tooling"
                    | "dependencies"
                    | "deps"
                    | "experience"
            )))
}

/// Words after "static" that make it about something other than a static site.
const NOT_STATIC_SITE: &[&str] = &[
    "ip",
    "ips",
    "address",
    "addresses",
    "ipv4",
    "ipv6",
    "egress",
    "outbound",
    "typing",
    "analysis",
    "linking",
    "binary",
    "route",
    "routes",
    "credentials",
    "key",
    "keys",
    "token",
    "tokens",
    "secret",
    "secrets",
    "nat",
    "dns",
    "assets",
    "asset",
    "media",
    "content",
    "config",
    "configuration",
    "variables",
    "env",
    "number",
    "count",
    "pool",
    "capacity",
    "ports",
    "port",
];

/// "skip the load balancer and SSL", "no Redis or Memcached": a negation
/// reaches every item of a list joined by and/or/nor.
fn spread_negation(doc: &Doc, mentions: &mut [Mention]) {
    for k in 1..mentions.len() {
        let (head, tail) = mentions.split_at_mut(k);
        let prev = &head[k - 1];
        let cur = &mut tail[0];
        if !prev.ctx.negated || cur.ctx.negated || !doc.same_clause(prev.start, cur.start) {
            continue;
        }
        let between: Vec<&str> = (prev.end..cur.start).map(|i| doc.key(i)).collect();
        let joined = matches!(between.first(), Some(&("and" | "or" | "nor")))
            && between.len() <= 2
            && between
                .iter()
                .skip(1)
                .all(|w| matches!(*w, "the" | "a" | "an" | "any"));
        let kept = matches!(doc.key(cur.end), "is" | "please" | "works" | "instead");
        if joined && !kept {
            cur.ctx.negated = true;
        }
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn note_ambiguous<T: std::fmt::Debug>(notes: &mut Vec<String>, field: &str, r: &Resolved<T>) {
    if let Resolved::Ambiguous(vals) = r {
        let vals: Vec<String> = vals
            .iter()
            .map(|v| format!("{v:?}").to_lowercase())
            .collect();
        notes.push(format!(
            "{field}: the text names {} equally; left unset",
            vals.join(" and ")
        ));
    }
}

/// Parse `text` with the rules. Never panics; linear in the capped input.
pub(crate) fn analyze(input: &str) -> Analysis {
    let doc = Doc::new(input);
    let mut mentions = find_mentions(&doc);
    spread_negation(&doc, &mut mentions);
    let hits = regions::find(&doc);
    let types = entities::machine_types(&doc);
    let mut ev = Evidence::default();
    let mut notes = Vec::new();
    let mut intent = Intent::default();

    if doc.truncated {
        notes.push(format!(
            "the request is longer than {} bytes; only the beginning was read",
            text::MAX_INPUT_BYTES
        ));
    }

    // ---- cloud
    let mut clouds: Vec<Cand<Cloud>> = Vec::new();
    let mut unsupported: Vec<&'static str> = Vec::new();
    for m in &mentions {
        let direct = m.effects.len() == 1;
        for e in m.effects {
            match e {
                Effect::Cloud(c) => {
                    clouds.push(Cand::new(*c, m.ctx, Kind::Place, 1, direct, m.start))
                }
                Effect::Unsupported(name) if !m.ctx.negated && !m.ctx.past => {
                    push_unique(&mut unsupported, *name)
                }
                _ => {}
            }
        }
    }
    for h in &hits {
        if let Some((c, _)) = h.exact {
            let ctx = context::of(&doc, h.start, h.end);
            clouds.push(Cand::new(c, ctx, Kind::Region, 0, false, h.start));
        }
    }
    for (i, _, c) in &types {
        let ctx = context::of(&doc, *i, i + 1);
        clouds.push(Cand::new(*c, ctx, Kind::Thing, 0, false, *i));
    }
    for c in clouds.iter().filter(|c| !c.ctx.negated) {
        push_unique(&mut ev.clouds, c.value);
    }
    let cloud_r = resolve(&clouds, 2, false);
    note_ambiguous(&mut notes, "cloud", &cloud_r);
    intent.cloud = cloud_r.value();
    if intent.cloud.is_none() {
        for name in unsupported {
            notes.push(format!(
                "{name} is not a target autodeploy can deploy to (aws, gcp, azure, local)"
            ));
        }
    }

    // ---- region
    for h in &hits {
        if !context::of(&doc, h.start, h.end).negated {
            for (i, c) in [Cloud::Aws, Cloud::Gcp, Cloud::Azure]
                .into_iter()
                .enumerate()
            {
                if let Some(r) = h.per_cloud[i] {
                    push_unique(&mut ev.regions, (c, r));
                }
            }
        }
    }
    if let Some(cloud) = intent.cloud.filter(|c| *c != Cloud::Local) {
        let mut cands: Vec<Cand<&'static str>> = Vec::new();
        for h in &hits {
            let ctx = context::of(&doc, h.start, h.end);
            match h.on(cloud) {
                Some(code) => cands.push(Cand::new(code, ctx, Kind::Region, 0, true, h.start)),
                None if !ctx.negated && ctx.weight(Kind::Region) >= 2 => {
                    let why = match h.exact {
                        Some((other, _)) => {
                            format!("is {} {} region", article(other), cloud_name(other))
                        }
                        None => format!("has no single {} region", cloud_name(cloud)),
                    };
                    notes.push(format!(
                        "region: \"{}\" {why}; left unset for {}",
                        h.text,
                        cloud_name(cloud)
                    ));
                }
                None => {}
            }
        }
        let r = resolve(&cands, 2, false);
        note_ambiguous(&mut notes, "region", &r);
        intent.region = r.value().map(str::to_string);
    }

    // A word shaped like a region code ("mars-west-9") that no cloud has:
    // named back, not silently dropped.
    for (wi, w) in doc.words.iter().enumerate() {
        if w.span.is_some()
            || !w.key.contains('-')
            || !w.key.ends_with(|c: char| c.is_ascii_alphanumeric())
            || hits.iter().any(|h| h.start <= wi && wi < h.end)
        {
            continue;
        }
        if region_shape_re().is_match(&w.key) {
            notes.push(format!(
                "region: \"{}\" is not a region of any cloud (aws, gcp, azure); left to the default — name a real one, e.g. us-east-1 or Frankfurt",
                &doc.text[w.start..w.end]
            ));
        }
    }

    // ---- strategy
    let mut strategies: Vec<Cand<Strategy>> = Vec::new();
    for m in &mentions {
        for e in m.effects {
            let s = match e {
                Effect::Strategy(s, tier) => Some((*s, *tier)),
                Effect::S3Static => {
                    let before = if m.start > 0 {
                        doc.key(m.start - 1)
                    } else {
                        ""
                    };
                    let next = doc.key(m.end);
                    let hosted = matches!(
                        before,
                        "on" | "to"
                            | "onto"
                            | "into"
                            | "host"
                            | "hosted"
                            | "deploy"
                            | "upload"
                            | "in"
                    ) || matches!(next, "static" | "website" | "hosting" | "site");
                    (hosted && !m.ctx.dependency && !m.ctx.past)
                        .then_some((Strategy::Static, Tier::Product))
                }
                Effect::StaticWord => {
                    let next = doc.key(m.end);
                    let qualifies_other =
                        doc.same_clause(m.start, m.end) && NOT_STATIC_SITE.contains(&next);
                    (!qualifies_other).then_some((Strategy::Static, Tier::Product))
                }
                Effect::Server => {
                    let before = if m.start > 0 {
                        doc.key(m.start - 1)
                    } else {
                        ""
                    };
                    let qualified =
                        SERVER_QUALIFIERS.contains(&before) || numbers::number(before).is_some();
                    qualified.then_some((Strategy::Vm, Tier::Machine))
                }
                _ => None,
            };
            if let Some((s, tier)) = s {
                strategies.push(Cand::new(s, m.ctx, Kind::Thing, tier as u8, true, m.start));
            }
        }
    }
    for c in strategies.iter().filter(|c| !c.ctx.negated) {
        push_unique(&mut ev.strategies, c.value);
    }
    let r = resolve(&strategies, 1, false);
    note_ambiguous(&mut notes, "strategy", &r);
    intent.strategy = r.value();

    // ---- database, cache, environment
    let mut dbs: Vec<Cand<DatabaseEngine>> = Vec::new();
    let mut caches: Vec<Cand<Cache>> = Vec::new();
    let mut envs: Vec<Cand<Environment>> = Vec::new();
    let (mut https_pos, mut https_neg, mut lb_pos, mut lb_neg) = (false, false, false, false);
    let mut no_db_server = false;
    for m in &mentions {
        for e in m.effects {
            match e {
                Effect::Sqlite if !m.ctx.negated => no_db_server = true,
                Effect::DbWord if m.ctx.negated => no_db_server = true,
                Effect::Db(d) => dbs.push(Cand::new(*d, m.ctx, Kind::Thing, 0, true, m.start)),
                Effect::Cache(c) => {
                    caches.push(Cand::new(*c, m.ctx, Kind::Thing, 0, true, m.start))
                }
                Effect::Env(Environment::Development) if developer_not_environment(&doc, m) => {}
                Effect::Env(v) => envs.push(Cand::new(*v, m.ctx, Kind::Thing, 0, true, m.start)),
                Effect::Https(true) if m.ctx.negated => https_neg = true,
                Effect::Https(true) => https_pos = true,
                Effect::Https(false) if !m.ctx.negated => https_neg = true,
                Effect::LoadBalancer if m.ctx.negated => lb_neg = true,
                Effect::LoadBalancer => lb_pos = true,
                _ => {}
            }
        }
    }
    for c in dbs.iter().filter(|c| !c.ctx.negated) {
        push_unique(&mut ev.databases, c.value);
    }
    for c in caches.iter().filter(|c| !c.ctx.negated) {
        push_unique(&mut ev.caches, c.value);
    }
    for c in envs.iter().filter(|c| !c.ctx.negated) {
        push_unique(&mut ev.environments, c.value);
    }
    let r = resolve(&dbs, 1, false);
    note_ambiguous(&mut notes, "database", &r);
    intent.database = r.value();
    // "sqlite" / "no database": no server, unless a server engine is named too.
    intent.no_database_server = no_db_server && intent.database.is_none();
    let r = resolve(&caches, 1, false);
    note_ambiguous(&mut notes, "cache", &r);
    intent.cache = r.value();
    let r = resolve(&envs, 1, false);
    note_ambiguous(&mut notes, "environment", &r);
    intent.environment = r.value();

    // ---- machine type
    let mut tcands: Vec<Cand<String>> = Vec::new();
    for (i, t, c) in &types {
        let ctx = context::of(&doc, *i, i + 1);
        if !ctx.negated {
            push_unique(&mut ev.instance_types, (t.clone(), *c));
        }
        match intent.cloud {
            Some(cloud) if cloud != *c => {
                if !ctx.negated {
                    notes.push(format!(
                        "instance type: {t} is {} {} type; left unset for {}",
                        article(*c),
                        cloud_name(*c),
                        cloud_name(cloud)
                    ));
                }
            }
            _ => tcands.push(Cand::new(t.clone(), ctx, Kind::Thing, 0, true, *i)),
        }
    }
    let r = resolve(&tcands, 1, false);
    note_ambiguous(&mut notes, "instance type", &r);
    intent.instance_type = r.value();

    // ---- domain, https from URLs, repository
    let mut dcands: Vec<Cand<String>> = Vec::new();
    let mut https_urls: Vec<(String, bool)> = Vec::new();
    for (wi, w) in doc.words.iter().enumerate() {
        let Some(si) = w.span else { continue };
        let span = &doc.spans[si];
        match span.kind {
            SpanKind::Domain | SpanKind::Url => {
                let Some(host) = span.host.clone() else {
                    continue;
                };
                if span.kind == SpanKind::Url && !text::plausible_domain(&host) {
                    continue;
                }
                let ctx = context::of(&doc, wi, wi + 1);
                if !ctx.negated {
                    push_unique(&mut ev.domains, host.clone());
                }
                let cand = Cand::new(host.clone(), ctx, Kind::Place, 0, true, wi);
                if span.https_scheme && cand.weight >= 2 && !ctx.negated {
                    https_urls.push((host, true));
                }
                dcands.push(cand);
            }
            SpanKind::Repo | SpanKind::Path => push_unique(&mut ev.repos, span.raw.clone()),
            SpanKind::Email => {}
        }
    }
    intent.domain = resolve(&dcands, 2, true).value();
    if https_urls
        .iter()
        .any(|(h, _)| Some(h) == intent.domain.as_ref())
    {
        https_pos = true;
    }
    intent.repo = ev.repos.first().cloned();

    intent.https = if https_neg {
        Some(false)
    } else if https_pos {
        Some(true)
    } else {
        None
    };
    intent.load_balancer = if lb_neg {
        Some(false)
    } else if lb_pos {
        Some(true)
    } else {
        None
    };
    (ev.https_pos, ev.https_neg, ev.lb_pos, ev.lb_neg) = (https_pos, https_neg, lb_pos, lb_neg);

    // ---- budget, counts, autoscale
    let budget = numbers::budget(&doc);
    // Both lists are sorted by position: one merge pass marks the words inside money.
    let mut money = vec![false; doc.words.len()];
    let mut r = 0;
    for (i, w) in doc.words.iter().enumerate() {
        while r < budget.ranges.len() && budget.ranges[r].1 <= w.start {
            r += 1;
        }
        money[i] = r < budget.ranges.len() && budget.ranges[r].0 <= w.start;
    }
    let scaling = numbers::scaling(&doc, &mentions, money);
    intent.budget_usd_month = budget.value;
    intent.min_instances = scaling.min;
    intent.max_instances = scaling.max;
    intent.autoscale = scaling.autoscale;
    ev.money = budget.amounts;
    ev.numbers = scaling.numbers;
    (ev.scale_pos, ev.scale_neg, ev.range, ev.single) = (
        scaling.scale_pos,
        scaling.scale_neg || scaling.fixed,
        scaling.range,
        scaling.single,
    );
    notes.extend(budget.notes);
    notes.extend(scaling.notes);

    // ---- the parts of the repository to deploy
    let parts = scope::scope(&doc);
    intent.services = parts.only;
    intent.services_left_out = parts.without;

    Analysis {
        intent,
        evidence: ev,
        notes,
    }
}

fn article(c: Cloud) -> &'static str {
    match c {
        Cloud::Aws | Cloud::Azure => "an",
        Cloud::Gcp | Cloud::Local => "a",
    }
}

pub(crate) fn cloud_name(c: Cloud) -> &'static str {
    match c {
        Cloud::Aws => "AWS",
        Cloud::Gcp => "Google Cloud",
        Cloud::Azure => "Azure",
        Cloud::Local => "local",
    }
}
