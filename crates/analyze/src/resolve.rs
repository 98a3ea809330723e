//! From drafts to services: choose between drafts for the same folder, drop
//! drafts that are part of another service (templates of a Flask app, the
//! `package.json` that only builds CSS for a Django app, a workspace root),
//! pick each value by trust, report disagreements as findings, and score
//! confidence.
//!
//! This is the only place that weighs evidence; detectors only collect it.

use crate::ctx::{non_app_folder, Ctx};
use crate::draft::{ev, Claim, Draft, Trust, PORT};
use crate::repo::{file_name, is_under, join};
use crate::scan::{localhost_urls, FRONTEND_EXTS};
use autodeploy_core::{Evidence, Language, Service, ServiceKind, Severity, SourceFix};
use std::collections::{BTreeMap, HashSet};

/// Most evidence entries kept per field.
const MAX_EVIDENCE: usize = 5;

/// Choose the drafts that are services of their own.
pub fn select(mut drafts: Vec<Draft>) -> Vec<Draft> {
    drafts.sort_by(|a, b| {
        a.dir.cmp(&b.dir).then(
            b.strength
                .partial_cmp(&a.strength)
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });

    // 1. One primary per folder; weaker drafts there lend what they have.
    let mut kept: Vec<Draft> = Vec::new();
    let mut i = 0;
    while i < drafts.len() {
        let dir = drafts[i].dir.clone();
        let group: Vec<Draft> = drafts[i..]
            .iter()
            .take_while(|d| d.dir == dir)
            .cloned()
            .collect();
        i += group.len();
        let (workers, mut others): (Vec<Draft>, Vec<Draft>) = group
            .into_iter()
            .partition(|d| d.kind == ServiceKind::Worker && d.name.is_some());
        if others.is_empty() {
            kept.extend(workers);
            continue;
        }
        let mut primary = others.remove(0);
        for other in others {
            // Named processes (compose services, Procfile entries) are services of their own.
            let named_apart =
                other.name.is_some() && primary.name.is_some() && other.name != primary.name;
            if other.kind == ServiceKind::Worker || named_apart {
                kept.push(other);
            } else if other.framework.is_some()
                && other.strength >= 8.0
                && other.language != primary.language
                && other.kind == ServiceKind::Web
                && primary.kind == ServiceKind::Web
            {
                // Two real apps in one folder (rare): keep both.
                kept.push(other);
            } else {
                absorb(&mut primary, other);
            }
        }
        kept.push(primary);
        // One process per command: a Procfile `beat:` and a compose
        // service `beats:` that run the same command are one scheduler.
        let mut seen = HashSet::new();
        let mut commands: Vec<(String, usize)> = Vec::new();
        for w in workers {
            if !seen.insert(w.name.clone()) {
                continue;
            }
            let key = process_key(&w);
            if let Some(&(_, at)) = commands.iter().find(|(k, _)| Some(k) == key.as_ref()) {
                let same: &mut Draft = &mut kept[at];
                for c in &w.starts {
                    same.note("start", c.evidence.clone());
                }
                continue;
            }
            if let Some(k) = key {
                commands.push((k, kept.len()));
            }
            kept.push(w);
        }
    }

    // 1b. A workspace root whose start runs one member (`pnpm --filter
    //     api run prod`) and that member are one process: the member's
    //     findings join the root, which runs it as the project says.
    let roots: Vec<(String, String)> = kept
        .iter()
        .filter_map(|d| Some((d.dir.clone(), d.delegates_to.clone()?)))
        .collect();
    for (root_dir, member) in roots {
        let Some(at) = kept.iter().position(|m| {
            m.dir != root_dir
                && is_under(&m.dir, &root_dir)
                && m.kind == ServiceKind::Web
                && m.name.is_none()
                && m.manifest_name.as_deref() == Some(member.as_str())
        }) else {
            continue;
        };
        let m = kept.remove(at);
        if let Some(root) = kept
            .iter_mut()
            .find(|d| d.dir == root_dir && d.delegates_to.as_deref() == Some(member.as_str()))
        {
            if root.framework.is_none() {
                root.framework = m.framework.clone();
            }
            let evidence = ev(
                &join(&m.dir, "package.json"),
                None,
                format!(
                    "the workspace root's start runs the member {member} ({})",
                    m.dir
                ),
            );
            root.note("start", evidence);
            absorb(root, m);
        }
    }

    // 2. Drop drafts that belong to another service or only organise others.
    let snapshot = kept.clone();
    let has_outside_non_app = snapshot.iter().any(|d| !in_non_app_dir(&d.dir));
    kept.retain(|d| {
        let strictly_inside = |e: &Draft| e.dir != d.dir && is_under(&d.dir, &e.dir);
        // Tests, examples and docs are not deployed when the app is elsewhere.
        if has_outside_non_app && in_non_app_dir(&d.dir) {
            return false;
        }
        match d.kind {
            // Pages and assets inside an app are part of that app; a front end with
            // its own manifest inside a backend folder is a service of its own.
            ServiceKind::Static => !snapshot
                .iter()
                .any(|e| strictly_inside(e) && !d.has_manifest),
            // A Dockerfile inside another service's folder is that service's.
            _ if d.language == Language::Unknown && d.name.is_none() => !snapshot
                .iter()
                .any(|e| e.language != Language::Unknown && strictly_inside(e)),
            // Code without its own manifest belongs to the project around it.
            ServiceKind::Web if !d.has_manifest => !snapshot.iter().any(|e| {
                strictly_inside(e) && e.language.family() == d.language.family() && e.has_manifest
            }),
            _ => true,
        }
    });

    // 3. A draft with no framework and no start of its own that sits above other
    //    services is a workspace root (monorepo tooling), not an app.
    let snapshot = kept.clone();
    kept.retain(|d| {
        let weak = d.kind != ServiceKind::Worker
            && d.framework.is_none()
            && !d.starts.iter().any(|c| c.trust >= Trust::Code)
            && d.name.is_none();
        !(weak
            && snapshot
                .iter()
                .any(|e| e.dir != d.dir && is_under(&e.dir, &d.dir)))
    });
    kept
}

/// `go build -o OUT …` with OUT replaced by the relative program the start
/// runs (`./myapp` → `-o myapp`), when they differ; None otherwise.
/// `uwsgi …` with `--die-on-term`, unless it has it (or is no uWSGI).
pub(crate) fn die_on_term(start: &str) -> String {
    let runs_uwsgi = start
        .split_whitespace()
        .find(|w| !w.contains('='))
        .is_some_and(|w| crate::repo::file_name(w) == "uwsgi");
    if !runs_uwsgi || start.contains("die-on-term") || start.contains("&&") || start.contains(';') {
        return start.to_string();
    }
    format!("{start} --die-on-term")
}

fn go_output_at_start(build: &str, start: &str) -> Option<String> {
    let program = start.split_whitespace().next()?;
    let rel = program.strip_prefix("./").unwrap_or(program);
    let plain = !rel.is_empty()
        && !program.starts_with('/')
        && !rel.contains("..")
        && rel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    if !plain || !program.contains('/') {
        // `myapp` alone is a program on PATH, not a file in the tree.
        return None;
    }
    let words: Vec<&str> = build.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "-o")?;
    let out = *words.get(at + 1)?;
    if out.strip_prefix("./").unwrap_or(out) == rel || words.first() != Some(&"go") {
        return None;
    }
    let mut w: Vec<String> = words.iter().map(|x| x.to_string()).collect();
    w[at + 1] = rel.to_string();
    Some(w.join(" "))
}

