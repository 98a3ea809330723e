//! Start vs release: a start command is one long-lived process; one-off
//! steps chained in front of it (`python manage.py migrate && gunicorn …`,
//! `sh -c "alembic upgrade head && uvicorn …"`, `npx prisma migrate deploy
//! && node dist/main.js`, an entrypoint script's `python manage.py migrate`
//! before `exec "$@"`) are split off: migrations become the release step
//! (run once per deploy, before the new version takes traffic), asset and
//! translation compilation join the build, waits and echoes are dropped.
//!
//! A table of step kinds ([`STEPS`]), not branches. Conservative on
//! purpose: an `||`, a shell loop or a last command that is itself a one-off
//! step leaves the command as it is; unknown steps before the server stay in
//! front of it (`mkdir -p data && node x`), so nothing the app needs is lost.
//!
//! Not here: framework knowledge of migrations when nothing is chained (each
//! detector's own `release`), running anything.

use regex::RegexSet;
use std::sync::LazyLock;

/// What a step chained before the server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Once per deploy, before traffic (migrations).
    Release,
    /// Part of building the app (static files, translations, generated clients).
    Build,
    /// Not needed once release runs before start (waits, echoes).
    Drop,
    /// Sets up the shell for what follows (`cd`, `export`): kept in front of
    /// the release and the start alike.
    Prefix,
}

/// (pattern on one simple command, kind).
const STEPS: &[(&str, Step)] = &[
    // Migrations.
    (
        r"\bmanage\.py\s+(?:migrate|createcachetable)\b",
        Step::Release,
    ),
    (r"\bdjango-admin\s+migrate\b", Step::Release),
    (r"\bflask\b.*\bdb\s+upgrade\b", Step::Release),
    (r"\balembic\b.*\bupgrade\b", Step::Release),
    (
        r"\bprisma\s+(?:migrate\s+deploy|db\s+push)\b",
        Step::Release,
    ),
    (
        r"\b(?:rails|rake)\s+db:(?:migrate|prepare|setup|create)\b",
        Step::Release,
    ),
    (r"\bartisan\s+migrate\b", Step::Release),
    (r"\bknex\b.*\bmigrate:latest\b", Step::Release),
    (r"\bsequelize(?:-cli)?\s+db:migrate\b", Step::Release),
    (r"\btypeorm\b.*\bmigration:run\b", Step::Release),
    (r"\bmikro-orm\b.*\bmigration:up\b", Step::Release),
    (r"\bdrizzle-kit\s+(?:migrate|push)\b", Step::Release),
    (
        r"^(?:npm\s+run|yarn(?:\s+run)?|pnpm(?:\s+run)?|bun\s+run)\s+(?:db:)?(?:migrat\w*|deploy:db|db:push)\b",
        Step::Release,
    ),
    (r"\bdiesel\s+migration\s+run\b", Step::Release),
    (r"\bsqlx\s+migrate\s+run\b", Step::Release),
    (r"\bgoose\b.*\bup\b", Step::Release),
    (r"\bmix\s+ecto\.migrate\b", Step::Release),
    (r"\baerich\s+upgrade\b", Step::Release),
    (r"\bdoctrine:migrations:migrate\b", Step::Release),
    (
        r"^(?:python3?|poetry\s+run\s+python|uv\s+run\s+python|bash|sh|node)\s+\S*(?:migrat|init_db|initdb|create_db|prestart|pre_start)\w*(?:\.\w+)?\b",
        Step::Release,
    ),
    // Building.
    (
        r"\bmanage\.py\s+(?:collectstatic|compilemessages|compress)\b",
        Step::Build,
    ),
    (r"\bflask\b.*\btranslate\s+compile\b", Step::Build),
    (r"\bpybabel\s+compile\b", Step::Build),
    (r"\bprisma\s+generate\b", Step::Build),
    (r"\brails\s+assets:precompile\b", Step::Build),
    (
        r"^(?:npm\s+(?:ci|install|run\s+build)|yarn(?:\s+install|\s+build)?|pnpm\s+(?:install|build|run\s+build))$",
        Step::Build,
    ),
    (
        r"^(?:pip3?|uv\s+pip|bundle|composer)\s+install\b",
        Step::Build,
    ),
    // Waiting and talking.
    (r"^sleep\s+[\d.]+$", Step::Drop),
    (r"^echo\b", Step::Drop),
    (r"^set\s+-[a-z]+$", Step::Drop),
    (r"\bpg_isready\b|\bnc\s+-z\b", Step::Drop),
    // Shell set-up.
    // A container's own working directory (`cd /app`) is where the service runs anyway.
    (r"^cd\s+/\S*$", Step::Drop),
    (r"^cd\s+\S+$", Step::Prefix),
    (r"^(?:export|source)\s+\S", Step::Prefix),
    (r"^\.\s+\S+$", Step::Prefix),
    (r"^[A-Za-z_]\w*=\S*$", Step::Prefix),
];

