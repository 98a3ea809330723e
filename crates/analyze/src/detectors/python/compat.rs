//! Python's install compat table: a pinned package whose install breaks on
//! today's index unless a neighbour is held back — what people add once
//! they have read the ImportError. A row per case ([`ROWS`]); the pins come
//! from the manifest the detector already read (requirements files with
//! their includes, and `Pipfile.lock`).
//!
//! The result is data (`Service::install_constraints`): every target's
//! installer applies it (the local target through `PIP_CONSTRAINT`).

use super::manifest::Manifest;
use autodeploy_core::{InstallConstraint, SourceFix};

/// When `pinned` is pinned below `below` and `open` is not pinned (and the
/// project declares one of `with`, when it names any), install with
/// `constraint`.
struct Row {
    /// The package (any of these names).
    pinned: &'static [&'static str],
    below: (u64, u64),
    open: &'static str,
    with: &'static [&'static str],
    constraint: &'static str,
    why: &'static str,
}

const ROWS: &[Row] = &[
    Row {
        pinned: &["flask"],
        below: (2, 3),
        open: "werkzeug",
        with: &[],
        constraint: "Werkzeug<3",
        why: "Werkzeug 3 removed `werkzeug.urls.url_quote`, which Flask before 2.3 imports",
    },
    Row {
        pinned: &["flask"],
        below: (2, 0),
        open: "jinja2",
        with: &[],
        constraint: "Jinja2<3.1",
        why: "Jinja2 3.1 removed `jinja2.escape` and `Markup`, which Flask 1 imports",
    },
    Row {
        pinned: &["flask"],
        below: (2, 0),
        open: "itsdangerous",
        with: &[],
        constraint: "itsdangerous<2.1",
        why: "itsdangerous 2.1 removed `itsdangerous.json`, which Flask 1 imports",
    },
    Row {
        pinned: &["flask"],
        below: (2, 0),
        open: "markupsafe",
        with: &[],
        constraint: "MarkupSafe<2.1",
        why: "MarkupSafe 2.1 removed `soft_unicode`, which Jinja2 2 imports",
    },
    Row {
        pinned: &["psycopg2-binary", "psycopg2"],
        below: (3, 0),
        open: "sqlalchemy",
        with: &["sqlalchemy", "flask-sqlalchemy", "sqlmodel"],
        constraint: "SQLAlchemy<2.1",
        why: "SQLAlchemy 2.1 connects `postgresql://` URLs with psycopg 3, and the project \
              installs psycopg2",
    },
    Row {
        pinned: &["redis"],
        below: (6, 1),
        open: "kombu",
        with: &["celery"],
        // Checked here (django-celery: celery 5.2.7, redis 4.4.0): kombu
        // 5.7.0 stops the worker at its first connection; 5.6.2 connects.
        constraint: "kombu<5.7",
        why: "kombu 5.7 refuses redis-py before 6.1 (`VersionMismatch`) when Celery connects \
              to its Redis broker, and the project pins an older redis",
    },
    Row {
        pinned: &["tortoise-orm"],
        below: (0, 25),
        open: "pydantic",
        with: &[],
        // Checked here: tortoise-orm 0.20.0–0.24.0 with pydantic 2.11
        // fail in `pydantic_model_creator`; pydantic 2.10 works, and so
        // does tortoise-orm 0.25 with pydantic 2.11.
        constraint: "pydantic<2.11",
        why: "pydantic 2.11 refuses the `model_config` field that Tortoise ORM before 0.25 \
              gives the models `pydantic_model_creator` makes",
    },
    Row {
        pinned: &["newspaper3k"],
        below: (0, 3),
        open: "lxml",
        with: &[],
        constraint: "lxml<5.2",
        why: "lxml 5.2 moved `lxml.html.clean` into its own project, which newspaper3k imports \
              from lxml",
    },
    Row {
        pinned: &["markupsafe"],
        below: (1, 1),
        open: "setuptools",
        with: &[],
        constraint: "setuptools<46",
        why: "MarkupSafe before 1.1 builds from a setup.py that imports `setuptools.Feature`, \
              which setuptools 46 removed",
    },
];

/// `(major, minor)` of a version string (`2.2.3` → (2, 2)).
fn major_minor(v: &str) -> Option<(u64, u64)> {
    let mut it = v.trim().split('.').map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next().flatten().unwrap_or(0)))
}