/// `./NAME args` (or `NAME args`) with NAME the binary another claim runs
/// from where the build leaves it (cargo's `./target/release/NAME`, Go's
/// `./bin/NAME`): that path with the same arguments. A GOPATH image's
/// `/go/bin/NAME` (`go install`) and a Heroku Procfile's bare `NAME` are the
/// same binary. None when the start names another path or program.
fn built_binary_at_start(
    start: &str,
    claims: &[crate::draft::Claim<String>],
    output_dir: &str,
) -> Option<String> {
    let mut words = start.splitn(2, char::is_whitespace);
    let program = words.next()?;
    let rest = words.next().unwrap_or("");
    let name = program
        .strip_prefix("./")
        .or_else(|| program.strip_prefix("/go/bin/"))
        .unwrap_or(program);
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let built = claims.iter().find_map(|c| {
        let p = c.value.split_whitespace().next()?;
        let (dir, file) = p.rsplit_once('/')?;
        (file == name && dir.ends_with(output_dir)).then(|| p.to_string())
    })?;
    Some(if rest.is_empty() {
        built
    } else {
        format!("{built} {rest}")
    })
}

/// A worker's command without its leading `NAME=value` settings, spaces
/// collapsed: what makes two named processes the same process.
fn process_key(d: &Draft) -> Option<String> {
    let best = d.starts.iter().max_by_key(|c| c.trust)?;
    let words: Vec<&str> = best
        .value
        .split_whitespace()
        .skip_while(|w| {
            w.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

trait Family {
    fn family(self) -> u8;
}

impl Family for Language {
    /// Languages that share a manifest (JS/TS, Java/Kotlin) count as one.
    fn family(self) -> u8 {
        match self {
            Language::Javascript | Language::Typescript => 1,
            Language::Java | Language::Kotlin => 2,
            other => other as u8 + 10,
        }
    }
}

/// True when `dir` lies in a tests/examples/docs folder (`NON_APP_DIRS`).
pub fn in_non_app_dir(dir: &str) -> bool {
    dir.split('/').any(non_app_folder)
}

/// Fold a weaker draft for the same folder into the primary one.
fn absorb(primary: &mut Draft, other: Draft) {
    // An asset pipeline next to a backend (package.json building CSS/JS for Django/Rails).
    if primary.language != other.language
        && matches!(other.language, Language::Javascript | Language::Typescript)
    {
        let node = |l: Language| matches!(l, Language::Javascript | Language::Typescript);
        if primary.assets_node_version.is_none() && !node(primary.language) {
            primary.assets_node_version = other.runtime_version.clone();
        }
        if let Some(b) = other.builds.iter().max_by_key(|c| c.trust) {
            let install = other
                .install
                .clone()
                .unwrap_or_else(|| "npm install".into());
            let assets = format!("{install} && {}", b.value);
            if primary.builds.is_empty() {
                primary.builds.push(Claim {
                    value: assets,
                    trust: b.trust,
                    evidence: b.evidence.clone(),
                });
            } else {
                // The backend's own build (collectstatic, assets:precompile) runs after
                // the assets it serves are built.
                for c in &mut primary.builds {
                    if !c.value.contains(&assets) {
                        c.value = format!("{assets} && {}", c.value);
                    }
                }
            }
            primary.note("build", b.evidence.clone());
        }
    }
    for (db, e) in other.databases {
        primary.databases.entry(db).or_insert(e);
    }
    for w in other.wiring {
        primary.wire(w);
    }
    for c in other.install_constraints {
        if !primary.install_constraints.contains(&c) {
            primary.install_constraints.push(c);
        }
    }
    for e in other.env {
        match primary.env.iter_mut().find(|x| x.name == e.name) {
            // Two code scans: required only if neither gives a default. A draft
            // without a manifest (Dockerfile/compose only) never read the code,
            // so it cannot say a variable the code requires is optional.
            Some(x) => {
                if other.has_manifest {
                    x.required &= e.required;
                }
                // An example carries whether it is needed (compose sets a
                // variable the code reads with no default of its own).
                if x.example.is_none() && e.example.is_some() {
                    x.required |= e.required;
                    x.example = e.example;
                }
            }
            None => primary.env.push(e),
        }
    }
    for f in other.findings {
        if !primary.findings.contains(&f) {
            primary.findings.push(f);
        }
    }
    if primary.dockerfile.is_none() {
        primary.dockerfile = other.dockerfile;
        primary.dockerfile_context = other.dockerfile_context;
    }
    // Config-level claims (Dockerfile, compose, Procfile) speak for the folder whatever the language.
    for c in other.ports.into_iter().filter(|c| c.trust == Trust::Config) {
        if !primary.ports.contains(&c) {
            primary.ports.push(c);
        }
    }
    for c in other
        .starts
        .into_iter()
        .filter(|c| c.trust == Trust::Config)
    {
        if !primary.starts.contains(&c) {
            primary.starts.push(c);
        }
    }
    if primary.name.is_none() {
        primary.name = other.name;
    }
}

/// Pick the most trusted claim (earliest wins a tie) and the claims that disagree with it.
fn pick<T: Clone + PartialEq>(claims: &[Claim<T>]) -> Option<(&Claim<T>, Vec<&Claim<T>>)> {
    let best_trust = claims.iter().map(|c| c.trust).max()?;
    let best = claims.iter().find(|c| c.trust == best_trust)?;
    let disagree = claims
        .iter()
        .filter(|c| c.trust >= Trust::Code && c.value != best.value)
        .collect();
    Some((best, disagree))
}

fn describe(e: &Evidence) -> String {
    match e.line {
        Some(l) => format!("{}:{l} ({})", e.file, e.note),
        None => format!("{} ({})", e.file, e.note),
    }
}

/// Turn selected drafts into services.
pub fn finalize(ctx: &Ctx, drafts: Vec<Draft>, name_hint: Option<&str>) -> Vec<Service> {
    let mut services: Vec<Service> = drafts
        .into_iter()
        .map(|mut d| {
            crate::inbound::mark(ctx, &mut d);
            split_release(ctx, &mut d);
            production_over_dev_server(&mut d);
            without_reload(&mut d);
            // The project's own release step (a Procfile chain, a compose
            // one-off) replaced the tables an analysis would have created.
            let create_all = crate::detectors::python::flask::CREATE_ALL_NOTE;
            if !d
                .evidence
                .get("release")
                .is_some_and(|e| e.iter().any(|e| e.note == create_all))
            {
                d.findings.retain(|f| f.kind != "tables_without_migrations");
            }
            to_service(d, name_hint)
        })
        .collect();
    services.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.kind_rank().cmp(&b.kind_rank()))
            .then(a.name.cmp(&b.name))
    });
    unique_names(&mut services);
    localhost_findings(ctx, &mut services);
    for s in &mut services {
        unused_port_findings(s);
        s.findings.sort_by(|a, b| {
            (a.file.as_deref(), a.line, &a.kind).cmp(&(b.file.as_deref(), b.line, &b.kind))
        });
        s.env.sort_by(|a, b| a.name.cmp(&b.name));
    }
    services
}

