//! How the app runs: vm, container, kubernetes, serverless, static (or a local
//! process), and which concrete service hosts each part.
//!
//! Rules, in order:
//! - `cloud: local` → `process`.
//! - Only static parts (HTML, SPA builds) → `static` hosting (or the requested
//!   vm/container/kubernetes, serving the files with nginx).
//! - An explicit vm / container / kubernetes request is honoured.
//! - `serverless` only when asked and every running service fits (stateless
//!   HTTP: no workers, no websockets, no long jobs, no SQLite file); otherwise a
//!   warning says why and what was chosen instead (the default rule below).
//! - `static` asked for an app that runs a server → warning, default rule.
//! - Default rule: a database or cache, several running services, a compose
//!   file, a load balancer or several instances/autoscaling asked → container;
//!   else (one stateless web service) → vm.
//!
//! Static parts next to running services always go to static hosting.
//! What this is not: sizing (see `sizing`) or the data services (see `data`).

use crate::cloud;
use crate::data::Needs;
use crate::notes::{join_and, Notes};
use autodeploy_core::{
    Analysis, Cloud, DeployStrategy, Hosting, Intent, Origin, Service, ServiceKind, Strategy,
};

/// Frameworks whose apps hold websockets open (serverless platforms cut them).
const WEBSOCKET_FRAMEWORKS: &[&str] = &["streamlit", "gradio", "phoenix"];
/// Evidence words that reveal websockets.
const WEBSOCKET_WORDS: &[&str] = &[
    "websocket",
    "socket.io",
    "socketio",
    "flask-sock",
    "channels",
    "liveview",
    "live_view",
    "actioncable",
    "action_cable",
];
/// Job runners: long-running work outside requests.
const JOB_FRAMEWORKS: &[&str] = &[
    "celery",
    "sidekiq",
    "bullmq",
    "bull",
    "rq",
    "dramatiq",
    "huey",
    "good_job",
    "delayed_job",
    "resque",
    "oban",
    "hangfire",
];

/// The services that run a process (everything but static sites).
pub(crate) fn running(analysis: &Analysis) -> Vec<&Service> {
    analysis
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Static)
        .collect()
}

/// True when the repository ships a compose file (seen in the evidence).
pub(crate) fn has_compose(analysis: &Analysis) -> bool {
    analysis.services.iter().any(|s| {
        s.evidence.values().flatten().any(|e| {
            let f = e.file.rsplit('/').next().unwrap_or(&e.file);
            f.contains("compose") && (f.ends_with(".yml") || f.ends_with(".yaml"))
        })
    })
}

/// True when the service holds websockets open.
pub(crate) fn uses_websockets(s: &Service) -> bool {
    let fw = s.framework.as_deref().unwrap_or("");
    WEBSOCKET_FRAMEWORKS.contains(&fw)
        || s.findings.iter().any(|f| f.kind.contains("websocket"))
        || s.evidence.values().flatten().any(|e| {
            let n = e.note.to_ascii_lowercase();
            WEBSOCKET_WORDS.iter().any(|w| n.contains(w))
        })
}

/// Why each running service cannot run serverless (empty when all fit).
pub(crate) fn serverless_blockers(analysis: &Analysis) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in running(analysis) {
        let fw = s.framework.as_deref().unwrap_or("");
        let why = if s.kind == ServiceKind::Worker {
            let what = if JOB_FRAMEWORKS.contains(&fw) {
                format!("a {fw} worker that runs long background jobs continuously")
            } else {
                "a background worker that runs continuously".to_string()
            };
            Some(format!(
                "`{}` is {what}, and serverless functions only run while a request is open",
                s.name
            ))
        } else if uses_websockets(s) {
            Some(format!(
                "`{}` ({}) keeps websocket connections open, which serverless request limits cut",
                s.name,
                if fw.is_empty() { "web" } else { fw }
            ))
        } else if s.databases.contains(&autodeploy_core::Database::Sqlite) {
            Some(format!(
                "`{}` keeps its data in a SQLite file, which serverless instances neither keep nor share",
                s.name
            ))
        } else if s.port.is_none() {
            Some(format!("`{}` listens on no HTTP port", s.name))
        } else {
            None
        };
        if let Some(w) = why {
            out.push((s.name.clone(), w));
        }
    }
    out
}

