//! The vocabulary of deployment requests: which words and phrases mean which
//! cloud, strategy, database, cache, environment, TLS, load balancing or scaling,
//! plus the typo corrector.
//!
//! Everything here is a table; adding a product is one line. A phrase can have
//! several effects (`EC2` → cloud aws + strategy vm). Strategy words carry a
//! tier so a precise product beats a generic word (`ECS on EC2` → container,
//! `Docker on EC2` → vm).
//!
//! What it deliberately is not: context. Whether a mention is negated, in the
//! past or about a dependency is decided in `context`; regions, numbers and
//! machine types have their own modules.

use autodeploy_core::{Cache, Cloud, DatabaseEngine, Environment, Strategy};
use std::collections::HashMap;
use std::sync::OnceLock;

/// How specific a strategy word is. Higher wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tier {
    /// "docker", "container(s)".
    Generic = 1,
    /// Machines: EC2, VM, Compute Engine, droplet, "a server".
    Machine = 2,
    /// A managed runtime or an explicit model: ECS, Cloud Run, EKS, Lambda, "kubernetes", "static site".
    Product = 3,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Effect {
    Cloud(Cloud),
    Strategy(Strategy, Tier),
    /// S3: static hosting, but only when S3 is where the app goes ("on S3").
    S3Static,
    /// "static" alone: a static site unless it qualifies something else
    /// ("static IP", "static assets").
    StaticWord,
    Db(DatabaseEngine),
    Cache(Cache),
    Env(Environment),
    /// `Https(true)` for https/ssl/tls/certificate; `Https(false)` for "http only".
    Https(bool),
    LoadBalancer,
    /// Autoscaling words ("autoscale", "scaling").
    Scale,
    /// "scale": a scaling word only when followed by to/out/up/between/a number.
    ScaleVerb,
    /// "fixed" (number of instances).
    Fixed,
    /// "server(s)": a machine only after "a/one/single/dedicated/my/<number>".
    Server,
    /// Nouns that can be counted: instances, replicas, nodes, …
    CountNoun,
    /// A hosting platform autodeploy cannot target (Heroku, Vercel, …).
    Unsupported(&'static str),
    /// "sqlite": a file database, no database server.
    Sqlite,
    /// "database" / "db": asks for no database server when negated ("no database").
    DbWord,
}

use Cloud::*;
use Effect::*;
use Strategy as S;
use Tier::*;

const AWS: Effect = Cloud(Aws);
const GCP: Effect = Cloud(Gcp);
const AZ: Effect = Cloud(Azure);
const LOCAL: Effect = Cloud(Local);
const PG: Effect = Db(DatabaseEngine::Postgresql);
const MY: Effect = Db(DatabaseEngine::Mysql);
const MONGO: Effect = Db(DatabaseEngine::Mongodb);
const PROD: Effect = Env(Environment::Production);
const STAGE: Effect = Env(Environment::Staging);
const DEV: Effect = Env(Environment::Development);

/// Phrase (space-separated lowercase words, diacritics folded) → effects.
pub(crate) const PHRASES: &[(&str, &[Effect])] = &[
    // --- AWS
    ("aws", &[AWS]),
    ("amazon", &[AWS]),
    ("amazon web services", &[AWS]),
    ("ec2", &[AWS, Strategy(S::Vm, Machine)]),
    ("lightsail", &[AWS, Strategy(S::Vm, Machine)]),
    ("ecs", &[AWS, Strategy(S::Container, Product)]),
    ("fargate", &[AWS, Strategy(S::Container, Product)]),
    ("app runner", &[AWS, Strategy(S::Container, Product)]),
    ("apprunner", &[AWS, Strategy(S::Container, Product)]),
    ("eks", &[AWS, Strategy(S::Kubernetes, Product)]),
    ("lambda", &[AWS, Strategy(S::Serverless, Product)]),
    ("lambdas", &[AWS, Strategy(S::Serverless, Product)]),
    ("cloudfront", &[AWS, Strategy(S::Static, Product)]),
    ("s3", &[AWS, S3Static]),
    ("rds", &[AWS]),
    ("aurora", &[AWS]),
    ("elasticache", &[AWS]),
    ("dynamodb", &[AWS]),
    ("dynamo", &[AWS]),
    // A named group of machines is the scaled VM hosting, not containers.
    ("autoscaling group", &[AWS, Strategy(S::Vm, Product), Scale]),
    (
        "autoscaling groups",
        &[AWS, Strategy(S::Vm, Product), Scale],
    ),
    (
        "auto scaling group",
        &[AWS, Strategy(S::Vm, Product), Scale],
    ),
    (
        "auto scaling groups",
        &[AWS, Strategy(S::Vm, Product), Scale],
    ),
    ("asg", &[AWS, Strategy(S::Vm, Product), Scale]),
    ("elastic beanstalk", &[AWS]),
    ("beanstalk", &[AWS]),
    ("sqs", &[AWS]),
    ("sns", &[AWS]),
    ("route53", &[AWS]),
    ("route 53", &[AWS]),
    ("alb", &[AWS, LoadBalancer]),
    ("elb", &[AWS, LoadBalancer]),
    ("nlb", &[AWS, LoadBalancer]),
    ("acm", &[AWS, Https(true)]),
    // --- Google Cloud
    ("gcp", &[GCP]),
    ("gcloud", &[GCP]),
    ("google cloud", &[GCP]),
    ("google cloud platform", &[GCP]),
    ("google cloud run", &[GCP, Strategy(S::Container, Product)]),
    (
        "google cloud functions",
        &[GCP, Strategy(S::Serverless, Product)],
    ),
    (
        "google cloud function",
        &[GCP, Strategy(S::Serverless, Product)],
    ),
    (
        "google kubernetes engine",
        &[GCP, Strategy(S::Kubernetes, Product)],
    ),
    ("google compute engine", &[GCP, Strategy(S::Vm, Machine)]),
    ("google app engine", &[GCP]),
    ("google cloud sql", &[GCP]),
    ("compute engine", &[GCP, Strategy(S::Vm, Machine)]),
    (
        "managed instance group",
        &[GCP, Strategy(S::Vm, Product), Scale],
    ),
    (
        "managed instance groups",
        &[GCP, Strategy(S::Vm, Product), Scale],
    ),
    ("gce", &[GCP, Strategy(S::Vm, Machine)]),
    ("cloud run", &[GCP, Strategy(S::Container, Product)]),
    ("cloudrun", &[GCP, Strategy(S::Container, Product)]),
    ("gke", &[GCP, Strategy(S::Kubernetes, Product)]),
    ("cloud functions", &[GCP, Strategy(S::Serverless, Product)]),
    ("cloud function", &[GCP, Strategy(S::Serverless, Product)]),
    ("app engine", &[GCP]),
    ("cloud sql", &[GCP]),
    ("memorystore", &[GCP]),
    ("firestore", &[GCP]),
    ("bigquery", &[GCP]),
    ("cloud storage", &[GCP]),
    ("cloud load balancing", &[GCP, LoadBalancer]),
    // --- Azure
    ("azure", &[AZ]),
    ("microsoft azure", &[AZ]),
    ("app service", &[AZ]),
    ("app services", &[AZ]),
    ("container apps", &[AZ, Strategy(S::Container, Product)]),
    ("container app", &[AZ, Strategy(S::Container, Product)]),
    (
        "container instances",
        &[AZ, Strategy(S::Container, Product)],
    ),
    ("azure functions", &[AZ, Strategy(S::Serverless, Product)]),
    ("azure function", &[AZ, Strategy(S::Serverless, Product)]),
    ("function app", &[AZ, Strategy(S::Serverless, Product)]),
    ("function apps", &[AZ, Strategy(S::Serverless, Product)]),
    ("aks", &[AZ, Strategy(S::Kubernetes, Product)]),
    ("scale set", &[AZ, Strategy(S::Vm, Product), Scale]),
    ("scale sets", &[AZ, Strategy(S::Vm, Product), Scale]),
    ("vmss", &[AZ, Strategy(S::Vm, Product), Scale]),
    ("static web apps", &[AZ, Strategy(S::Static, Product)]),
    ("static web app", &[AZ, Strategy(S::Static, Product)]),
    ("cosmos", &[AZ]),
    ("cosmosdb", &[AZ]),
    ("application gateway", &[AZ, LoadBalancer]),
    // --- this machine
    ("locally", &[LOCAL]),
    ("localhost", &[LOCAL]),
    ("local machine", &[LOCAL]),
    ("local docker", &[LOCAL, Strategy(S::Container, Generic)]),
    (
        "local kubernetes",
        &[LOCAL, Strategy(S::Kubernetes, Product)],
    ),
    ("local k8s", &[LOCAL, Strategy(S::Kubernetes, Product)]),
    ("local cluster", &[LOCAL]),
    ("local deployment", &[LOCAL]),
    ("local deploy", &[LOCAL]),
    ("local setup", &[LOCAL]),
    ("local environment", &[LOCAL]),
    ("local development", &[LOCAL, DEV]),
    ("local dev", &[LOCAL, DEV]),
    ("my machine", &[LOCAL]),
    ("my laptop", &[LOCAL]),
    ("my computer", &[LOCAL]),
    ("my mac", &[LOCAL]),
    ("my macbook", &[LOCAL]),
    ("my pc", &[LOCAL]),
    ("my desktop", &[LOCAL]),
    ("my workstation", &[LOCAL]),
    ("this machine", &[LOCAL]),
    ("my own machine", &[LOCAL]),
    ("minikube", &[LOCAL, Strategy(S::Kubernetes, Product)]),
    // --- platforms we cannot target
    ("heroku", &[Unsupported("Heroku")]),
    ("digitalocean", &[Unsupported("DigitalOcean")]),
    ("digital ocean", &[Unsupported("DigitalOcean")]),
    ("vercel", &[Unsupported("Vercel")]),
    ("netlify", &[Unsupported("Netlify")]),
    ("linode", &[Unsupported("Linode")]),
    ("hetzner", &[Unsupported("Hetzner")]),
    // --- strategies, generic words
    ("kubernetes", &[Strategy(S::Kubernetes, Product)]),
    ("k8s", &[Strategy(S::Kubernetes, Product)]),
    ("k3s", &[Strategy(S::Kubernetes, Product)]),
    ("kube", &[Strategy(S::Kubernetes, Product)]),
    ("helm", &[Strategy(S::Kubernetes, Product)]),
    ("openshift", &[Strategy(S::Kubernetes, Product)]),
    ("serverless", &[Strategy(S::Serverless, Product)]),
    ("faas", &[Strategy(S::Serverless, Product)]),
    ("static site", &[Strategy(S::Static, Product)]),
    ("static sites", &[Strategy(S::Static, Product)]),
    ("static website", &[Strategy(S::Static, Product)]),
    ("static html", &[Strategy(S::Static, Product)]),
    ("static hosting", &[Strategy(S::Static, Product)]),
    ("static files", &[Strategy(S::Static, Product)]),
    ("static pages", &[Strategy(S::Static, Product)]),
    ("static export", &[Strategy(S::Static, Product)]),
    ("static frontend", &[Strategy(S::Static, Product)]),
    ("jamstack", &[Strategy(S::Static, Product)]),
    ("static", &[StaticWord]),
    ("vm", &[Strategy(S::Vm, Machine), CountNoun]),
    ("vms", &[Strategy(S::Vm, Machine), CountNoun]),
    ("virtual machine", &[Strategy(S::Vm, Machine), CountNoun]),
    ("virtual machines", &[Strategy(S::Vm, Machine), CountNoun]),
    ("vps", &[Strategy(S::Vm, Machine)]),
    ("droplet", &[Strategy(S::Vm, Machine), CountNoun]),
    ("droplets", &[Strategy(S::Vm, Machine), CountNoun]),
    ("server", &[Server, CountNoun]),
    ("servers", &[Server, CountNoun]),
    ("docker", &[Strategy(S::Container, Generic)]),
    ("docker compose", &[Strategy(S::Container, Generic)]),
    ("dockercompose", &[Strategy(S::Container, Generic)]),
    ("dockerized", &[Strategy(S::Container, Generic)]),
    ("dockerised", &[Strategy(S::Container, Generic)]),
    ("dockerize", &[Strategy(S::Container, Generic)]),
    ("container", &[Strategy(S::Container, Generic), CountNoun]),
    ("containers", &[Strategy(S::Container, Generic), CountNoun]),
    ("containerized", &[Strategy(S::Container, Generic)]),
    ("containerised", &[Strategy(S::Container, Generic)]),
    ("containerize", &[Strategy(S::Container, Generic)]),
    ("containerise", &[Strategy(S::Container, Generic)]),
    ("contianer", &[Strategy(S::Container, Generic), CountNoun]),
    // --- databases and caches
    ("postgres", &[PG]),
    ("postgresql", &[PG]),
    ("postgre", &[PG]),
    ("postgis", &[PG]),
    ("psql", &[PG]),
    ("pgsql", &[PG]),
    ("pg", &[PG]),
    ("mysql", &[MY]),
    ("mariadb", &[MY]),
    ("maria db", &[MY]),
    ("mongodb", &[MONGO]),
    ("mongo", &[MONGO]),
    ("mongo db", &[MONGO]),
    ("sqlite", &[Sqlite]),
    ("sqlite3", &[Sqlite]),
    ("database", &[DbWord]),
    ("databases", &[DbWord]),
    ("db", &[DbWord]),
    ("redis", &[Cache(autodeploy_core::Cache::Redis)]),
    ("memcached", &[Cache(autodeploy_core::Cache::Memcached)]),
    ("memcache", &[Cache(autodeploy_core::Cache::Memcached)]),
    // --- environments
    ("production", &[PROD]),
    ("prod", &[PROD]),
    ("prd", &[PROD]),
    ("staging", &[STAGE]),
    ("stagging", &[STAGE]),
    ("staing", &[STAGE]),
    ("preprod", &[STAGE]),
    ("preproduction", &[STAGE]),
    ("stage environment", &[STAGE]),
    ("stage env", &[STAGE]),
    ("development", &[DEV]),
    ("dev", &[DEV]),
    ("devel", &[DEV]),
    // --- TLS
    ("https", &[Https(true)]),
    ("ssl", &[Https(true)]),
    ("tls", &[Https(true)]),
    ("certificate", &[Https(true)]),
    ("certificates", &[Https(true)]),
    ("cert", &[Https(true)]),
    ("certs", &[Https(true)]),
    ("lets encrypt", &[Https(true)]),
    ("letsencrypt", &[Https(true)]),
    ("http only", &[Https(false)]),
    ("httponly", &[Https(false)]),
    ("only http", &[Https(false)]),
    ("plain http", &[Https(false)]),
    // --- load balancing
    ("load balancer", &[LoadBalancer]),
    ("load balancers", &[LoadBalancer]),
    ("load balancing", &[LoadBalancer]),
    ("load balanced", &[LoadBalancer]),
    ("loadbalanced", &[LoadBalancer]),
    ("loadbalancer", &[LoadBalancer]),
    ("lb", &[LoadBalancer]),
    // --- scaling
    ("autoscale", &[Scale]),
    ("autoscales", &[Scale]),
    ("autoscaled", &[Scale]),
    ("autoscaling", &[Scale]),
    ("auto scale", &[Scale]),
    ("auto scaling", &[Scale]),
    ("auto scales", &[Scale]),
    ("scaling", &[Scale]),
    ("scales", &[Scale]),
    ("scale", &[ScaleVerb]),
    ("scaletozero", &[Scale]),
    ("fixed", &[Fixed]),
    // --- countable things
    ("instance", &[CountNoun]),
    ("instances", &[CountNoun]),
    ("replica", &[CountNoun]),
    ("replicas", &[CountNoun]),
    ("node", &[CountNoun]),
    ("nodes", &[CountNoun]),
    ("machine", &[CountNoun]),
    ("machines", &[CountNoun]),
    ("copy", &[CountNoun]),
    ("copies", &[CountNoun]),
    ("pod", &[CountNoun]),
    ("pods", &[CountNoun]),
    ("task", &[CountNoun]),
    ("tasks", &[CountNoun]),
];

/// Words eligible for one-edit typo correction. Only long, distinctive words:
/// "staging" is not here (one edit from "stating"), nor "container"
/// ("contained"), "server" ("served") or "docker" ("docket").
const FUZZY: &[&str] = &[
    "kubernetes",
    "postgres",
    "postgresql",
    "production",
    "development",
    "autoscaling",
    "autoscale",
    "memcached",
    "mongodb",
    "mariadb",
    "google",
    "amazon",
    "fargate",
    "serverless",
    "cloudfront",
    "instances",
    "replicas",
    "azure",
    "lambda",
    "elasticache",
    "lightsail",
    "locally",
    "frankfurt",
    "virginia",
    "singapore",
    "stockholm",
    "ireland",
    "oregon",
    "london",
    "sydney",
    "mumbai",
    "tokyo",
    "belgium",
    "netherlands",
    "certificate",
    "balancer",
];

/// Hyphenated suffixes that keep the meaning of the word before them
/// ("AWS-hosted", "production-ready"). Any other compound ("azure-sample",
/// "aws-tools", "long-running", "prod-like") is a name and means nothing here.
const COMPOUND_SUFFIXES: &[&str] = &[
    "hosted",
    "based",
    "native",
    "managed",
    "only",
    "ready",
    "grade",
    "compatible",
    "powered",
    "first",
    "friendly",
    "backed",
];

/// A phrase split into words, with its effects.
pub(crate) type Phrase = (Vec<&'static str>, &'static [Effect]);

pub(crate) struct Lexicon {
    /// first word → phrases starting with it, longest first.
    pub by_first: HashMap<&'static str, Vec<Phrase>>,
    vocab: HashMap<&'static str, ()>,
}

pub(crate) fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| {
        let mut by_first: HashMap<&'static str, Vec<Phrase>> = HashMap::new();
        let mut vocab = HashMap::new();
        for (phrase, effects) in PHRASES {
            let words: Vec<&'static str> = phrase.split(' ').collect();
            for w in &words {
                vocab.insert(*w, ());
            }
            by_first.entry(words[0]).or_default().push((words, effects));
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        }
        for w in crate::rules::regions::vocabulary() {
            vocab.insert(w, ());
        }
        Lexicon { by_first, vocab }
    })
}