/// A command whose program is a script at a path only an image has:
/// absolute, not in a system folder, named like an entrypoint script
/// (`/entrypoint.sh`, `/usr/src/app/entrypoint.sh`). A program the image's
/// build installed (`/go/bin/app`) is mapped to where the build leaves it
/// elsewhere (`dockerfile::in_source_tree`).
fn image_only_script(cmd: &str) -> bool {
    let inner = crate::release::unwrap_shell(cmd);
    let Some(program) = inner.split_whitespace().next() else {
        return false;
    };
    let (parent, name) = program.rsplit_once('/').unwrap_or(("", program));
    crate::release::entrypoint_named(name)
        && program.starts_with('/')
        && !crate::release::in_system_bin(parent)
}

/// Start vs release: one-off steps chained in front of the start command
/// (`migrate && gunicorn …`, an entrypoint script's migrations before
/// `exec "$@"`) become the release step and the build; the start keeps the
/// long-lived process alone. The app's own release beats one inferred from
/// framework knowledge; a Procfile `release:` line is kept.
fn split_release(ctx: &Ctx, d: &mut Draft) {
    let Some(best_trust) = d.starts.iter().map(|c| c.trust).max() else {
        return;
    };
    let Some(i) = d.starts.iter().position(|c| c.trust == best_trust) else {
        return;
    };
    let claim = d.starts[i].clone();
    let split = crate::release::split(&claim.value).or_else(|| {
        // `ENTRYPOINT ["./entrypoint.sh"]` + `CMD [...]`: the script's migrations.
        let cmd = crate::release::unwrap_shell(&claim.value);
        // `cd src && ./entrypoint.sh gunicorn …`: the folder stays in front.
        let (cd, cmd) = match cmd.strip_prefix("cd ").and_then(|r| r.split_once(" && ")) {
            Some((dir, rest)) if !dir.contains(char::is_whitespace) => {
                (format!("cd {dir} && "), rest.to_string())
            }
            _ => (String::new(), cmd.to_string()),
        };
        let (first, args) = cmd.split_once(char::is_whitespace).unwrap_or((&cmd, ""));
        // `bash Procfile.sh`, `sh ./start.sh`: the script the shell runs.
        let (first, args) = match (first, args.split_once(char::is_whitespace)) {
            ("sh" | "bash", Some((script, rest))) if !script.starts_with('-') => (script, rest),
            ("sh" | "bash", None) if !args.is_empty() && !args.starts_with('-') => (args, ""),
            _ => (first, args),
        };
        let name = file_name(first);
        if !crate::release::entrypoint_named(name) {
            return None;
        }
        let script = ctx
            .index()
            .files_under(&d.dir)
            .filter(|f| file_name(f) == name)
            .min_by_key(|f| f.matches('/').count())?
            .to_string();
        let text = ctx.read_path(&script)?;
        let mut split = crate::release::entrypoint(&text, args)
            .or_else(|| crate::release::entrypoint_server(&text))?;
        // The script's own steps run in the folder it runs in.
        split.start = format!("{cd}{}", split.start);
        split.release = split.release.map(|r| format!("{cd}{r}"));
        split.build = split.build.map(|b| format!("{cd}{b}"));
        Some(split)
    });
    let Some(split) = split else {
        // A program at a path only the image has (`/src/conf/entrypoint.sh`
        // whose script writes into `/etc` first): outside the image it is
        // "not found". The next start the analysis has (the compose
        // command, the framework's server) runs instead.
        if image_only_script(&claim.value) && d.starts.len() > 1 {
            d.starts.remove(i);
            d.finding(
                "image_only_start",
                Severity::Info,
                Some(claim.evidence.file.as_str()),
                claim.evidence.line,
                format!(
                    "`{}` runs a program only the image has; started with the next command the analysis found instead",
                    claim.value
                ),
                None,
            );
            split_release(ctx, d);
        }
        return;
    };
    d.starts[i].value = split.start.clone();
    if let Some(r) = split.release {
        let own = d
            .evidence
            .get("release")
            .and_then(|e| e.first())
            .is_some_and(|e| e.note.starts_with("release:"));
        if !own {
            d.release = Some(r);
            d.evidence.remove("release");
            d.note("release", claim.evidence.clone());
        }
    }
    if let Some(b) = split.build {
        match d.builds.iter_mut().max_by_key(|c| c.trust) {
            Some(best) if best.value.contains(&b) => {}
            Some(best) => best.value = format!("{} && {b}", best.value),
            None => d.builds.push(Claim {
                value: b,
                trust: claim.trust,
                evidence: claim.evidence.clone(),
            }),
        }
    }
}