/// The version a requirement as written holds the package at or below
/// (`Flask==2.2.3`, `flask<=1.1`, `flask~=1.0`), if any.
fn upper_pin(raw: &str) -> Option<(u64, u64)> {
    let spec = raw.split(';').next().unwrap_or(raw);
    let spec = &spec[spec.find(['=', '<', '~', '!', '>']).unwrap_or(spec.len())..];
    spec.split(',').find_map(|part| {
        let part = part.trim();
        ["==", "<=", "~="]
            .iter()
            .find_map(|op| part.strip_prefix(op))
            .and_then(major_minor)
    })
}

/// The pin of `name` and the file that holds it: the lock first, then the
/// requirement as written.
fn pin<'a>(m: &'a Manifest, name: &str) -> Option<((u64, u64), &'a str)> {
    if let Some((v, file)) = m.locked.get(name) {
        return major_minor(v.trim_start_matches("==")).map(|v| (v, file.as_str()));
    }
    let dep = m.deps.get(name)?;
    upper_pin(&dep.raw).map(|v| (v, dep.file.as_str()))
}

/// The WhiteNoise release line for the project's Django: 6 needs Django 3.2,
/// 5 Django 2.2.
pub(super) fn whitenoise_for(m: &Manifest) -> &'static str {
    // The newest Django the project allows is below `line`: a pin under
    // it, or a bound `<X.Y` at or under it (`Django>=2.1.3,<2.2.0`).
    let below = |line: (u64, u64)| {
        pin(m, "django").is_some_and(|(v, _)| v < line)
            || m.deps.get("django").is_some_and(|d| {
                d.raw.split(',').any(|part| {
                    let part = part.trim();
                    let part = part.find('<').map_or("", |i| &part[i..]);
                    part.strip_prefix('<')
                        .filter(|p| !p.starts_with('='))
                        .and_then(major_minor)
                        .is_some_and(|v| v <= line)
                })
            })
    };
    if below((2, 2)) {
        "whitenoise<5"
    } else if below((3, 2)) {
        "whitenoise<6"
    } else {
        "whitenoise"
    }
}

/// The constraints the manifest's pins call for.
pub(super) fn constraints(m: &Manifest) -> Vec<InstallConstraint> {
    ROWS.iter()
        .filter(|r| pin(m, r.open).is_none())
        .filter(|r| r.with.is_empty() || r.with.iter().any(|d| m.has(d)))
        .filter_map(|r| {
            let (name, (v, file)) = r.pinned.iter().find_map(|n| Some((*n, pin(m, n)?)))?;
            (v < r.below).then(|| InstallConstraint {
                requirement: r.constraint.to_string(),
                reason: format!(
                    "{file} pins {name} below {}.{} and leaves {} open: {}",
                    r.below.0, r.below.1, r.open, r.why
                ),
                file: file.to_string(),
            })
        })
        .collect()
}

/// A pin that no longer imports on newer Pythons: when the project names no
/// Python version, the newest line below `python_below` runs it. Rows of
/// one package go from the oldest release up; the first whose `below` the
/// pin is under applies.
struct PythonCeiling {
    /// The package (any of these names), pinned below `below`.
    names: &'static [&'static str],
    below: (u64, u64),
    /// The first Python minor (3.X) it does not run on.
    python_below: u32,
    why: &'static str,
}

const PYTHON_CEILINGS: &[PythonCeiling] = &[
    PythonCeiling {
        names: &["jinja2"],
        below: (2, 11),
        python_below: 10,
        why: "imports `Mapping` from `collections`, which Python 3.10 removed",
    },
    PythonCeiling {
        names: &["six"],
        below: (1, 16),
        python_below: 12,
        why: "registers its `six.moves` importer with `find_module`, which Python 3.12 no longer calls",
    },
    PythonCeiling {
        names: &["psycopg2", "psycopg2-binary"],
        below: (2, 9),
        python_below: 11,
        why: "is built from source there (no wheels), and its C code assigns to `Py_TYPE`, which Python 3.11 turned into a function",
    },
    // Django's own table of supported Pythons, by release.
    PythonCeiling {
        names: &["django"],
        below: (1, 11),
        python_below: 7,
        why: "supports Python up to 3.6",
    },
    PythonCeiling {
        names: &["django"],
        below: (2, 2),
        python_below: 8,
        why: "supports Python up to 3.7",
    },
    PythonCeiling {
        names: &["django"],
        below: (3, 2),
        python_below: 10,
        why: "supports Python up to 3.9",
    },
    PythonCeiling {
        names: &["django"],
        below: (4, 1),
        python_below: 11,
        why: "supports Python up to 3.10",
    },
    PythonCeiling {
        names: &["django"],
        below: (4, 2),
        python_below: 12,
        why: "supports Python up to 3.11",
    },
    PythonCeiling {
        names: &["django"],
        below: (5, 0),
        python_below: 13,
        why: "supports Python up to 3.12",
    },
];