/// What asks for a container platform rather than one VM (empty → vm).
pub(crate) fn container_triggers(
    analysis: &Analysis,
    intent: &Intent,
    needs: &Needs,
) -> Vec<String> {
    let mut t = Vec::new();
    if let Some((engine, origin)) = needs.database {
        t.push(format!(
            "it needs a {} database ({})",
            crate::data::engine_name(engine),
            origin_words(origin)
        ));
    }
    if let Some((cache, origin)) = needs.cache {
        t.push(format!(
            "it needs a {} cache ({})",
            crate::data::cache_name(cache),
            origin_words(origin)
        ));
    }
    let run = running(analysis);
    if run.len() > 1 {
        let names: Vec<String> = run.iter().map(|s| format!("`{}`", s.name)).collect();
        t.push(format!(
            "it has {} services ({})",
            run.len(),
            join_and(&names)
        ));
    }
    if has_compose(analysis) {
        t.push("the repository has a compose file".to_string());
    }
    if intent.load_balancer == Some(true) {
        t.push("the request asks for a load balancer".to_string());
    }
    let several = intent.min_instances.unwrap_or(0) > 1 || intent.max_instances.unwrap_or(0) > 1;
    if intent.autoscale == Some(true) || several {
        t.push("the request asks for several instances or autoscaling".to_string());
    }
    t
}

fn origin_words(o: Origin) -> &'static str {
    match o {
        Origin::Request => "the request asks for it",
        Origin::Analysis => "found in the code",
        Origin::Both => "asked for and found in the code",
        _ => "required by its worker",
    }
}

/// The default rule, with its reason line.
fn default_rule(analysis: &Analysis, intent: &Intent, needs: &Needs) -> (DeployStrategy, String) {
    let triggers = container_triggers(analysis, intent, needs);
    let d = if triggers.is_empty() {
        DeployStrategy::Vm
    } else {
        DeployStrategy::Container
    };
    (d, default_reason(analysis, d, &triggers))
}

/// The default rule's reason line for the strategy it chose (`triggers`: what asks for containers).
fn default_reason(analysis: &Analysis, d: DeployStrategy, triggers: &[String]) -> String {
    if d == DeployStrategy::Container {
        return format!(
            "container: {} — a managed container service runs them without managing machines (the request names no strategy)",
            join_and(triggers)
        );
    }
    let run = running(analysis);
    let s = run.first().map(|s| {
        format!(
            "`{}`{}",
            s.name,
            s.framework
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        )
    });
    format!(
        "vm: the app is one stateless service {} with no database, and the request names no strategy — one small VM is the simplest and cheapest fit",
        s.unwrap_or_default()
    )
}

/// Choose the deployment's strategy.
pub(crate) fn choose(
    analysis: &Analysis,
    intent: &Intent,
    cloud: Cloud,
    needs: &Needs,
    notes: &mut Notes,
) -> DeployStrategy {
    if cloud.is_local() {
        return local_processes(intent, notes);
    }
    let run = running(analysis);
    if run.is_empty() {
        return static_site(intent.strategy, cloud, notes);
    }
    match intent.strategy {
        Some(Strategy::Static) => static_refused(analysis, intent, needs, &run, notes),
        Some(Strategy::Serverless) => serverless_if_it_fits(analysis, intent, cloud, needs, notes),
        Some(other) => {
            let d: DeployStrategy = other.into();
            notes.reason("strategy", Origin::Request, requested_reason(d, cloud));
            d
        }
        None => {
            let (d, why) = default_rule(analysis, intent, needs);
            notes.reason("strategy", Origin::Analysis, why);
            d
        }
    }
}

/// A local deployment: every service runs as a process (a strategy asked for is
/// set aside with a warning).
fn local_processes(intent: &Intent, notes: &mut Notes) -> DeployStrategy {
    if let Some(s) = intent.strategy.filter(|s| *s != Strategy::Vm) {
        notes.warn(
            "strategy_not_applicable",
            None,
            format!(
                "the request asks for {} but the deployment is local: each service runs as a process on this machine instead",
                s.as_str()
            ),
        );
    }
    notes.reason(
        "strategy",
        Origin::Rule,
        "process: a local deployment runs each service as a process on this machine (the runner assigns ports)",
    );
    DeployStrategy::Process
}

/// An app of static parts only: static hosting, unless the request names
/// vm / container / kubernetes (then nginx serves the files).
fn static_site(asked: Option<Strategy>, cloud: Cloud, notes: &mut Notes) -> DeployStrategy {
    let (d, origin) = match asked {
        None => (DeployStrategy::Static, Origin::Analysis),
        Some(Strategy::Static) => (DeployStrategy::Static, Origin::Both),
        Some(Strategy::Serverless) => (DeployStrategy::Static, Origin::Rule),
        Some(other) => (other.into(), Origin::Request),
    };
    notes.reason("strategy", origin, static_site_reason(asked, d, cloud));
    d
}

