//! Context around a mention, and the rule that picks one value per field.
//!
//! A mention is read together with the few words around it, inside its clause:
//! - negated ("no redis", "don't use kubernetes", "Heroku is not an option",
//!   "ECS instead of EKS") — a negated value is vetoed for the whole request
//!   ("negations win");
//! - in the past or being left ("I used to run this on Heroku", "moving from
//!   Azure", "our old MySQL") — weak;
//! - a dependency of the app rather than the target ("talks to Azure Blob",
//!   "sends emails via SES", "S3 for uploads", "I work at Amazon") — weak, and
//!   only for clouds, regions and domains;
//! - about users, not servers ("customers in London", "Frankfurt office") —
//!   ignored for regions;
//! - a deployment target ("on AWS", "deploy to GCP", "in eu-west-1") — strong.
//!
//! [`resolve`] then keeps one value only when it is the single best one,
//! ranking by: live context (not past/dependency) → specificity (product over
//! machine over generic word; explicit cloud over one implied by a region
//! code) → a later thought (after "but", "now", "actually", …) → a target cue.
//! Two equally good different values leave the field unset.
//!
//! What it deliberately is not: a grammar. Windows are a few words wide and
//! never cross a clause boundary; that is enough for one-sentence requests and
//! keeps the pass linear.

use super::text::Doc;

type Seq = &'static [&'static str];

static NEG_PRE: &[Seq] = &[
    &["no"],
    &["not"],
    &["dont"],
    &["never"],
    &["without"],
    &["avoid"],
    &["avoiding"],
    &["skip"],
    &["nor"],
    &["neither"],
    &["isnt"],
    &["arent"],
    &["wont"],
    &["doesnt"],
    &["didnt"],
    &["shouldnt"],
    &["cant"],
    &["cannot"],
    &["except"],
    &["excluding"],
    &["disable"],
    &["disabled"],
    &["instead", "of"],
    &["rather", "than"],
    &["other", "than"],
    &["anything", "but"],
    &["anywhere", "but"],
    &["everything", "but"],
    &["turn", "off"],
    &["switch", "off"],
    &["rid", "of"],
    &["nothing", "on"],
];
static NEG_POST: &[Seq] = &[
    &["is", "not"],
    &["isnt"],
    &["are", "not"],
    &["arent"],
    &["is", "out"],
    &["are", "out"],
    &["is", "overkill"],
    &["overkill"],
    &["not", "needed"],
    &["isnt", "needed"],
    &["not", "required"],
    &["not", "necessary"],
    &["unnecessary"],
    &["not", "allowed"],
    &["is", "banned"],
    &["no", "thanks"],
    &["not", "an", "option"],
    &["is", "a", "no"],
    &["too", "expensive"],
];
/// Words that end a negation's reach ("don't use kubernetes, just a VM";
/// "no redis and postgres" negates only redis).
const NEG_STOP: &[&str] = &[
    "but", "just", "only", "instead", "then", "so", "because", "since", "while", "whereas",
    "however", "though", "although", "and", "with", "plus", "now", "actually",
];

static PAST_PRE: &[Seq] = &[
    &["used", "to"],
    &["previously"],
    &["formerly"],
    &["was", "on"],
    &["were", "on"],
    &["was", "in"],
    &["were", "in"],
    &["was", "hosted"],
    &["was", "running"],
    &["were", "running"],
    &["was", "deployed"],
    &["from"],
    &["off"],
    &["old"],
    &["legacy"],
    &["leaving"],
    &["away"],
    &["originally"],
    &["replacing"],
    &["previous"],
    &["prior"],
    &["experience", "with"],
    &["experience", "in"],
    &["familiar", "with"],
    &["worked", "with"],
];
static PAST_POST: &[Seq] = &[
    &["before"],
    &["previously"],
    &["last", "year"],
    &["in", "the", "past"],
    &["outdated"],
    &["deprecated"],
    &["being", "replaced"],
    &["replaced"],
    &["earlier"],
];
const PAST_STOP: &[&str] = &["to", "onto", "into", "now", "but", "and", "then", "instead"];