/// The Python requirement the pins call for, when one of them does not run
/// on newer lines (the strictest of them): (requirement, file, why).
pub(super) fn python_ceiling(m: &Manifest) -> Option<(String, String, String)> {
    let mut seen: Vec<&str> = Vec::new();
    let mut best: Option<(u32, String, String)> = None;
    for row in PYTHON_CEILINGS {
        let Some((name, (v, file))) = row.names.iter().find_map(|n| Some((*n, pin(m, n)?))) else {
            continue;
        };
        // Only the first row of a package that the pin is under.
        if seen.contains(&name) || v >= row.below {
            continue;
        }
        seen.push(name);
        if best.as_ref().is_none_or(|(b, ..)| row.python_below < *b) {
            best = Some((
                row.python_below,
                file.to_string(),
                format!("{file} pins {name} {}.{}, which {}", v.0, v.1, row.why),
            ));
        }
    }
    best.map(|(minor, file, why)| (format!("<3.{minor}"), file, why))
}

/// A release whose published wheels no longer import on today's systems,
/// pinned exactly in a requirements file: the nearest release that does.
/// Only that line of the deployment's copy changes (a source fix), so the
/// rest of the pin set stays as the project tested it.
struct BrokenPin {
    /// The package (any of these names).
    names: &'static [&'static str],
    /// Exact pins from `from` up to and excluding `fixed` are broken.
    from: (u64, u64, u64),
    fixed: (u64, u64, u64),
    why: &'static str,
}

const BROKEN_PINS: &[BrokenPin] = &[BrokenPin {
    names: &["psycopg2"],
    from: (2, 7, 0),
    fixed: (2, 7, 4),
    // Checked here: 2.7.3 fails to import (`libresolv-2-….so: undefined
    // symbol: __res_maybe_init, version GLIBC_PRIVATE`), 2.7.4 imports.
    why: "its wheels bundle a libresolv that today's glibc no longer serves \
          (`undefined symbol: __res_maybe_init`); 2.7.4 fixed the wheels",
}];

/// A framework release's own floor under a neighbour: from `since` on,
/// `package` requires `dep >= floor` (its published metadata). A project
/// that allows only such releases and pins `dep` exactly below the floor
/// cannot be installed: pip stops at `ResolutionImpossible`.
struct Floor {
    package: &'static str,
    since: (u64, u64),
    dep: &'static str,
    floor: (u64, u64, u64),
}

/// Newest `since` first: the first row at or under the project's lowest
/// allowed release applies.
const FLOORS: &[Floor] = &[
    Floor {
        package: "django",
        since: (5, 1),
        dep: "asgiref",
        floor: (3, 8, 1),
    },
    Floor {
        package: "django",
        since: (5, 0),
        dep: "asgiref",
        floor: (3, 7, 0),
    },
    Floor {
        package: "django",
        since: (4, 2),
        dep: "asgiref",
        floor: (3, 6, 0),
    },
    Floor {
        package: "django",
        since: (4, 1),
        dep: "asgiref",
        floor: (3, 5, 2),
    },
    Floor {
        package: "django",
        since: (4, 0),
        dep: "asgiref",
        floor: (3, 4, 1),
    },
    Floor {
        package: "django",
        since: (3, 2),
        dep: "asgiref",
        floor: (3, 3, 2),
    },
    Floor {
        package: "django",
        since: (4, 2),
        dep: "sqlparse",
        floor: (0, 3, 1),
    },
    Floor {
        package: "flask",
        since: (3, 1),
        dep: "werkzeug",
        floor: (3, 1, 0),
    },
    Floor {
        package: "flask",
        since: (3, 0),
        dep: "werkzeug",
        floor: (3, 0, 0),
    },
    Floor {
        package: "flask",
        since: (2, 3),
        dep: "werkzeug",
        floor: (2, 3, 3),
    },
];