/// Restricted Damerau–Levenshtein distance, stopping early above 1.
fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() && a[i] == b[j] {
        i += 1;
        j += 1;
    }
    if i == a.len() && j == b.len() {
        return true; // equal
    }
    let (ra, rb) = (&a[i..], &b[j..]);
    // substitution, insertion, deletion, transposition
    (ra.len() == rb.len() && ra[1..] == rb[1..])
        || ra.get(1..) == Some(rb)
        || rb.get(1..) == Some(ra)
        || (ra.len() == rb.len()
            && ra.len() >= 2
            && ra[0] == rb[1]
            && ra[1] == rb[0]
            && ra[2..] == rb[2..])
}

/// The lexicon word a token stands for, when it is not itself a known word:
/// hyphen-compounds ("auto-scaling" → "autoscaling", "aws-hosted" → "aws") and
/// one-edit typos of long words ("kubernets" → "kubernetes").
pub(crate) fn correct(token: &str) -> Option<&'static str> {
    let lex = lexicon();
    if lex.vocab.contains_key(token) || token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if token.contains('-') {
        let joined: String = token.chars().filter(|c| *c != '-').collect();
        if let Some((k, _)) = lex.vocab.get_key_value(joined.as_str()) {
            return Some(k);
        }
        if let Some((head, tail)) = token.rsplit_once('-') {
            if COMPOUND_SUFFIXES.contains(&tail) {
                if let Some((k, _)) = lex.vocab.get_key_value(head) {
                    return Some(k);
                }
                return correct(head);
            }
        }
        return None;
    }
    let t = token.as_bytes();
    if t.len() < 4 || t.len() > 14 || !t.iter().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    if t.len() == 4 {
        // Only a dropped last letter of a five-letter word ("azur" → "azure").
        return FUZZY
            .iter()
            .copied()
            .find(|w| w.len() == 5 && w.as_bytes().starts_with(t));
    }
    FUZZY
        .iter()
        .copied()
        .find(|w| w.as_bytes()[0] == t[0] && within_one_edit(w.as_bytes(), t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        assert!(within_one_edit(b"kubernetes", b"kubernets"));
        assert!(within_one_edit(b"kubernetes", b"kuberentes"));
        assert!(within_one_edit(b"postgres", b"postgress"));
        assert!(within_one_edit(b"frankfurt", b"frankfrut"));
        assert!(!within_one_edit(b"staging", b"statin"));
        assert!(!within_one_edit(b"azure", b"azores"));
    }

    #[test]
    fn corrections() {
        assert_eq!(correct("kubernets"), Some("kubernetes"));
        assert_eq!(correct("gogle"), Some("google"));
        assert_eq!(correct("auto-scaling"), Some("autoscaling"));
        assert_eq!(correct("aws-hosted"), Some("aws"));
        assert_eq!(correct("production-ready"), Some("production"));
        assert_eq!(correct("azure-sample"), None);
        assert_eq!(correct("stating"), None);
        assert_eq!(correct("aws"), None);
        assert_eq!(correct("amazing"), None);
        assert_eq!(correct("azur"), Some("azure"));
        assert_eq!(correct("redi"), None);
    }
}