static DEP_PRE: &[Seq] = &[
    &["talks"],
    &["talk"],
    &["talking"],
    &["connects"],
    &["connect"],
    &["connecting"],
    &["calls"],
    &["call"],
    &["calling"],
    &["reads"],
    &["writes"],
    &["stores"],
    &["storing"],
    &["fetches"],
    &["queries"],
    &["integrates"],
    &["depends"],
    &["relies"],
    &["sends"],
    &["sending"],
    &["uploads"],
    &["mentions"],
    &["mentioned"],
    &["hits"],
    &["consumes"],
    &["uses"],
    &["store"],
    &["backups"],
    &["backup"],
    &["work", "at"],
    &["works", "at"],
    &["work", "for"],
    &["works", "for"],
    &["worked", "at"],
    &["worked", "for"],
    &["login", "with"],
    &["sign", "in", "with"],
];
static DEP_POST: &[Seq] = &[
    &["for", "storage"],
    &["for", "files"],
    &["for", "media"],
    &["for", "uploads"],
    &["for", "backups"],
    &["for", "logs"],
    &["for", "logging"],
    &["for", "login"],
    &["for", "auth"],
    &["for", "authentication"],
    &["for", "sso"],
    &["for", "email"],
    &["for", "emails"],
    &["for", "analytics"],
    &["for", "monitoring"],
    &["for", "secrets"],
    &["for", "dns"],
    &["blob"],
    &["bucket"],
    &["buckets"],
    &["sdk"],
    &["ad"],
    &["active", "directory"],
];
/// Things that exist already ("Prod is on AWS already", "our existing Redis"):
/// weak for strategy, database, cache, environment, machine type.
static EXISTING_PRE: &[Seq] = &[&["already"], &["existing"], &["current"], &["currently"]];
static EXISTING_POST: &[Seq] = &[
    &["already"],
    &["exists"],
    &["is", "already"],
    &["already", "exists"],
];

const DEP_STOP: &[&str] = &["but", "deploy", "host", "put", "run", "now", "instead"];

static USERS_PRE: &[Seq] = &[
    &["customers"],
    &["users"],
    &["visitors"],
    &["clients"],
    &["audience"],
    &["people"],
    &["employees"],
    &["traffic"],
    &["team"],
    &["office"],
    &["based"],
    &["userbase"],
    &["live"],
    &["located"],
    &["hq"],
    &["headquarters"],
    &["headquartered"],
];
static USERS_POST: &[Seq] = &[
    &["office"],
    &["offices"],
    &["team"],
    &["users"],
    &["customers"],
    &["employees"],
    &["hq"],
    &["headquarters"],
    &["based"],
];

static TARGET_PRE: &[Seq] = &[
    &["on"],
    &["to"],
    &["onto"],
    &["into"],
    &["in"],
    &["at"],
    &["deploy"],
    &["deployed"],
    &["host"],
    &["hosted"],
    &["hosting"],
    &["put"],
    &["run"],
    &["running"],
    &["ship"],
    &["move"],
    &["use"],
    &["using"],
    &["via"],
    &["target"],
    &["prefer"],
    &["choose"],
    &["region"],
    &["go", "with"],
    &["switch", "to"],
    &["want"],
    &["pick"],
];
static TARGET_POST: &[Seq] = &[&["please"], &["region"], &["only"]];

/// Cue tables, one bit each, so a word can say in O(1) whether it can end
/// (`*_PRE`) or begin (`*_POST`) a cue of that table.
static TABLES: &[(u16, &[Seq], bool)] = &[
    (1 << 0, NEG_PRE, true),
    (1 << 1, NEG_POST, false),
    (1 << 2, PAST_PRE, true),
    (1 << 3, PAST_POST, false),
    (1 << 4, DEP_PRE, true),
    (1 << 5, DEP_POST, false),
    (1 << 6, USERS_PRE, true),
    (1 << 7, USERS_POST, false),
    (1 << 8, TARGET_PRE, true),
    (1 << 9, TARGET_POST, false),
    (1 << 10, EXISTING_PRE, true),
    (1 << 11, EXISTING_POST, false),
];

fn bit_of(seqs: &[Seq]) -> u16 {
    TABLES
        .iter()
        .find(|(_, t, _)| std::ptr::eq(*t, seqs))
        .map_or(u16::MAX, |(b, _, _)| *b)
}

/// The cue bits of a word key (see [`TABLES`]).
pub(crate) fn cue_bits(key: &str) -> u16 {
    static MAP: std::sync::OnceLock<std::collections::HashMap<&'static str, u16>> =
        std::sync::OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        for (bit, seqs, pre) in TABLES {
            for s in *seqs {
                let w = if *pre { s[s.len() - 1] } else { s[0] };
                *m.entry(w).or_insert(0) |= *bit;
            }
        }
        m
    });
    map.get(key).copied().unwrap_or(0)
}