/// The lowest release a requirement allows (`==4.2.1`, `>=4.2,<4.3`,
/// `~=4.2`): its major and minor.
fn lower_bound(raw: &str) -> Option<(u64, u64)> {
    let spec = raw.split(';').next().unwrap_or(raw);
    spec.split(',').find_map(|part| {
        let part = part.trim();
        let at = part.find(['=', '>', '~'])?;
        let op = &part[at..];
        let v = op
            .strip_prefix("==")
            .or_else(|| op.strip_prefix(">="))
            .or_else(|| op.strip_prefix("~="))?;
        major_minor(v.trim().trim_end_matches(".*"))
    })
}

/// Exact pins below what the project's own framework requires of them
/// (django-poll-app: `asgiref==3.3.1` beside `Django>=4.2,<4.3`, which
/// needs asgiref 3.6.0 or later): the install cannot resolve. As (what to
/// tell, the fix raising that line to the floor). Pins a lock file holds
/// are left alone.
pub(super) fn pins_below_the_frameworks_floor(m: &Manifest) -> Vec<(String, SourceFix)> {
    let mut out = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for row in FLOORS {
        if done.contains(&row.dep) {
            continue;
        }
        let Some(framework) = m.deps.get(row.package) else {
            continue;
        };
        let Some(lowest) = m
            .locked
            .get(row.package)
            .and_then(|(v, _)| major_minor(v.trim_start_matches("==")))
            .or_else(|| lower_bound(&framework.raw))
        else {
            continue;
        };
        if lowest < row.since {
            continue;
        }
        done.push(row.dep);
        let Some(dep) = m
            .deps
            .get(row.dep)
            .filter(|_| !m.locked.contains_key(row.dep))
        else {
            continue;
        };
        let spec = dep.raw.split(';').next().unwrap_or(&dep.raw);
        let Some(at) = spec.find("==") else { continue };
        let written = spec[at + 2..].trim();
        let Some(v) = version3(written) else { continue };
        if v >= row.floor {
            continue;
        }
        let (a, b, c) = row.floor;
        let floor = format!("{a}.{b}.{c}");
        out.push((
            format!(
                "{} pins {}=={written}, but {} {}.{} (what {} allows) requires {} {floor} or later: pip cannot resolve the install (ResolutionImpossible); the deployment's copy installs {}=={floor} (your repository is not changed) — raise the pin",
                dep.file, row.dep, row.package, row.since.0, row.since.1, framework.file, row.dep, row.dep
            ),
            SourceFix {
                file: dep.file.clone(),
                line: dep.line,
                find: format!("=={written}"),
                replace: format!("=={floor}"),
            },
        ));
    }
    out
}

/// `major.minor.patch` of a version (`2.7` → (2, 7, 0)).
fn version3(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.trim().split('.').map(|p| p.parse::<u64>().ok());
    Some((
        it.next()??,
        it.next().flatten().unwrap_or(0),
        it.next().flatten().unwrap_or(0),
    ))
}