/// Words every [`Step::Release`] row's command contains one of: a cheap
/// test before the automaton is built (most commands are servers).
const RELEASE_HINTS: &[&str] = &[
    "migrat",
    "upgrade",
    "db:",
    "db push",
    "prestart",
    "pre_start",
    "init_db",
    "initdb",
    "create_db",
    "createcachetable",
    "drizzle-kit",
    "goose",
];

/// True when `cmd` may be a one-off release step (see [`RELEASE_HINTS`]).
pub fn may_be_release(cmd: &str) -> bool {
    RELEASE_HINTS.iter().any(|h| cmd.contains(h))
}

/// Every pattern of [`STEPS`] in one automaton, compiled once.
static STEP_SET: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(STEPS.iter().map(|(p, _)| crate::scan::asciify(p))).expect("step patterns")
});

/// The kind of one simple command, `None` when it is none of the above
/// (the first row that matches wins).
pub fn step_of(cmd: &str) -> Option<Step> {
    STEP_SET
        .matches(cmd.trim())
        .iter()
        .next()
        .map(|i| STEPS[i].1)
}

/// A start command split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The one-off steps, joined with `&&` (with the `cd` they need).
    pub release: Option<String>,
    /// Build steps that were run at start.
    pub build: Option<String>,
    /// The long-lived process.
    pub start: String,
}

/// `sh -c "…"` / `bash -c '…'` → the inner command; a leading `exec ` dropped;
/// `wait-for-it host:port -- cmd` → `cmd`.
pub fn unwrap_shell(cmd: &str) -> String {
    let mut c = cmd.trim().to_string();
    for _ in 0..3 {
        let t = c.trim();
        let t = t.strip_prefix("exec ").unwrap_or(t).trim();
        let inner = [
            "sh -c ",
            "bash -c ",
            "/bin/sh -c ",
            "/bin/bash -c ",
            "sh -ec ",
            "bash -ec ",
        ]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .map(str::trim)
        .and_then(|rest| {
            let q = rest.chars().next()?;
            (matches!(q, '"' | '\'') && rest.len() >= 2 && rest.ends_with(q))
                .then(|| rest[1..rest.len() - 1].replace(&format!("\\{q}"), &q.to_string()))
        });
        match inner {
            Some(i) => c = i,
            None => {
                c = t.to_string();
                break;
            }
        }
    }
    // `wait-for-it.sh db:5432 -- cmd`, `./wait-for db:5432 -- cmd`, `dockerize -wait … cmd`.
    let first = c.split_whitespace().next().unwrap_or("");
    let name = first.rsplit('/').next().unwrap_or(first);
    if name.starts_with("wait-for") {
        if let Some(i) = c.find(" -- ") {
            c = c[i + 4..].trim().to_string();
        }
    }
    c
}

/// Top-level simple commands of `cmd` split on `&&`, `;` and newlines; `None`
/// when the command has `||`, a pipe into the server, or a shell loop.
fn chain(cmd: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                out.push(std::mem::take(&mut cur));
            }
            (None, ';' | '\n') => out.push(std::mem::take(&mut cur)),
            (None, '|') => return None,
            (None, '&') => return None,
            (None, c) => cur.push(c),
        }
    }
    out.push(cur);
    let out: Vec<String> = out
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let loops = out.iter().any(|s| {
        let first = s.split_whitespace().next().unwrap_or("");
        matches!(
            first,
            "do" | "done"
                | "then"
                | "fi"
                | "while"
                | "until"
                | "for"
                | "if"
                | "else"
                | "case"
                | "esac"
        )
    });
    (!loops).then_some(out)
}