/// Why a static site got strategy `d` when the request asked for `asked`.
fn static_site_reason(asked: Option<Strategy>, d: DeployStrategy, cloud: Cloud) -> String {
    match asked {
        None => format!(
            "static: the app is a static site, served from {}",
            static_host_words(cloud)
        ),
        Some(Strategy::Static) => format!(
            "static: the request asks for it and the app is a static site, served from {}",
            static_host_words(cloud)
        ),
        Some(Strategy::Serverless) => format!(
            "static: the request asks for serverless and the app is a static site — static hosting ({}) is the serverless way to serve files",
            static_host_words(cloud)
        ),
        Some(_) => format!(
            "{}: the request asks for it; the static files are served by nginx (static hosting would be cheaper)",
            d.as_str()
        ),
    }
}

/// Static hosting asked for an app that runs a server: the default rule, with a warning.
fn static_refused(
    analysis: &Analysis,
    intent: &Intent,
    needs: &Needs,
    run: &[&Service],
    notes: &mut Notes,
) -> DeployStrategy {
    let (d, why) = default_rule(analysis, intent, needs);
    let names: Vec<String> = run.iter().map(|s| format!("`{}`", s.name)).collect();
    notes.warn(
        "static_unfit",
        None,
        format!(
            "the request asks for static hosting, but {} must run as a server; chose {} instead",
            join_and(&names),
            d.as_str()
        ),
    );
    notes.reason("strategy", Origin::Rule, why);
    d
}

/// Serverless as asked when every running service fits; else the default
/// rule, with a warning per service that does not fit.
fn serverless_if_it_fits(
    analysis: &Analysis,
    intent: &Intent,
    cloud: Cloud,
    needs: &Needs,
    notes: &mut Notes,
) -> DeployStrategy {
    let blockers = serverless_blockers(analysis);
    if blockers.is_empty() {
        notes.reason(
            "strategy",
            Origin::Request,
            format!(
                "serverless: the request asks for it and the app fits (stateless HTTP, no workers, no websockets), on {}",
                serverless_words(cloud)
            ),
        );
        return DeployStrategy::Serverless;
    }
    let (d, why) = default_rule(analysis, intent, needs);
    for (svc, w) in &blockers {
        notes.warn(
            "serverless_unfit",
            Some(svc),
            serverless_unfit_warning(w, d, cloud),
        );
    }
    let whys: Vec<String> = blockers.iter().map(|(_, w)| w.clone()).collect();
    notes.reason(
        "strategy",
        Origin::Rule,
        format!(
            "{why}; serverless was asked but does not fit: {}",
            join_and(&whys)
        ),
    );
    d
}

/// The warning for one service that cannot run serverless (`why`), given the strategy `d` chosen instead.
fn serverless_unfit_warning(why: &str, d: DeployStrategy, cloud: Cloud) -> String {
    format!(
        "serverless was asked, but {why}: chose {} instead{}",
        d.as_str(),
        if d == DeployStrategy::Container {
            format!(
                " ({}), which runs every service continuously",
                container_words(cloud)
            )
        } else {
            String::new()
        }
    )
}

/// Why the strategy `d` the request names was taken as asked.
fn requested_reason(d: DeployStrategy, cloud: Cloud) -> String {
    let extra = match d {
        DeployStrategy::Kubernetes => format!(
            " ({}; a cluster costs more than a container service for an app this size)",
            k8s_words(cloud)
        ),
        DeployStrategy::Container => format!(" ({})", container_words(cloud)),
        _ => String::new(),
    };
    format!("{}: the request asks for it{extra}", d.as_str())
}

fn static_host_words(cloud: Cloud) -> &'static str {
    cloud::of(cloud).strategy_words(DeployStrategy::Static)
}

fn serverless_words(cloud: Cloud) -> &'static str {
    cloud::of(cloud).strategy_words(DeployStrategy::Serverless)
}

pub(crate) fn container_words(cloud: Cloud) -> &'static str {
    cloud::of(cloud).strategy_words(DeployStrategy::Container)
}

fn k8s_words(cloud: Cloud) -> &'static str {
    cloud::of(cloud).strategy_words(DeployStrategy::Kubernetes)
}