/// Exact pins of releases that do not install or import on today's
/// systems, as (what to tell, the fix of the pin's line). Pins a lock file
/// also holds are left alone: changing one line would break the lock's
/// hashes.
pub(super) fn broken_pins(m: &Manifest) -> Vec<(String, SourceFix)> {
    let mut out = Vec::new();
    for row in BROKEN_PINS {
        for name in row.names {
            let Some(dep) = m.deps.get(*name).filter(|_| !m.locked.contains_key(*name)) else {
                continue;
            };
            let spec = dep.raw.split(';').next().unwrap_or(&dep.raw);
            let Some(at) = spec.find("==") else { continue };
            let written = spec[at + 2..].trim();
            let Some(v) = version3(written) else { continue };
            if v < row.from || v >= row.fixed {
                continue;
            }
            let (a, b, c) = row.fixed;
            let fixed = format!("{a}.{b}.{c}");
            out.push((
                format!(
                    "{} pins {name}=={written}: {}; the deployment's copy installs {name}=={fixed} (your repository is not changed) — raise the pin",
                    dep.file, row.why
                ),
                SourceFix {
                    file: dep.file.clone(),
                    line: dep.line,
                    find: format!("=={written}"),
                    replace: format!("=={fixed}"),
                },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::manifest::{read, Manifest};
    use super::{broken_pins, constraints, pins_below_the_frameworks_floor, whitenoise_for};
    use crate::ctx::Ctx;
    use crate::repo::MemRepo;

    fn manifest(files: &[(&str, &str)]) -> Manifest {
        let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        read(&Ctx::new(&repo), "")
    }

    fn with(req: &str) -> Vec<String> {
        constraints(&manifest(&[("requirements.txt", req)]))
            .into_iter()
            .map(|c| c.requirement)
            .collect()
    }

    #[test]
    fn old_flask_with_open_werkzeug_gets_the_constraint_people_add() {
        assert_eq!(
            with("Flask==2.2.3\nflask-cors==3.0.10\n"),
            vec!["Werkzeug<3"]
        );
        assert_eq!(with("flask==2.0.2 # web\nrq\n"), vec!["Werkzeug<3"]);
        assert_eq!(
            with("Flask==1.1.2\n"),
            vec![
                "Werkzeug<3",
                "Jinja2<3.1",
                "itsdangerous<2.1",
                "MarkupSafe<2.1"
            ]
        );
    }

    /// django-celery: celery 5.2.7 and redis 4.4.0 pinned, kombu open. The
    /// index's kombu 5.7 stopped the worker at its first connection.
    #[test]
    fn celery_with_an_old_redis_keeps_kombu_before_5_7() {
        assert_eq!(
            with("Django==4.1.4\ncelery==5.2.7\nredis==4.4.0\n"),
            vec!["kombu<5.7"]
        );
        assert!(with("celery==5.4.0\nredis==6.2.0\n").is_empty());
        assert!(with("celery==5.2.7\nredis==4.4.0\nkombu==5.2.4\n").is_empty());
        assert!(with("rq==1.10\nredis==4.4.0\n").is_empty());
    }

    #[test]
    fn a_psycopg2_whose_wheels_no_longer_import_is_raised_on_its_line() {
        let m = manifest(&[
            ("requirements.txt", "-r requirements/prod.txt\n"),
            (
                "requirements/prod.txt",
                "Flask==0.12.2\npsycopg2==2.7.3 ; python_version >= '3'\n",
            ),
        ]);
        let fixes = broken_pins(&m);
        assert_eq!(fixes.len(), 1, "{fixes:?}");
        let fix = &fixes[0].1;
        assert_eq!(
            (
                fix.file.as_str(),
                fix.line,
                fix.find.as_str(),
                fix.replace.as_str()
            ),
            ("requirements/prod.txt", 2, "==2.7.3", "==2.7.4")
        );
        assert!(fixes[0].0.contains("__res_maybe_init"));
        for fine in ["psycopg2==2.7.4\n", "psycopg2==2.6.2\n", "psycopg2>=2.7\n"] {
            assert!(
                broken_pins(&manifest(&[("requirements.txt", fine)])).is_empty(),
                "{fine}"
            );
        }
    }

    #[test]
    fn an_old_jinja2_pin_keeps_python_before_3_10() {
        let m = manifest(&[("requirements.txt", "Flask==1.1.1\nJinja2==2.10.1\n")]);
        let (req, file, why) = super::python_ceiling(&m).expect("a ceiling");
        assert_eq!((req.as_str(), file.as_str()), ("<3.10", "requirements.txt"));
        assert!(why.contains("collections"), "{why}");
        let django =
            |req: &str| super::python_ceiling(&manifest(&[("requirements.txt", req)])).map(|c| c.0);
        assert_eq!(
            django("Django==1.10.5\nsix==1.10.0\n").as_deref(),
            Some("<3.7")
        );
        assert_eq!(django("Django==2.2.28\n").as_deref(), Some("<3.10"));
        assert_eq!(django("Django==3.2.25\n").as_deref(), Some("<3.11"));
        assert_eq!(django("Django==4.2.16\n").as_deref(), Some("<3.13"));
        assert_eq!(django("Django==5.1\n"), None);
        assert_eq!(django("six==1.10.0\n").as_deref(), Some("<3.12"));
        assert!(
            super::python_ceiling(&manifest(&[("requirements.txt", "Jinja2==2.11.3\n")])).is_none()
        );
        assert!(
            super::python_ceiling(&manifest(&[("requirements.txt", "Jinja2>=2.10\n")])).is_none()
        );
    }

    #[test]
    fn tortoise_before_0_25_keeps_pydantic_before_2_11() {
        assert_eq!(
            with("fastapi==0.109.0\ntortoise-orm==0.20.0\npydantic-settings==2.1.0\n"),
            vec!["pydantic<2.11"]
        );
        assert!(with("tortoise-orm==0.25.1\n").is_empty());
        assert!(with("tortoise-orm==0.20.0\npydantic==2.5.3\n").is_empty());
    }

    #[test]
    fn psycopg2_under_an_open_sqlalchemy_keeps_sqlalchemy_before_2_1() {
        assert_eq!(
            with("Flask==2.3.2\nFlask-SQLAlchemy==3.0.3\npsycopg2-binary==2.9.6\n"),
            vec!["SQLAlchemy<2.1"]
        );
        // Without SQLAlchemy (Django), or with it pinned: nothing.
        assert!(with("Django==4.2\npsycopg2-binary==2.9.6\n").is_empty());
        assert!(with("SQLAlchemy==2.0.30\npsycopg2==2.9.9\n").is_empty());
    }

    #[test]
    fn whitenoise_follows_the_newest_django_the_project_allows() {
        assert_eq!(
            whitenoise_for(&manifest(&[("requirements.txt", "Django>=2.1.3,<2.2.0\n")])),
            "whitenoise<5"
        );
        assert_eq!(
            whitenoise_for(&manifest(&[("requirements.txt", "Django==3.1.4\n")])),
            "whitenoise<6"
        );
        assert_eq!(
            whitenoise_for(&manifest(&[("requirements.txt", "django<3.2\n")])),
            "whitenoise<6"
        );
        assert_eq!(
            whitenoise_for(&manifest(&[("requirements.txt", "Django==4.2\n")])),
            "whitenoise"
        );
        assert_eq!(
            whitenoise_for(&manifest(&[("requirements.txt", "django\n")])),
            "whitenoise"
        );
    }

    #[test]
    fn pinned_or_new_enough_sets_nothing() {
        assert!(with("Flask==2.2.3\nWerkzeug==2.2.3\n").is_empty());
        assert!(with("Flask==3.0.0\n").is_empty());
        assert!(with("Flask>=2.0\n").is_empty());
        assert!(with("flask\n").is_empty());
    }

    #[test]
    fn a_pipfile_lock_pinning_markupsafe_1_0_builds_with_an_old_setuptools() {
        let m = manifest(&[
            ("Pipfile", "[packages]\nflask = \"*\"\n"),
            (
                "Pipfile.lock",
                r#"{"_meta": {}, "default": {"flask": {"version": "==1.0.2"}, "markupsafe": {"version": "==1.0"}, "werkzeug": {"version": "==0.14.1"}, "jinja2": {"version": "==2.10"}, "itsdangerous": {"version": "==0.24"}}, "develop": {}}"#,
            ),
        ]);
        let c = constraints(&m);
        assert_eq!(
            c.iter().map(|c| c.requirement.as_str()).collect::<Vec<_>>(),
            vec!["setuptools<46"]
        );
        assert_eq!(c[0].file, "Pipfile.lock");
        assert!(
            c[0].reason.contains("setuptools.Feature"),
            "{}",
            c[0].reason
        );
    }

    /// django-poll-app: `asgiref==3.3.1` beside `"Django>=4.2,<4.3"`
    /// (quoted in the file). Django 4.2 requires asgiref 3.6.0: the pin's
    /// line is raised. A pin at the floor, a Django that allows older
    /// releases, and an open asgiref are left alone.
    #[test]
    fn a_pin_below_the_frameworks_own_floor_is_raised_on_its_line() {
        let fixes = pins_below_the_frameworks_floor(&manifest(&[(
            "requirements.txt",
            "asgiref==3.3.1\nDjango>=4.2,<4.3\nsqlparse==0.4.4\n",
        )]));
        assert_eq!(fixes.len(), 1, "{fixes:?}");
        let (message, fix) = &fixes[0];
        assert_eq!(
            (fix.line, fix.find.as_str(), fix.replace.as_str()),
            (1, "==3.3.1", "==3.6.0")
        );
        assert!(message.contains("django 4.2"), "{message}");
        for fine in [
            "asgiref==3.6.0\nDjango>=4.2,<4.3\n",
            "asgiref==3.3.1\nDjango>=3.1,<4.3\n",
            "asgiref\nDjango==4.2.7\n",
        ] {
            assert!(
                pins_below_the_frameworks_floor(&manifest(&[("requirements.txt", fine)]))
                    .is_empty(),
                "{fine}"
            );
        }
        let flask = pins_below_the_frameworks_floor(&manifest(&[(
            "requirements.txt",
            "Flask==3.0.2\nWerkzeug==2.3.7\n",
        )]));
        assert_eq!(flask[0].1.replace, "==3.0.0");
    }
}