/// Split a start command (`None`: nothing to split off).
pub fn split(cmd: &str) -> Option<Split> {
    let cmd = unwrap_shell(cmd);
    let parts = chain(&cmd)?;
    if parts.len() < 2 {
        return None;
    }
    let (last, before) = parts.split_last()?;
    let start_cmd = unwrap_shell(last);
    if matches!(step_of(&start_cmd), Some(Step::Release | Step::Build)) {
        return None;
    }
    let mut prefix: Vec<String> = Vec::new();
    let mut release: Vec<String> = Vec::new();
    let mut build: Vec<String> = Vec::new();
    let mut kept: Vec<String> = Vec::new();
    let mut moved = false;
    for p in before {
        let p = unwrap_shell(p);
        match step_of(&p) {
            Some(Step::Release) => {
                moved = true;
                let mut r = prefix.clone();
                r.push(p);
                let r = r.join(" && ");
                if !release.contains(&r) {
                    release.push(r);
                }
            }
            Some(Step::Build) => {
                moved = true;
                let mut b = prefix.clone();
                b.push(p);
                build.push(b.join(" && "));
            }
            Some(Step::Drop) => moved = true,
            Some(Step::Prefix) => {
                prefix.push(p.clone());
                kept.push(p);
            }
            None => kept.push(p),
        }
    }
    if !moved {
        return None;
    }
    kept.push(start_cmd);
    Some(Split {
        release: (!release.is_empty()).then(|| release.join(" && ")),
        build: (!build.is_empty()).then(|| build.join(" && ")),
        start: kept.join(" && "),
    })
}

/// A shell script's logical lines (continuations joined, blanks and
/// comments dropped), each with whether it runs unconditionally at the
/// top level (not inside `if`/`while`/`for`/`case`, not a block keyword).
fn script_lines(script: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut joined = String::new();
    for raw in script.lines() {
        let line = raw.trim();
        if let Some(body) = line.strip_suffix('\\') {
            joined.push_str(body);
            joined.push(' ');
            continue;
        }
        joined.push_str(line);
        let l = std::mem::take(&mut joined);
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let first = l.split_whitespace().next().unwrap_or("");
        match first {
            "if" | "while" | "until" | "for" | "case" => depth += 1,
            "fi" | "done" | "esac" => depth -= 1,
            _ => {}
        }
        let top = depth == 0 && !matches!(first, "fi" | "done" | "esac" | "then" | "do" | "else");
        out.push((l.to_string(), top));
    }
    out
}

/// An entrypoint script that ends with `exec "$@"`: the migrations its
/// top-level lines run (release), and the command it hands over to.
/// `script` is the text; `args` what the container passes (`CMD`).
pub fn entrypoint(script: &str, args: &str) -> Option<Split> {
    let mut release = Vec::new();
    let mut prefix: Vec<String> = Vec::new();
    let mut hands_over = false;
    // A step that is neither a release step nor a container chore: the
    // script does something the app may need, so it stays in front.
    let mut unknown = false;
    for (l, top) in script_lines(script) {
        let l = l.as_str();
        if !top {
            continue;
        }
        if l.starts_with("exec \"$@\"") || l.starts_with("exec $@") || l == "\"$@\"" {
            hands_over = true;
            break;
        }
        let Some(parts) = chain(l) else {
            unknown = true;
            continue;
        };
        for part in parts {
            match step_of(&part) {
                Some(Step::Release) => {
                    let mut r = prefix.clone();
                    r.push(part);
                    release.push(r.join(" && "));
                }
                Some(Step::Prefix) if part.starts_with("cd ") => prefix.push(part),
                Some(_) => {}
                None => unknown |= !container_chore(&part),
            }
        }
    }
    (hands_over && (!release.is_empty() || !unknown) && !args.trim().is_empty()).then(|| Split {
        release: (!release.is_empty()).then(|| release.join(" && ")),
        build: None,
        start: unwrap_shell(args),
    })
}

/// Programs that are a web server or an app's long-lived process when an
/// entrypoint script ends with them (`exec gunicorn …`, `./manage.py
/// runserver 0.0.0.0:8000`).
const SERVERS: &[&str] = &[
    "gunicorn",
    "uvicorn",
    "daphne",
    "hypercorn",
    "waitress-serve",
    "granian",
    "node",
    "npm",
    "yarn",
    "pnpm",
    "bun",
    "puma",
    "rails",
    "bundle",
    "php-fpm",
    "java",
];