/// Context of one mention.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ctx {
    pub negated: bool,
    pub past: bool,
    pub dependency: bool,
    pub users: bool,
    pub existing: bool,
    pub target: bool,
    pub pivot: u16,
}

/// Which weighting a field uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Clouds and domains: dependencies and the past are weak.
    Place,
    /// Regions: like `Place`, and mentions about users are ignored.
    Region,
    /// Everything else (strategy, database, cache, environment, machine type):
    /// the past is weak; dependencies are what the app needs, so they count.
    Thing,
}

impl Ctx {
    pub fn weight(&self, kind: Kind) -> u8 {
        match kind {
            Kind::Region if self.users => 0,
            Kind::Place | Kind::Region if self.dependency || self.past => 1,
            Kind::Thing if self.past || self.existing => 1,
            _ if self.target => 3,
            _ => 2,
        }
    }
}

/// Does a cue end at word `j` (words `j+1-len ..= j` equal the cue)?
fn cue_ends_at(doc: &Doc, j: usize, seqs: &[Seq]) -> Option<usize> {
    seqs.iter().find_map(|s| {
        let n = s.len();
        if j + 1 < n {
            return None;
        }
        let first = j + 1 - n;
        (s.iter().enumerate().all(|(k, w)| doc.key(first + k) == *w) && doc.same_clause(first, j))
            .then_some(first)
    })
}

fn cue_starts_at(doc: &Doc, j: usize, seqs: &[Seq]) -> bool {
    seqs.iter().any(|s| {
        s.iter().enumerate().all(|(k, w)| doc.key(j + k) == *w)
            && doc.same_clause(j, j + s.len() - 1)
    })
}

/// A cue ending at most `window - 1` words before `start`, in the same clause,
/// with no stop word between the cue and the mention.
fn before(doc: &Doc, start: usize, window: usize, seqs: &[Seq], stop: &[&str]) -> bool {
    let bit = bit_of(seqs);
    let mut j = start;
    while j > 0 {
        j -= 1;
        if !doc.same_clause(j, start) || start - 1 - j >= window {
            return false;
        }
        if doc.cues[j] & bit != 0 && cue_ends_at(doc, j, seqs).is_some() {
            return true;
        }
        if stop.contains(&doc.key(j)) {
            return false;
        }
    }
    false
}

/// A cue starting within `window` words after `end` (exclusive), same clause, no stop word between.
fn after(doc: &Doc, end: usize, window: usize, seqs: &[Seq], stop: &[&str]) -> bool {
    let bit = bit_of(seqs);
    let last = end.saturating_sub(1);
    for j in end..end + window {
        if j >= doc.words.len() || !doc.same_clause(j, last) {
            return false;
        }
        if doc.cues[j] & bit != 0 && cue_starts_at(doc, j, seqs) {
            return true;
        }
        if stop.contains(&doc.key(j)) {
            return false;
        }
    }
    false
}

/// The context of the mention spanning words `start..end`.
pub(crate) fn of(doc: &Doc, start: usize, end: usize) -> Ctx {
    Ctx {
        negated: before(doc, start, 5, NEG_PRE, NEG_STOP) || after(doc, end, 4, NEG_POST, NEG_STOP),
        past: before(doc, start, 4, PAST_PRE, PAST_STOP)
            || after(doc, end, 3, PAST_POST, &["but", "now"]),
        dependency: before(doc, start, 4, DEP_PRE, DEP_STOP)
            || after(doc, end, 3, DEP_POST, &["but"]),
        users: before(doc, start, 3, USERS_PRE, &["deploy", "host", "run", "put"])
            || after(doc, end, 2, USERS_POST, &[]),
        existing: before(doc, start, 2, EXISTING_PRE, &[])
            || after(doc, end, 4, EXISTING_POST, &["but", "and"]),
        target: before(doc, start, 3, TARGET_PRE, &[]) || after(doc, end, 1, TARGET_POST, &[]),
        pivot: doc.pivots.get(start).copied().unwrap_or(0),
    }
}

/// One candidate value for a field.
#[derive(Debug, Clone)]
pub(crate) struct Cand<T> {
    pub value: T,
    pub ctx: Ctx,
    pub weight: u8,
    /// Specificity (strategy tiers; explicit clouds over implied ones).
    pub tier: u8,
    /// A negated mention of this value vetoes it everywhere.
    pub veto: bool,
    /// Word index, for "first wins" fields.
    pub pos: usize,
}