/// A Python port written in `app.run(port=5000)` or a stdlib server matters
/// only when the start command runs that file: under gunicorn/uvicorn (which
/// bind `$PORT`) the `__main__` block never runs, and the finding (and its
/// fix) would only be noise. Node's `.listen()` runs on import: kept.
fn unused_port_findings(s: &mut Service) {
    if s.language != autodeploy_core::Language::Python {
        return;
    }
    let start = s.start.clone().unwrap_or_default();
    let dir = s.path.trim_start_matches("./").trim_end_matches('/');
    s.findings.retain(|f| {
        if f.kind != "hardcoded_port" {
            return true;
        }
        let Some(file) = f.file.as_deref() else {
            return false;
        };
        let rel = match file.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
            Some(r) if !dir.is_empty() && dir != "." => r,
            _ => file,
        };
        let module = rel.trim_end_matches(".py").replace('/', ".");
        start.split_whitespace().any(|w| {
            w == rel || w == file || w == module || w == module.trim_end_matches(".__main__")
        })
    });
}

trait KindRank {
    fn kind_rank(&self) -> u8;
}

impl KindRank for Service {
    fn kind_rank(&self) -> u8 {
        match self.kind {
            ServiceKind::Web => 0,
            ServiceKind::Static => 1,
            ServiceKind::Worker => 2,
        }
    }
}