/// The long-lived process a command starts, when it is a server
/// ([`SERVERS`], a Django `runserver`, a `flask run`).
fn is_server(cmd: &str) -> bool {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let Some(first) = words.first() else {
        return false;
    };
    let program = first.rsplit('/').next().unwrap_or(first);
    SERVERS.contains(&program)
        || words
            .windows(2)
            .any(|w| w[0].ends_with("manage.py") && w[1] == "runserver")
        || words.windows(2).any(|w| w[0] == "flask" && w[1] == "run")
}

/// An entrypoint script that does not hand over (no `exec "$@"`) but ends
/// by starting the server itself (djangogirls: `./manage.py migrate`, then
/// `./manage.py runserver 0.0.0.0:8000`): its migrations (release), its
/// asset and translation steps (build) and that server (start). None when a
/// top-level step is neither of those nor a container chore (the script
/// writes a config file into `/etc`, `eval`s a command it built): the
/// script does something outside the image cannot, and the start comes
/// from elsewhere.
pub fn entrypoint_server(script: &str) -> Option<Split> {
    let mut release = Vec::new();
    let mut build = Vec::new();
    let mut prefix: Vec<String> = Vec::new();
    let mut last: Option<String> = None;
    for (l, top) in script_lines(script) {
        if !top {
            // A branch of the script: what it does there is unknown.
            return None;
        }
        if last.is_some() {
            // A step after the one taken for the server: it was not the last.
            return None;
        }
        let parts = chain(&l)?;
        let n = parts.len();
        for (k, part) in parts.into_iter().enumerate() {
            let part = part
                .strip_prefix("exec ")
                .map(str::to_string)
                .unwrap_or(part);
            match step_of(&part) {
                Some(Step::Release) => {
                    let mut r = prefix.clone();
                    r.push(part);
                    release.push(r.join(" && "));
                }
                Some(Step::Build) => {
                    let mut b = prefix.clone();
                    b.push(part);
                    build.push(b.join(" && "));
                }
                Some(Step::Prefix) if part.starts_with("cd ") => prefix.push(part),
                Some(_) => {}
                None if k + 1 == n && is_server(&part) => last = Some(part),
                None if container_chore(&part) => {}
                None => return None,
            }
        }
    }
    let start = last?;
    let mut start_with = prefix;
    start_with.push(start);
    Some(Split {
        release: (!release.is_empty()).then(|| release.join(" && ")),
        build: (!build.is_empty()).then(|| build.join(" && ")),
        start: start_with.join(" && "),
    })
}

/// Folders a system or its package tools put programs in (`/usr/bin/env`,
/// `/usr/local/bin/gunicorn`): a program there runs outside any image.
pub(crate) fn in_system_bin(folder: &str) -> bool {
    matches!(
        folder,
        "/bin" | "/sbin" | "/usr/bin" | "/usr/sbin" | "/usr/local/bin" | "/usr/local/sbin"
    )
}

/// A file named like a container's entrypoint script (`entrypoint.sh`,
/// `docker-entrypoint`, `start.sh`).
pub(crate) fn entrypoint_named(name: &str) -> bool {
    name.ends_with(".sh") || name.contains("entrypoint")
}