impl<T> Cand<T> {
    pub fn new(
        value: T,
        ctx: Ctx,
        kind: Kind,
        tier: u8,
        veto_on_negation: bool,
        pos: usize,
    ) -> Cand<T> {
        Cand {
            value,
            weight: ctx.weight(kind),
            ctx,
            tier,
            veto: veto_on_negation && ctx.negated,
            pos,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved<T> {
    Unset,
    One(T),
    /// Several equally supported values: the field stays unset.
    Ambiguous(Vec<T>),
}

impl<T: Clone> Resolved<T> {
    pub fn value(&self) -> Option<T> {
        match self {
            Resolved::One(v) => Some(v.clone()),
            _ => None,
        }
    }
}

/// Pick the single best value, or none. See the module docs.
pub(crate) fn resolve<T: PartialEq + Clone>(
    cands: &[Cand<T>],
    min_weight: u8,
    first_wins: bool,
) -> Resolved<T> {
    let vetoed: Vec<&T> = cands.iter().filter(|c| c.veto).map(|c| &c.value).collect();
    let live: Vec<&Cand<T>> = cands
        .iter()
        .filter(|c| !c.ctx.negated && c.weight >= min_weight && !vetoed.contains(&&c.value))
        .collect();
    // Strong context first (a past or dependency mention never beats a live one),
    // then specificity, then the later thought, then a target cue.
    let key = |c: &Cand<T>| (c.weight >= 2, c.tier, c.ctx.pivot, c.weight);
    let Some(best) = live.iter().map(|c| key(c)).max() else {
        return Resolved::Unset;
    };
    let mut top: Vec<&Cand<T>> = live.into_iter().filter(|c| key(c) == best).collect();
    if first_wins {
        top.sort_by_key(|c| c.pos);
        return Resolved::One(top[0].value.clone());
    }
    let mut values: Vec<T> = Vec::new();
    for c in top {
        if !values.contains(&c.value) {
            values.push(c.value.clone());
        }
    }
    if values.len() == 1 {
        Resolved::One(values.pop().expect("one value"))
    } else {
        Resolved::Ambiguous(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_of(text: &str, word: &str) -> Ctx {
        let doc = Doc::new(text);
        let i = doc
            .words
            .iter()
            .position(|w| w.key == word)
            .expect("word present");
        of(&doc, i, i + 1)
    }

    #[test]
    fn negation_reach() {
        assert!(ctx_of("I don't want Azure, put it on Google Cloud", "azure").negated);
        assert!(!ctx_of("I don't want Azure, put it on Google Cloud", "google").negated);
        assert!(ctx_of("Heroku is not an option", "heroku").negated);
        assert!(ctx_of("Use ECS instead of EKS", "eks").negated);
        assert!(!ctx_of("Use ECS instead of EKS", "ecs").negated);
        assert!(!ctx_of("don't use kubernetes just a VM", "vm").negated);
        assert!(ctx_of("I'd prefer not to use a load balancer", "load").negated);
    }

    #[test]
    fn past_dependency_users_target() {
        assert!(ctx_of("I used to run this on Heroku", "heroku").past);
        assert!(ctx_of("moving from Azure to GCP", "azure").past);
        assert!(!ctx_of("moving from Azure to GCP", "gcp").past);
        assert!(ctx_of("my app talks to Azure Blob", "azure").dependency);
        assert!(ctx_of("We have customers in London", "london").users);
        assert!(ctx_of("deploy it on AWS", "aws").target);
    }

    #[test]
    fn resolve_rules() {
        let doc = Doc::new("x");
        let c = |v: &'static str, w: u8, neg: bool, pivot: u16| Cand {
            value: v,
            ctx: Ctx {
                negated: neg,
                pivot,
                ..Ctx::default()
            },
            weight: w,
            tier: 0,
            veto: neg,
            pos: 0,
        };
        let _ = doc;
        assert_eq!(
            resolve(&[c("a", 2, false, 0), c("b", 3, false, 0)], 2, false),
            Resolved::One("b")
        );
        assert_eq!(
            resolve(&[c("a", 2, false, 0), c("b", 2, false, 0)], 2, false),
            Resolved::Ambiguous(vec!["a", "b"])
        );
        assert_eq!(
            resolve(&[c("a", 2, false, 0), c("a", 2, true, 0)], 2, false),
            Resolved::Unset
        );
        assert_eq!(
            resolve(&[c("a", 3, false, 0), c("b", 2, false, 1)], 2, false),
            Resolved::One("b")
        );
        assert_eq!(resolve(&[c("a", 1, false, 0)], 2, false), Resolved::Unset);
    }
}