fn to_service(mut d: Draft, name_hint: Option<&str>) -> Service {
    let mut evidence: BTreeMap<String, Vec<Evidence>> = std::mem::take(&mut d.evidence);
    let mut push_ev = |field: &str, e: &Evidence| {
        let list = evidence.entry(field.to_string()).or_default();
        if !list.contains(e) && list.len() < MAX_EVIDENCE {
            list.push(e.clone());
        }
    };

    // Static files are served, not started: a Dockerfile or compose command
    // for them (often a dev server) is not the production start.
    if d.kind == ServiceKind::Static {
        d.starts.clear();
    }
    // The command that really runs decides the port when it names one
    // (`gunicorn -b 0.0.0.0:8000` beats an `EXPOSE 5000` beside it).
    if let Some((best, _)) = pick(&d.starts) {
        if best.trust >= Trust::Code && !best.value.contains(PORT) {
            if let Some(p) = crate::config::port_in_command(&best.value) {
                let claim = Claim {
                    value: p,
                    trust: Trust::Config,
                    evidence: best.evidence.clone(),
                };
                d.ports.insert(0, claim);
            }
        }
    }
    dev_server_finding(&mut d);

    // Port.
    let mut port = None;
    let mut port_trust = None;
    if d.kind == ServiceKind::Web {
        let picked =
            pick(&d.ports).map(|(b, o)| (b.clone(), o.into_iter().cloned().collect::<Vec<_>>()));
        if let Some((best, disagree)) = picked {
            let best = &best;
            port = Some(best.value);
            port_trust = Some(best.trust);
            push_ev("port", &best.evidence);
            for other in &disagree {
                push_ev("port", &other.evidence);
            }
            let mut reported = HashSet::new();
            for other in &disagree {
                if !reported.insert(other.value) {
                    continue;
                }
                let docker = |c: &Claim<u16>| {
                    let name = file_name(&c.evidence.file);
                    name.contains("ockerfile") || name.contains("ontainerfile")
                };
                let kind = if docker(best) || docker(other) {
                    "dockerfile_expose_mismatch"
                } else {
                    "port_conflict"
                };
                d.finding(
                    kind,
                    Severity::Warning,
                    Some(&other.evidence.file),
                    other.evidence.line,
                    format!(
                        "port {} from {} disagrees with port {} from {}; autodeploy uses {} — make them agree",
                        other.value,
                        describe(&other.evidence),
                        best.value,
                        describe(&best.evidence),
                        best.value
                    ),
                    None,
                );
            }
        }
    }

    // Start, with the resolved port put into inferred commands.
    let start_trust = pick(&d.starts).map(|(best, _)| best.trust);
    let start = pick(&d.starts).map(|(best, _)| {
        push_ev("start", &best.evidence);
        let p = port.unwrap_or(8080);
        best.value.replace(PORT, &p.to_string())
    });
    // A Rust or Go start that names the binary by itself (`./rustypaste`,
    // the image's CMD after its build copied it out; a Procfile's
    // `QLedger`) runs where the build leaves it; the image keeps its own
    // command.
    let start = match start {
        Some(st) if matches!(d.language, Language::Rust | Language::Go) => {
            match built_binary_at_start(
                &st,
                &d.starts,
                if d.language == Language::Rust {
                    "target/release"
                } else {
                    "bin"
                },
            ) {
                Some(moved) => {
                    if d.image_start.is_none() {
                        d.image_start = Some((moved.clone(), st.clone()));
                    }
                    Some(moved)
                }
                None => Some(st),
            }
        }
        other => other,
    };
    // uWSGI before 2.1 reloads on SIGTERM instead of exiting, so every stop
    // of a unit, task or pod ends in a kill after its grace period: however
    // the project starts it (a Procfile's `uwsgi ./etc/uwsgi.ini`), it
    // stops on SIGTERM.
    let start = start.map(|st| die_on_term(&st));
    // Conventions the start command implies (`rq worker --url $REDIS_URL`, `sidekiq`).
    if let Some((best, _)) = pick(&d.starts) {
        for w in crate::wiring::command_wiring(&best.value, &best.evidence) {
            d.wire(w);
        }
    }
    let build = pick(&d.builds).map(|(best, _)| {
        push_ev("build", &best.evidence);
        let b = best.value.replace(PORT, &port.unwrap_or(8080).to_string());
        // An inferred Go build writes the binary where the chosen start
        // (a Dockerfile's `CMD ["./myapp"]`) runs it.
        match (&start, best.trust) {
            (Some(st), Trust::Inferred) if d.language == Language::Go => {
                go_output_at_start(&b, st).unwrap_or(b)
            }
            _ => b,
        }
    });
    for e in d.databases.values() {
        push_ev("databases", e);
    }

    let path = if d.dir.is_empty() {
        ".".to_string()
    } else {
        d.dir.clone()
    };
    let name = d
        .name
        .clone()
        .or_else(|| (!d.dir.is_empty()).then(|| file_name(&d.dir).to_string()))
        .or_else(|| d.manifest_name.clone())
        .or_else(|| name_hint.map(str::to_string))
        .unwrap_or_else(|| "app".into());

    // The image runs the Dockerfile's program where it copied it.
    let image_start = d
        .image_start
        .filter(|(moved, image)| start.as_deref() == Some(moved.as_str()) && moved != image)
        .map(|(_, image)| image)
        // In the project's image the command runs in its WORKDIR, without
        // the `cd` it needs outside it.
        .or_else(|| {
            let rel = d.image_folder.as_deref()?;
            let rest = start.as_deref()?.strip_prefix(&format!("cd {rel} && "))?;
            Some(rest.to_string())
        });
    let mut service = Service {
        name: sanitize_name(&name),
        path,
        language: d.language,
        framework: d.framework,
        kind: d.kind,
        port,
        start,
        build,
        install: d.install,
        release: d.release,
        init: d.init,
        postgres_auth: d.postgres_auth,
        drivers_without_tls: d.drivers_without_tls,
        install_with_driver: d.install_with_driver,
        health_path: d.health_path,
        allowed_hosts_env: d.allowed_hosts_env,
        package_manager: d.package_manager,
        runtime_version: d.runtime_version,
        image_runtime_version: d.image_runtime_version,
        assets_node_version: d.assets_node_version,
        release_library_version: d.release_library_version,
        build_schema: d.build_schema,
        wheel_lines: d.wheel_lines,
        dockerfile: d.dockerfile,
        image_start,
        dockerfile_context: d.dockerfile_context,
        static_dir: d.static_dir,
        databases: d.databases.keys().copied().collect(),
        env: d.env,
        findings: d.findings,
        confidence: 0.0,
        evidence,
        wiring: d.wiring,
        install_constraints: d.install_constraints,
        install_files: d.install_files,
    };
    service.confidence = confidence(&service, port_trust, start_trust);
    service
}