/// A step that only arranges the container's own file system: copying,
/// linking or owning absolute paths (`cp -r /public /app`, `chown -R app
/// /data`, `mkdir -p /run/app`), nothing of the tree.
fn container_chore(step: &str) -> bool {
    let words: Vec<&str> = step.split_whitespace().collect();
    let Some((program, rest)) = words.split_first() else {
        return true;
    };
    let paths: Vec<&&str> = rest.iter().filter(|w| !w.starts_with('-')).collect();
    matches!(
        *program,
        "cp" | "mv" | "ln" | "chown" | "chmod" | "mkdir" | "rm" | "touch"
    ) && paths
        .iter()
        .all(|p| p.starts_with('/') || p.contains(':') && *program == "chown")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cmd: &str) -> Option<(Option<String>, Option<String>, String)> {
        split(cmd).map(|x| (x.release, x.build, x.start))
    }

    #[test]
    fn release_rows_contain_a_hint() {
        for cmd in [
            "python manage.py migrate",
            "python manage.py createcachetable",
            "flask db upgrade",
            "alembic upgrade head",
            "npx prisma migrate deploy",
            "npx prisma db push",
            "bin/rails db:prepare",
            "php artisan migrate --force",
            "npx knex migrate:latest",
            "npx sequelize-cli db:migrate",
            "npx typeorm migration:run -d dist/ds.js",
            "npx drizzle-kit push",
            "goose up",
            "mix ecto.migrate",
            "bash scripts/prestart.sh",
            "python init_db.py",
        ] {
            assert_eq!(step_of(cmd), Some(Step::Release), "{cmd}");
            assert!(may_be_release(cmd), "{cmd}");
        }
    }

    #[test]
    fn every_step_pattern_compiles_and_the_first_row_wins() {
        assert_eq!(STEP_SET.len(), STEPS.len());
        assert_eq!(step_of("python manage.py migrate"), Some(Step::Release));
        assert_eq!(step_of("cd /app"), Some(Step::Drop));
        assert_eq!(step_of("cd backend"), Some(Step::Prefix));
        assert_eq!(step_of("gunicorn app:app"), None);
    }

    #[test]
    fn compound_starts_split() {
        assert_eq!(
            s("python manage.py migrate && gunicorn mysite.wsgi --bind 0.0.0.0:$PORT"),
            Some((
                Some("python manage.py migrate".into()),
                None,
                "gunicorn mysite.wsgi --bind 0.0.0.0:$PORT".into()
            ))
        );
        assert_eq!(
            s("flask db upgrade; flask translate compile; exec gunicorn -b :5000 microblog:app"),
            Some((
                Some("flask db upgrade".into()),
                Some("flask translate compile".into()),
                "gunicorn -b :5000 microblog:app".into()
            ))
        );
        assert_eq!(
            s(r#"sh -c "alembic upgrade head && uvicorn app.main:app --host 0.0.0.0""#),
            Some((
                Some("alembic upgrade head".into()),
                None,
                "uvicorn app.main:app --host 0.0.0.0".into()
            ))
        );
        assert_eq!(
            s("npx prisma migrate deploy && node dist/main.js"),
            Some((
                Some("npx prisma migrate deploy".into()),
                None,
                "node dist/main.js".into()
            ))
        );
        assert_eq!(
            s("cd backend && python manage.py collectstatic --noinput && python manage.py migrate && gunicorn x.wsgi"),
            Some((
                Some("cd backend && python manage.py migrate".into()),
                Some("cd backend && python manage.py collectstatic --noinput".into()),
                "cd backend && gunicorn x.wsgi".into()
            ))
        );
        assert_eq!(
            s("./wait-for-it.sh db:5432 -- npm run migrate && npm start"),
            Some((Some("npm run migrate".into()), None, "npm start".into()))
        );
        assert_eq!(
            s("sleep 5 && mkdir -p data && node server.js"),
            Some((None, None, "mkdir -p data && node server.js".into()))
        );
    }

    #[test]
    fn what_is_left_alone() {
        assert_eq!(s("gunicorn app:app"), None);
        assert_eq!(s("mkdir -p data && node server.js"), None);
        assert_eq!(s("python manage.py migrate || true && gunicorn x"), None);
        assert_eq!(s("npm run build && npm run migrate"), None);
        assert_eq!(s("until pg_isready; do sleep 1; done; gunicorn x"), None);
        assert_eq!(s("node server.js | tee log"), None);
    }

    /// djangogirls' entrypoint starts the server itself; ihatemoney's
    /// writes its config into /etc and `eval`s the command it built.
    #[test]
    fn entrypoint_scripts_that_start_the_server_themselves() {
        let djangogirls = "#!/bin/sh -e\n\n#echo \"Make messages\"\necho \"Compile messages\"\n./manage.py compilemessages\n\necho \"Applying database migrations\"\n./manage.py migrate\n\necho \"Starting application\"\n./manage.py runserver 0.0.0.0:8000\n";
        let x = entrypoint_server(djangogirls).unwrap();
        assert_eq!(x.release.as_deref(), Some("./manage.py migrate"));
        assert_eq!(x.build.as_deref(), Some("./manage.py compilemessages"));
        assert_eq!(x.start, "./manage.py runserver 0.0.0.0:8000");
        let exec = "#!/bin/sh\nset -e\nmkdir -p /run/app\nexec gunicorn app:app -b 0.0.0.0:8000\n";
        assert_eq!(
            entrypoint_server(exec).unwrap().start,
            "gunicorn app:app -b 0.0.0.0:8000"
        );
        let ihatemoney = "#!/bin/sh\nset -e\ncat <<EOF >/etc/ihatemoney/ihatemoney.cfg\nDEBUG = $DEBUG\nEOF\ncmd=\"exec gunicorn ihatemoney.wsgi:application -b 0.0.0.0:$PORT $@\"\neval \"$cmd\"\n";
        assert_eq!(entrypoint_server(ihatemoney), None);
        // A server that is not the last step, or one inside a branch.
        assert_eq!(entrypoint_server("gunicorn app:app\necho done\n"), None);
        assert_eq!(
            entrypoint_server("if [ -n \"$X\" ]; then\n  gunicorn a:b\nfi\n"),
            None
        );
    }

    #[test]
    fn entrypoint_scripts() {
        let script = "#!/bin/sh\nset -e\nif [ \"$DATABASE\" = \"postgres\" ]\nthen\n    while ! nc -z $SQL_HOST $SQL_PORT; do\n      sleep 0.1\n    done\nfi\ncd /app\npython manage.py migrate --noinput\nexec \"$@\"\n";
        let x = entrypoint(
            script,
            "gunicorn hello.wsgi:application --bind 0.0.0.0:8000",
        )
        .unwrap();
        assert_eq!(
            x.release.as_deref(),
            Some("python manage.py migrate --noinput")
        );
        assert_eq!(
            x.start,
            "gunicorn hello.wsgi:application --bind 0.0.0.0:8000"
        );
        assert!(entrypoint("#!/bin/sh\nexec gunicorn x\n", "").is_none());
        // Only container chores before the hand-over: the command alone.
        let chores = "#!/usr/bin/env bash\nset -e\n# assets into the volume\ncp -r /public /app\nexec \"$@\"\n";
        let x = entrypoint(chores, "gunicorn app:app").unwrap();
        assert_eq!((x.release, x.start.as_str()), (None, "gunicorn app:app"));
        // A step of the tree's own: the script stays in front.
        let own = "#!/bin/sh\n./bin/prepare-config\nexec \"$@\"\n";
        assert!(entrypoint(own, "gunicorn app:app").is_none());
    }
}