/// Strategy of one service: static parts beside running services go to static
/// hosting; when the whole app is static, the deployment's strategy applies.
pub(crate) fn service_strategy(
    s: &Service,
    deployment: DeployStrategy,
    has_running: bool,
    cloud: Cloud,
    notes: &mut Notes,
) -> DeployStrategy {
    if s.kind == ServiceKind::Static && has_running && deployment != DeployStrategy::Process {
        notes.reason(
            format!("service.{}.strategy", s.name),
            Origin::Analysis,
            format!(
                "{}: static build ({}), served from {} beside the {} services",
                s.name,
                s.framework.as_deref().unwrap_or("static files"),
                static_host_words(cloud),
                deployment.as_str()
            ),
        );
        return DeployStrategy::Static;
    }
    deployment
}

/// The concrete host of a service. `scaled`: more than one machine (or a load balancer) for vm.
pub(crate) fn hosting(cloud: Cloud, strategy: DeployStrategy, scaled: bool) -> Hosting {
    cloud::of(cloud).hosting(strategy, scaled)
}

/// Human name of a host.
pub fn hosting_name(h: Hosting) -> &'static str {
    cloud::hosting_name(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{analysis, service};
    use autodeploy_core::{Cache, Database, DatabaseEngine, Evidence, Language};

    fn needs_none() -> Needs {
        Needs::default()
    }

    fn web(name: &str, fw: &str) -> Service {
        service(name, Language::Python, Some(fw), ServiceKind::Web)
    }

    #[test]
    fn default_rule_table() {
        let pg = Needs {
            database: Some((DatabaseEngine::Postgresql, Origin::Analysis)),
            ..Default::default()
        };
        let redis = Needs {
            cache: Some((Cache::Redis, Origin::Analysis)),
            ..Default::default()
        };
        let worker = service(
            "worker",
            Language::Python,
            Some("celery"),
            ServiceKind::Worker,
        );
        let site = service("site", Language::Html, Some("static"), ServiceKind::Static);
        let cases: Vec<(&str, Vec<Service>, Intent, Needs, DeployStrategy)> = vec![
            (
                "one stateless web",
                vec![web("app", "flask")],
                Intent::default(),
                needs_none(),
                DeployStrategy::Vm,
            ),
            (
                "database",
                vec![web("app", "django")],
                Intent::default(),
                pg,
                DeployStrategy::Container,
            ),
            (
                "cache",
                vec![web("app", "flask")],
                Intent::default(),
                redis,
                DeployStrategy::Container,
            ),
            (
                "two services",
                vec![web("app", "flask"), worker.clone()],
                Intent::default(),
                needs_none(),
                DeployStrategy::Container,
            ),
            (
                "load balancer asked",
                vec![web("app", "flask")],
                Intent {
                    load_balancer: Some(true),
                    ..Default::default()
                },
                needs_none(),
                DeployStrategy::Container,
            ),
            (
                "autoscaling asked",
                vec![web("app", "flask")],
                Intent {
                    autoscale: Some(true),
                    ..Default::default()
                },
                needs_none(),
                DeployStrategy::Container,
            ),
            (
                "3 instances",
                vec![web("app", "flask")],
                Intent {
                    min_instances: Some(3),
                    max_instances: Some(3),
                    ..Default::default()
                },
                needs_none(),
                DeployStrategy::Container,
            ),
            (
                "static only",
                vec![site.clone()],
                Intent::default(),
                needs_none(),
                DeployStrategy::Static,
            ),
            (
                "static beside one web",
                vec![site, web("api", "fastapi")],
                Intent::default(),
                needs_none(),
                DeployStrategy::Vm,
            ),
            (
                "explicit kubernetes",
                vec![web("app", "flask")],
                Intent {
                    strategy: Some(Strategy::Kubernetes),
                    ..Default::default()
                },
                needs_none(),
                DeployStrategy::Kubernetes,
            ),
            (
                "explicit vm with a database",
                vec![web("app", "flask")],
                Intent {
                    strategy: Some(Strategy::Vm),
                    ..Default::default()
                },
                Needs {
                    database: Some((DatabaseEngine::Postgresql, Origin::Analysis)),
                    ..Default::default()
                },
                DeployStrategy::Vm,
            ),
        ];
        for (name, services, intent, needs, want) in cases {
            let a = analysis(services);
            let mut notes = Notes::default();
            let got = choose(&a, &intent, Cloud::Aws, &needs, &mut notes);
            assert_eq!(got, want, "{name}");
            let r = notes
                .reasons
                .iter()
                .find(|r| r.about == "strategy")
                .unwrap();
            assert!(r.text.starts_with(want.as_str()), "{name}: {}", r.text);
            assert!(notes.warnings.is_empty(), "{name}: {:?}", notes.warnings);
        }
    }

    #[test]
    fn serverless_fit_table() {
        let mut sock = web("chat", "flask");
        sock.evidence.insert(
            "framework".into(),
            vec![Evidence {
                file: "requirements.txt".into(),
                line: Some(2),
                note: "depends on flask-socketio==5.3".into(),
            }],
        );
        let mut lite = web("blog", "flask");
        lite.databases = vec![Database::Sqlite];
        let cases: Vec<(&str, Vec<Service>, bool)> = vec![
            ("stateless flask", vec![web("app", "flask")], true),
            ("fastapi", vec![web("api", "fastapi")], true),
            (
                "celery worker",
                vec![
                    web("app", "flask"),
                    service(
                        "worker",
                        Language::Python,
                        Some("celery"),
                        ServiceKind::Worker,
                    ),
                ],
                false,
            ),
            ("streamlit", vec![web("ui", "streamlit")], false),
            ("socket.io", vec![sock], false),
            ("sqlite", vec![lite], false),
        ];
        for (name, services, fits) in cases {
            let a = analysis(services);
            let intent = Intent {
                strategy: Some(Strategy::Serverless),
                ..Default::default()
            };
            let mut notes = Notes::default();
            let got = choose(&a, &intent, Cloud::Aws, &needs_none(), &mut notes);
            assert_eq!(got == DeployStrategy::Serverless, fits, "{name}");
            assert_eq!(notes.has_warning("serverless_unfit"), !fits, "{name}");
            if !fits {
                let w = notes
                    .warnings
                    .iter()
                    .find(|w| w.code == "serverless_unfit")
                    .unwrap();
                assert!(w.message.contains("chose"), "{name}: {}", w.message);
            }
        }
    }

    #[test]
    fn static_asked_for_a_server_app_warns() {
        let a = analysis(vec![web("app", "flask")]);
        let intent = Intent {
            strategy: Some(Strategy::Static),
            ..Default::default()
        };
        let mut notes = Notes::default();
        assert_eq!(
            choose(&a, &intent, Cloud::Aws, &needs_none(), &mut notes),
            DeployStrategy::Vm
        );
        assert!(notes.has_warning("static_unfit"));
    }

    #[test]
    fn local_is_a_process() {
        let a = analysis(vec![web("app", "flask")]);
        let intent = Intent {
            strategy: Some(Strategy::Kubernetes),
            ..Default::default()
        };
        let mut notes = Notes::default();
        assert_eq!(
            choose(&a, &intent, Cloud::Local, &needs_none(), &mut notes),
            DeployStrategy::Process
        );
        assert!(notes.has_warning("strategy_not_applicable"));
    }

    #[test]
    fn hosting_table() {
        use DeployStrategy as S;
        let cases = [
            (Cloud::Aws, S::Vm, false, Hosting::Ec2),
            (Cloud::Aws, S::Vm, true, Hosting::Ec2Autoscaling),
            (Cloud::Aws, S::Container, false, Hosting::EcsFargate),
            (Cloud::Aws, S::Kubernetes, false, Hosting::Eks),
            (Cloud::Aws, S::Serverless, false, Hosting::Lambda),
            (Cloud::Aws, S::Static, false, Hosting::S3Cloudfront),
            (Cloud::Gcp, S::Vm, false, Hosting::ComputeEngine),
            (Cloud::Gcp, S::Container, false, Hosting::CloudRun),
            (Cloud::Gcp, S::Serverless, false, Hosting::CloudRun),
            (Cloud::Gcp, S::Static, false, Hosting::CloudStorageCdn),
            (Cloud::Azure, S::Vm, true, Hosting::AzureVmss),
            (Cloud::Azure, S::Container, false, Hosting::ContainerApps),
            (Cloud::Azure, S::Kubernetes, false, Hosting::Aks),
            (Cloud::Azure, S::Static, false, Hosting::StaticWebApps),
            (Cloud::Local, S::Process, false, Hosting::LocalProcess),
            (Cloud::Local, S::Static, false, Hosting::LocalStatic),
        ];
        for (c, s, scaled, want) in cases {
            assert_eq!(hosting(c, s, scaled), want, "{c:?} {s:?}");
        }
    }

    #[test]
    fn compose_is_seen_in_evidence() {
        let mut s = web("web", "flask");
        assert!(!has_compose(&analysis(vec![s.clone()])));
        s.evidence.insert(
            "name".into(),
            vec![Evidence {
                file: "docker-compose.yml".into(),
                line: Some(2),
                note: "compose service `web`".into(),
            }],
        );
        assert!(has_compose(&analysis(vec![s])));
    }
}