/// Lowercase DNS-label style: `My App_2` → `my-app-2`.
pub fn sanitize_name(name: &str) -> String {
    let name = name.rsplit('/').next().unwrap_or(name);
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    let out: String = out.chars().take(40).collect();
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "app".into()
    } else {
        out
    }
}

fn unique_names(services: &mut [Service]) {
    let mut seen: HashSet<String> = HashSet::new();
    let folder_names: Vec<String> = services
        .iter()
        .map(|s| {
            if s.path == "." {
                String::new()
            } else {
                sanitize_name(file_name(&s.path))
            }
        })
        .collect();
    for (s, folder) in services.iter_mut().zip(folder_names) {
        if seen.contains(&s.name) && !folder.is_empty() && !s.name.starts_with(&folder) {
            s.name = format!("{folder}-{}", s.name);
        }
        let base = s.name.clone();
        let mut n = 2;
        while !seen.insert(s.name.clone()) {
            s.name = format!("{base}-{n}");
            n += 1;
        }
    }
}

/// Hard-coded `http://localhost:PORT` URLs in files a browser loads.
fn localhost_findings(ctx: &Ctx, services: &mut [Service]) {
    let ports: Vec<(String, Option<u16>)> =
        services.iter().map(|s| (s.name.clone(), s.port)).collect();
    for s in services.iter_mut() {
        if s.kind == ServiceKind::Worker {
            continue;
        }
        let dir = if s.path == "." { "" } else { s.path.as_str() };
        // Tool configuration (vite/webpack dev proxies, cypress, playwright) runs
        // on the developer's machine, not in a browser.
        let files: Vec<&str> = ctx
            .sources(dir, FRONTEND_EXTS)
            .into_iter()
            .filter(|f| {
                let name = file_name(f);
                !name.contains(".config.")
                    && name != "setupProxy.js"
                    && !name.starts_with("webpack.")
            })
            .filter(|f| s.kind == ServiceKind::Static || runs_in_browser(f, dir))
            .collect();
        for url in localhost_urls(ctx.repo, &files) {
            let same_origin = url.port == s.port || (url.port.is_none() && s.port == Some(80));
            if same_origin {
                let line_text = ctx
                    .read_path(&url.file)
                    .map(|t| crate::scan::line_text(&t, url.line))
                    .unwrap_or_default();
                let next = line_text
                    .split(&url.origin)
                    .nth(1)
                    .and_then(|r| r.chars().next());
                let replace = if next == Some('/') { "" } else { "/" };
                s.findings.push(autodeploy_core::Finding {
                    kind: "hardcoded_localhost_url".into(),
                    file: Some(url.file.clone()),
                    line: Some(url.line),
                    message: format!(
                        "{} calls {} — the app's own origin on the developer's machine; in a browser elsewhere this \
                         fails. Use a relative URL (autodeploy rewrites it in its copy)",
                        url.file, url.origin
                    ),
                    severity: Severity::Warning,
                    fix: Some(SourceFix {
                        file: url.file.clone(),
                        line: url.line,
                        find: url.origin.clone(),
                        replace: replace.into(),
                    }),
                    from_example: None,
                    calls: None,
                    makes_dir: None,
                });
            } else {
                let target = ports
                    .iter()
                    .find(|(n, p)| *n != s.name && p.is_some() && *p == url.port)
                    .map(|(n, _)| format!(" (service `{n}`)"))
                    .unwrap_or_default();
                s.findings.push(autodeploy_core::Finding {
                    kind: "hardcoded_localhost_url".into(),
                    file: Some(url.file.clone()),
                    line: Some(url.line),
                    message: format!(
                        "{} calls {}{target}, which only exists on the developer's machine; read the URL from \
                         configuration so the deployment can point it at the real service",
                        url.file, url.origin
                    ),
                    severity: Severity::Warning,
                    fix: None,
                    from_example: None,
                    calls: Some(url.origin.clone()),
                    makes_dir: None,
                });
            }
        }
    }
}

/// `--reload` (and the flags that only tune it) on a Python server:
/// uvicorn, gunicorn, hypercorn, `flask run`.
static RELOAD_FLAGS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::scan::regex(r"\s--reload(?:-(?:dir|include|exclude|delay|extra-file)(?:=\S+|\s+\S+))?\b")
});
static RELOADING_SERVER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::scan::regex(r"(?:^|[\s/;&])(?:uvicorn|gunicorn|hypercorn|flask\s+run)\b")
});

/// A Python server started with `--reload` watches the files and keeps its
/// parent alive when the app fails to import: the process never exits, so
/// a crash is a silent wait for the whole health timeout (locally) or a
/// task that never turns healthy (in the cloud), and the watcher costs CPU
/// for nothing on a deployment whose files do not change. Every target runs
/// the command without it; the finding says so.
fn without_reload(d: &mut Draft) {
    let Some(best) = d.starts.iter().map(|c| c.trust).max() else {
        return;
    };
    let Some(c) = d.starts.iter_mut().find(|c| c.trust == best) else {
        return;
    };
    if !RELOADING_SERVER.is_match(&c.value) || !RELOAD_FLAGS.is_match(&c.value) {
        return;
    }
    let before = c.value.clone();
    c.value = RELOAD_FLAGS.replace_all(&c.value, "").into_owned();
    let (file, line) = (c.evidence.file.clone(), c.evidence.line);
    let after = c.value.clone();
    d.finding(
        "reload_removed",
        Severity::Info,
        Some(&file),
        line,
        format!(
            "`{before}` reloads on file changes: the deployment runs `{after}` (a reloader keeps its parent process alive when the app fails to import, so a crash would look like an app that never answers)"
        ),
        None,
    );
}