/// A command or script name that creates the database from nothing
/// (`init-db`, `initdb`, `db:init`, `setup-example-db`, `create_tables`,
/// `reset-database`): a verb of creation and a noun of the database among
/// its words. Such steps usually drop what is there first, so they become
/// `Service::init` (the first deploy only), never the release step.
/// `db:create` alone (sequelize-cli, knex: create the database itself, which
/// the deployment already made) is not one.
pub fn is_database_init_name(name: &str) -> bool {
    const VERBS: &[&str] = &[
        "init",
        "initialize",
        "initialise",
        "setup",
        "create",
        "reset",
    ];
    const NOUNS: &[&str] = &["db", "database", "tables", "schema"];
    let name = name.to_ascii_lowercase();
    if name == "db:create" || name == "db-create" {
        return false;
    }
    let words: Vec<&str> = name
        .split(['-', '_', ':', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let joined = |w: &str| {
        VERBS
            .iter()
            .any(|v| NOUNS.iter().any(|n| w == format!("{v}{n}")))
    };
    if words.len() == 1 {
        return joined(words[0]);
    }
    words.iter().any(|w| VERBS.contains(w)) && words.iter().any(|w| NOUNS.contains(w))
}

#[cfg(test)]
mod init_name_tests {
    use super::is_database_init_name as init;

    #[test]
    fn names_that_create_the_database_from_nothing() {
        for n in [
            "init-db",
            "init_db",
            "initdb",
            "db:init",
            "db:setup",
            "setup-example-db",
            "create-tables",
            "create_db",
            "createdb",
            "reset-database",
            "initialize-db",
        ] {
            assert!(init(n), "{n}");
        }
        for n in [
            "db:create",
            "db:migrate",
            "seed",
            "db:seed",
            "init",
            "setup",
            "dbshell",
            "create-user",
            "dev",
        ] {
            assert!(!init(n), "{n}");
        }
    }
}