/// A Python production server command, after a runner or a `cd`.
static PRODUCTION_SERVER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::scan::regex(
        r"^(?:cd \S+ && )?(?:(?:poetry|pipenv|pdm) run |uv run (?:--no-sync )?)?(?:gunicorn|uvicorn|uwsgi|waitress-serve|hypercorn|daphne)\s",
    )
});

/// A development server the configuration starts (compose's `manage.py
/// runserver`, `flask run`) beside the production command the analysis
/// built for the same app (gunicorn with the app's module): every
/// deployment runs the production one, and the finding says so
/// (django-recipe-api and django-celery served with runserver while the
/// plan installed gunicorn). Python only: a Node project's dev and
/// production commands differ by build steps its detector words itself.
fn production_over_dev_server(d: &mut Draft) {
    if d.language != autodeploy_core::Language::Python {
        return;
    }
    let Some(best) = d.starts.iter().map(|c| c.trust).max() else {
        return;
    };
    let Some(dev) = d.starts.iter().position(|c| c.trust == best) else {
        return;
    };
    // A production server run with `--reload` keeps its own command, the
    // flag dropped (`without_reload`).
    let dev_value = &d.starts[dev].value;
    if best < Trust::Config
        || !DEV_SERVER.is_match(dev_value)
        || PRODUCTION_SERVER.is_match(dev_value)
    {
        return;
    }
    let Some(prod) = d
        .starts
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.trust < best && !DEV_SERVER.is_match(&c.value) && PRODUCTION_SERVER.is_match(&c.value)
        })
        .max_by_key(|(_, c)| c.trust)
        .map(|(i, _)| i)
    else {
        return;
    };
    let dev_claim = d.starts[dev].clone();
    let mut chosen = d.starts.remove(prod);
    chosen.trust = best;
    d.starts.insert(0, chosen.clone());
    d.findings.retain(|f| {
        !(f.kind == "dev_server_start" && f.file.as_deref() == Some(&dev_claim.evidence.file))
    });
    d.finding(
        "dev_server_replaced",
        Severity::Warning,
        Some(&dev_claim.evidence.file),
        dev_claim.evidence.line,
        format!(
            "{} starts a development server (`{}`), which is slow, single-process and may expose a debugger: the deployment runs the production command `{}` instead — make it the project's own command to keep them the same",
            dev_claim.evidence.file,
            dev_claim.value,
            chosen.value.replace("{PORT}", "$PORT")
        ),
        None,
    );
}

static DEV_SERVER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::scan::regex(
        r"\bnodemon\b|\bts-node-dev\b|\btsx\s+watch\b|\bnode\s+--watch\b|\bnext\s+dev\b|\bnuxt\s+dev\b|\bvite(?:\s+dev)?\s*$|\bng\s+serve\b|\breact-scripts\s+start\b|\bvue-cli-service\s+serve\b|\bmanage\.py\s+runserver\b|\bflask\s+run\b|--reload\b|\bwebpack(?:-dev-server|\s+serve)\b|\bphp\s+artisan\s+serve\b|\bair\b$",
    )
});

/// A start command from configuration that runs a development server.
/// Ecosystem detectors word this more precisely for their own start scripts;
/// this catches the rest (Dockerfile CMD, compose `command`, Procfile).
fn dev_server_finding(d: &mut Draft) {
    if d.findings.iter().any(|f| f.kind == "dev_server_start") {
        return;
    }
    let Some((best, _)) = pick(&d.starts) else {
        return;
    };
    if best.trust < Trust::Config || !DEV_SERVER.is_match(&best.value) {
        return;
    }
    let (file, line, cmd) = (
        best.evidence.file.clone(),
        best.evidence.line,
        best.value.clone(),
    );
    d.finding(
        "dev_server_start",
        Severity::Warning,
        Some(&file),
        line,
        format!(
            "{file} starts a development server (`{cmd}`): slow, single-process, may reload or expose a \
             debugger. Use a production server command there"
        ),
        None,
    );
}

/// For a server-side service: does this file reach a browser? Pages and
/// templates always do; script files only in the folders that hold client
/// code (server code in the same language would give false alarms).
fn runs_in_browser(path: &str, service_dir: &str) -> bool {
    const PAGE_EXTS: &[&str] = &[
        ".html", ".htm", ".jinja", ".jinja2", ".j2", ".hbs", ".ejs", ".erb", ".twig", ".vue",
        ".svelte", ".astro",
    ];
    const CLIENT_DIRS: &[&str] = &[
        "static",
        "public",
        "templates",
        "assets",
        "views",
        "javascript",
        "js",
        "client",
        "frontend",
        "www",
        "resources",
        "web",
        "wwwroot",
        "priv",
        "src",
        "app",
        "pages",
        "components",
    ];
    if PAGE_EXTS.iter().any(|e| path.ends_with(e)) {
        return true;
    }
    let rel = path
        .strip_prefix(service_dir)
        .map(|p| p.trim_start_matches('/'))
        .unwrap_or(path);
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.iter().any(|p| CLIENT_DIRS.contains(p))
}

/// 0–1: language + framework + port + start, each weighted by how it was found.
fn confidence(s: &Service, port: Option<Trust>, start: Option<Trust>) -> f64 {
    let mut c = 0.3;
    if s.language != Language::Unknown {
        c += 0.15;
    }
    if s.framework.is_some() || s.kind != ServiceKind::Web {
        c += 0.2;
    }
    c += match (s.kind, port) {
        (ServiceKind::Web, Some(Trust::Default)) => 0.07,
        (ServiceKind::Web, Some(_)) => 0.15,
        (ServiceKind::Web, None) => 0.0,
        _ => 0.15,
    };
    c += match (s.kind, start) {
        (ServiceKind::Static, _) => 0.17,
        (_, Some(Trust::Default | Trust::Inferred)) => 0.12,
        (_, Some(_)) => 0.17,
        (_, None) => 0.0,
    };
    let conflicts = s
        .findings
        .iter()
        .filter(|f| f.kind == "port_conflict" || f.kind == "dockerfile_expose_mismatch")
        .count();
    c -= 0.08 * conflicts as f64;
    (c.clamp(0.05, 0.99) * 100.0).round() / 100.0
}

#[cfg(test)]
mod go_output_tests {
    #[test]
    fn an_inferred_go_build_writes_where_the_start_runs() {
        let b = "go build -o bin/fiber-realworld .";
        assert_eq!(
            super::go_output_at_start(b, "./myapp").as_deref(),
            Some("go build -o myapp .")
        );
        assert_eq!(
            super::go_output_at_start(b, "./bin/api --serve").as_deref(),
            Some("go build -o bin/api .")
        );
        assert_eq!(super::go_output_at_start(b, "./bin/fiber-realworld"), None);
        assert_eq!(super::go_output_at_start(b, "/api"), None);
        assert_eq!(super::go_output_at_start(b, "myapp"), None);
        assert_eq!(super::go_output_at_start(b, "./x;rm -rf /"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::ev;

    /// bakerydemo's Procfile `uwsgi ./etc/uwsgi.ini`: uWSGI before 2.1
    /// reloads on SIGTERM, so the start gets `--die-on-term`; a command
    /// that has it, another server, or a compound command is left alone.
    #[test]
    fn uwsgi_stops_on_sigterm_however_the_project_starts_it() {
        assert_eq!(
            die_on_term("uwsgi ./etc/uwsgi.ini"),
            "uwsgi ./etc/uwsgi.ini --die-on-term"
        );
        assert_eq!(
            die_on_term("DJANGO_SETTINGS_MODULE=x.prod /usr/local/bin/uwsgi --ini a.ini"),
            "DJANGO_SETTINGS_MODULE=x.prod /usr/local/bin/uwsgi --ini a.ini --die-on-term"
        );
        for same in [
            "uwsgi --ini a.ini --die-on-term",
            "gunicorn app:app",
            "python manage.py migrate && uwsgi a.ini",
        ] {
            assert_eq!(die_on_term(same), same);
        }
    }

    /// A Rust start naming the binary by itself runs it from cargo's output,
    /// with its arguments; the image keeps its own command.
    #[test]
    fn a_rust_start_naming_its_binary_runs_it_from_cargos_output() {
        let mut d = Draft::new("", Language::Rust, ServiceKind::Web);
        d.start(
            "./target/release/rustypaste",
            Trust::Inferred,
            ev("Cargo.toml", None, "binary"),
        );
        d.start(
            "./rustypaste --config x.toml",
            Trust::Config,
            ev("Dockerfile", Some(21), "CMD"),
        );
        d.build(
            "cargo build --release --locked",
            Trust::Inferred,
            ev("Cargo.toml", None, "b"),
        );
        let s = to_service(d, None);
        assert_eq!(
            s.start.as_deref(),
            Some("./target/release/rustypaste --config x.toml")
        );
        assert_eq!(
            s.image_start.as_deref(),
            Some("./rustypaste --config x.toml")
        );
        assert_eq!(
            built_binary_at_start("/usr/bin/other", &[], "target/release"),
            None
        );
    }

    fn started(cmd: &str) -> Draft {
        let mut d = Draft::new("", Language::Python, ServiceKind::Web);
        d.start(
            cmd,
            Trust::Config,
            ev("docker-compose.yml", Some(5), "compose"),
        );
        d
    }

    #[test]
    fn python_servers_run_without_their_reloader() {
        for (cmd, want) in [
            (
                "uvicorn app.main:app --reload --workers 1 --host 0.0.0.0 --port 8000",
                "uvicorn app.main:app --workers 1 --host 0.0.0.0 --port 8000",
            ),
            (
                "sh -c 'alembic upgrade head && uvicorn main:app --host 0.0.0.0 --reload --reload-dir app'",
                "sh -c 'alembic upgrade head && uvicorn main:app --host 0.0.0.0'",
            ),
            ("gunicorn -b :8000 --reload wsgi:app", "gunicorn -b :8000 wsgi:app"),
            ("flask run --host 0.0.0.0 --reload", "flask run --host 0.0.0.0"),
        ] {
            let mut d = started(cmd);
            without_reload(&mut d);
            assert_eq!(d.starts[0].value, want);
            assert!(d.findings.iter().any(|f| f.kind == "reload_removed"), "{cmd}");
        }
        // Other tools' flags of that name, and servers without it: unchanged.
        for cmd in ["node server.js --reload", "uvicorn app:app --port 8000"] {
            let mut d = started(cmd);
            without_reload(&mut d);
            assert_eq!(d.starts[0].value, cmd);
            assert!(d.findings.is_empty());
        }
    }
}
