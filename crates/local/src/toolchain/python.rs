//! Python on this machine: the CPython interpreters that exist (every
//! `python3` / `python3.X` on PATH, and the real interpreters behind pyenv or
//! asdf shims, which only run the version their own configuration selects),
//! which one a service gets for the version it asks for, and the package
//! managers (uv, poetry, pdm, pipenv) provided inside its runtime folder.
//!
//! Choice: the line the plan names when the machine has it and the project's
//! requirement allows it, else the newest line that fits — an exact pin
//! (`.python-version 3.12`, `==3.12.*`, Pipfile `python_version`) needs that
//! minor, an upper bound (`<3.12`) is respected. Nothing fits → an error
//! before anything is copied. Python gets no "close enough": pip refuses
//! packages whose `requires-python` excludes the interpreter, and wheels are
//! built per minor.
//!
//! Package managers live in a second venv, `runtime/<svc>/tools`, not in the
//! app's venv: `uv sync` makes the venv exactly the lock file (it would remove
//! uv itself), and poetry's own dependencies must not be upgraded or
//! downgraded by the app's. They act on the app's venv through `VIRTUAL_ENV`
//! / `UV_PROJECT_ENVIRONMENT`, and only their commands are linked into
//! `runtime/<svc>/bin`. Nothing is installed outside the deployment's folder
//! and the shared download caches.

use super::{sh, Step};
use autodeploy_core::version::{Dialect, Requirement, Version};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One CPython interpreter found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The real executable (never a shim).
    pub exe: PathBuf,
    pub version: Version,
    /// `venv` can be imported (Debian splits it out as `python3.X-venv`).
    pub venv: bool,
    /// `ensurepip` can be imported: venvs with pip can be created.
    pub ensurepip: bool,
}

/// Package managers provided in the deployment's runtime folder: (program,
/// pip requirements). Current releases, except where a release is known broken.
pub const TOOLS: &[(&str, &[&str])] = &[
    ("uv", &["uv"]),
    ("poetry", &["poetry"]),
    // pdm 2.29 imports hishel.SyncSqliteStorage, which hishel 2.0 removed.
    ("pdm", &["pdm", "hishel<2"]),
    ("pipenv", &["pipenv"]),
];

/// Every distinct CPython 3 interpreter reachable from `path`, oldest first.
pub fn discover(path: &OsString) -> Vec<Interpreter> {
    let mut exes: Vec<PathBuf> = Vec::new();
    for dir in std::env::split_paths(path) {
        for exe in python_names_in(&dir) {
            if !is_version_manager_shim(&exe) {
                exes.push(exe);
            }
        }
        // pyenv / asdf shims run only the version their configuration selects;
        // the interpreters themselves sit beside them.
        if dir.file_name().is_some_and(|n| n == "shims") {
            if let Some(root) = dir.parent() {
                for versions in [root.join("versions"), root.join("installs/python")] {
                    let Ok(entries) = std::fs::read_dir(&versions) else {
                        continue;
                    };
                    let mut found: Vec<PathBuf> = entries
                        .flatten()
                        .flat_map(|e| python_names_in(&e.path().join("bin")))
                        .filter(|p| {
                            p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with("python3."))
                        })
                        .collect();
                    found.sort();
                    exes.extend(found);
                }
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    exes.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    let mut found: Vec<Interpreter> = std::thread::scope(|s| {
        let handles: Vec<_> = exes.iter().map(|e| s.spawn(move || probe(e))).collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    });
    // Two names for one interpreter (python3 → python3.11): keep the first.
    let mut real = std::collections::BTreeSet::new();
    found.retain(|i| real.insert(std::fs::canonicalize(&i.exe).unwrap_or_else(|_| i.exe.clone())));
    found.sort_by_key(|i| i.version);
    found
}

/// `python3` and `python3.X` executables directly in `dir`.
fn python_names_in(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name == "python3"
                || name
                    .strip_prefix("python3.")
                    .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|e| e.path())
        .filter(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
        .collect();
    out.sort();
    out
}

/// A pyenv/asdf shim: a small script that hands over to the version manager.
fn is_version_manager_shim(p: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    let n = std::fs::File::open(p)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    head.starts_with(b"#!")
        && [&b"pyenv"[..], b"asdf"]
            .iter()
            .any(|w| head.windows(w.len()).any(|x| x == *w))
}

/// Ask an interpreter what it is (isolated mode: no user site, no PYTHON* variables).
fn probe(exe: &Path) -> Option<Interpreter> {
    const SCRIPT: &str = "import sys, importlib.util as u\n\
        print('%d.%d.%d' % sys.version_info[:3])\n\
        print(sys.executable)\n\
        print(int(u.find_spec('venv') is not None), int(u.find_spec('ensurepip') is not None))";
    let out = super::capture(
        Command::new(exe).arg("-I").arg("-c").arg(SCRIPT),
        Duration::from_secs(10),
    )?;
    let mut lines = out.lines();
    let version = Version::parse(lines.next()?)?;
    if version.major != 3 {
        return None;
    }
    let real = PathBuf::from(lines.next()?.trim());
    let mut flags = lines.next()?.split_whitespace();
    let venv = flags.next()? == "1";
    let ensurepip = flags.next()? == "1";
    Some(Interpreter {
        exe: if real.is_absolute() {
            real
        } else {
            exe.to_path_buf()
        },
        version,
        venv,
        ensurepip,
    })
}

pub use autodeploy_core::wheels::LockWheels;

/// The lock file nearest `dir` (up to `root`), read for this machine's CPU.
pub fn lock_wheels(dir: &Path, root: &Path) -> Option<LockWheels> {
    let mut d = Some(dir);
    let (path, text) = loop {
        let cur = d?;
        if let Some(found) = autodeploy_core::wheels::LOCK_FILES
            .iter()
            .map(|n| cur.join(n))
            .find_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        {
            break found;
        }
        if cur == root {
            return None;
        }
        d = cur.parent().filter(|p| p.starts_with(root));
    };
    let file = path
        .strip_prefix(root)
        .unwrap_or(&path)
        .to_string_lossy()
        .into_owned();
    autodeploy_core::wheels::parse(&file, &text, std::env::consts::ARCH)
}

/// Why no interpreter was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoChoice {
    /// No interpreter at all on this machine.
    NoPython,
    /// None of them fits the requirement.
    NoneFits,
    /// The one that fits cannot create virtual environments.
    NoVenv(Interpreter),
}

/// Choose the interpreter for `req`: among the lines that fit it (and, with a
/// lock file, that its compiled packages have wheels for — else those missing
/// the fewest), the `preferred` line (the plan's) when it is here, else the
/// newest; within a line, one that can make the venv (with pip when
/// `need_pip`), the exact patch asked for, then the newest patch. The note
/// says when the lock file changed the choice.
pub fn choose(
    req: &Requirement,
    preferred: Option<Version>,
    have: &[Interpreter],
    need_pip: bool,
    lock: Option<&LockWheels>,
) -> Result<(Interpreter, Option<String>), NoChoice> {
    if have.is_empty() {
        return Err(NoChoice::NoPython);
    }
    let fitting: Vec<Version> = have
        .iter()
        .map(|i| i.version)
        .filter(|v| req.fits_line(*v))
        .collect();
    let unlocked = req.pick_line(&fitting, preferred);
    let mut line = unlocked;
    let mut note = None;
    if let (Some(lock), Some(first)) = (lock, unlocked) {
        let fewest = fitting.iter().map(|v| lock.missing(*v).len()).min();
        let best: Vec<Version> = fitting
            .iter()
            .copied()
            .filter(|v| Some(lock.missing(*v).len()) == fewest)
            .collect();
        line = req.pick_line(&best, preferred);
        if let Some(l) = line.filter(|l| *l != first) {
            let lacking = lock.missing(first);
            note = Some(format!(
                "{} pins packages without a wheel for Python {} ({}), so {} is used",
                lock.file,
                Dialect::Python.line_name(first),
                lacking
                    .iter()
                    .take(3)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
                    + if lacking.len() > 3 { ", …" } else { "" },
                Dialect::Python.line_name(l)
            ));
        }
    }
    let Some(line) = line else {
        return Err(NoChoice::NoneFits);
    };
    let usable = |i: &Interpreter| i.venv && (i.ensurepip || !need_pip);
    let best = have
        .iter()
        .filter(|i| Dialect::Python.line(i.version) == line)
        .max_by_key(|i| (usable(i), req.matches(i.version), i.version))
        .cloned()
        .ok_or(NoChoice::NoneFits)?;
    if usable(&best) {
        Ok((best, note))
    } else {
        Err(NoChoice::NoVenv(best))
    }
}

/// How to get Python `what` onto this machine, for error messages.
pub fn install_hint(req: &Requirement, path: &OsString) -> String {
    // The line it names, else the newest released line that fits, else its lowest.
    let line = req
        .single_line()
        .or_else(|| {
            (6..=14)
                .rev()
                .map(|m| Version::new(3, m, 0))
                .find(|v| req.fits_line(*v))
        })
        .or_else(|| req.lowest())
        .map(|v| Dialect::Python.line_name(v))
        .unwrap_or_else(|| "3.12".to_string());
    let pyenv = std::env::split_paths(path).any(|d| d.join("pyenv").is_file())
        || std::env::split_paths(path).any(|d| {
            d.file_name().is_some_and(|n| n == "shims")
                && d.parent().is_some_and(|r| r.join("versions").is_dir())
        });
    let mut ways = Vec::new();
    if pyenv {
        ways.push(format!("`pyenv install {line}` (pyenv is set up here)"));
    }
    ways.push(format!("`uv python install {line}`"));
    ways.push(format!(
        "your distribution's python{line} and python{line}-venv packages"
    ));
    format!(
        "install Python {line} so that python{line} is on PATH — {}",
        ways.join(", or ")
    )
}

/// The environment every Python command of the service gets: the venv, the
/// download caches, and the package managers pointed at the venv.
pub fn env(venv: &Path, cache: &Path) -> Vec<(String, String)> {
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let venv_python = venv.join("bin/python");
    vec![
        ("VIRTUAL_ENV".into(), s(venv)),
        ("PIP_CACHE_DIR".into(), s(&cache.join("pip"))),
        ("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()),
        ("PIP_NO_INPUT".into(), "1".into()),
        // uv: this venv, this interpreter (not .python-version's exact patch), no downloads.
        ("UV_CACHE_DIR".into(), s(&cache.join("uv"))),
        ("UV_PROJECT_ENVIRONMENT".into(), s(venv)),
        ("UV_PYTHON".into(), s(&venv_python)),
        ("UV_PYTHON_DOWNLOADS".into(), "never".into()),
        ("UV_NO_PROGRESS".into(), "1".into()),
        // poetry: install into the active venv instead of making its own.
        ("POETRY_VIRTUALENVS_CREATE".into(), "false".into()),
        ("POETRY_CACHE_DIR".into(), s(&cache.join("poetry"))),
        ("POETRY_NO_INTERACTION".into(), "1".into()),
        // pdm: use the active venv, ignore a committed .pdm-python.
        ("PDM_CACHE_DIR".into(), s(&cache.join("pdm"))),
        ("PDM_CHECK_UPDATE".into(), "false".into()),
        ("PDM_IGNORE_SAVED_PYTHON".into(), "1".into()),
        ("PDM_NON_INTERACTIVE".into(), "1".into()),
        // pipenv: the active venv (VIRTUAL_ENV), quietly.
        ("PIPENV_CACHE_DIR".into(), s(&cache.join("pipenv"))),
        ("PIPENV_VERBOSITY".into(), "-1".into()),
        ("PIPENV_NOSPIN".into(), "1".into()),
        ("PIPENV_YES".into(), "1".into()),
        // A Pipfile's PyPI source by its legacy name (`pypi.python.org`,
        // which some networks no longer resolve) or by the public one on a
        // machine whose pip reads a mirror: the index pip uses.
        ("PIPENV_PYPI_MIRROR".into(), pypi_mirror()),
    ]
}

/// The index pipenv uses in place of a Pipfile's PyPI source: the user's
/// own setting, else pip's index (`PIP_INDEX_URL`), else PyPI's canonical
/// address.
fn pypi_mirror() -> String {
    ["PIPENV_PYPI_MIRROR", "PIP_INDEX_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "https://pypi.org/simple".into())
}

/// The steps that build the runtime: the app's venv, then (when a command
/// uses one) the package managers in their own venv, linked into `bin`.
pub fn setup(
    interpreter: &Interpreter,
    venv: &Path,
    runtime_dir: &Path,
    need_pip: bool,
    tools: &[&str],
) -> Vec<Step> {
    let exe = sh(&interpreter.exe.to_string_lossy());
    let mut steps = vec![Step::runtime(format!(
        "{exe} -m venv {}{}",
        if need_pip { "" } else { "--without-pip " },
        sh(&venv.to_string_lossy())
    ))];
    if !tools.is_empty() {
        let tools_venv = runtime_dir.join("tools");
        let tv = sh(&tools_venv.to_string_lossy());
        let bin = runtime_dir.join("bin");
        let reqs: Vec<String> = tools
            .iter()
            .filter(|t| **t != "uv")
            .filter_map(|t| TOOLS.iter().find(|(p, _)| p == t))
            .flat_map(|(_, r)| r.iter().map(|r| sh(r)))
            .collect();
        let links: Vec<String> = tools
            .iter()
            .map(|t| {
                format!(
                    "ln -sf {} {}",
                    sh(&tools_venv.join("bin").join(t).to_string_lossy()),
                    sh(&bin.join(t).to_string_lossy())
                )
            })
            .collect();
        // Fast: a venv without pip (instant), uv put in it by the app venv's
        // pip (`pip --python`, pip 22.3+), the other tools by uv — seconds
        // instead of half a minute. Old interpreters (pip without --python,
        // uv without support): a venv with pip, and pip.
        let fast = need_pip && interpreter.version >= Version::new(3, 8, 0);
        let install = if fast {
            let mut c = format!(
                "{exe} -m venv --without-pip {tv} && {venv}/bin/python -m pip --python {tv}/bin/python install --quiet uv",
                venv = sh(&venv.to_string_lossy())
            );
            if !reqs.is_empty() {
                c.push_str(&format!(
                    " && {tv}/bin/uv pip install --quiet --python {tv}/bin/python {}",
                    reqs.join(" ")
                ));
            }
            c
        } else {
            let all: Vec<String> = tools
                .iter()
                .filter_map(|t| TOOLS.iter().find(|(p, _)| p == t))
                .flat_map(|(_, r)| r.iter().map(|r| sh(r)))
                .collect();
            format!(
                "{exe} -m venv {tv} && {tv}/bin/python -m pip install --quiet {}",
                all.join(" ")
            )
        };
        steps.push(Step::runtime(format!(
            "{install} && mkdir -p {bin} && {links}",
            bin = sh(&bin.to_string_lossy()),
            links = links.join(" && ")
        )));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interp(v: &str, venv: bool, ensurepip: bool) -> Interpreter {
        Interpreter {
            exe: PathBuf::from(format!("/x/python{v}")),
            version: Version::parse(v).unwrap(),
            venv,
            ensurepip,
        }
    }

    fn py(s: &str) -> Requirement {
        Requirement::parse(Dialect::Python, s).unwrap()
    }

    fn machine() -> Vec<Interpreter> {
        vec![
            interp("3.6.15", true, true),
            interp("3.9.18", true, true),
            interp("3.11.2", true, false),
            interp("3.11.7", true, true),
            interp("3.12.1", true, true),
            interp("3.13.0", true, true),
        ]
    }

    fn chosen(req: &str, preferred: Option<&str>) -> Result<String, NoChoice> {
        choose(
            &py(req),
            preferred.and_then(Version::parse),
            &machine(),
            true,
            None,
        )
        .map(|(i, _)| i.version.to_string())
    }

    #[test]
    fn pipenv_reads_a_pipfiles_pypi_source_from_a_resolvable_index() {
        let env = env(Path::new("/v"), Path::new("/c"));
        let mirror = env
            .iter()
            .find(|(k, _)| k == "PIPENV_PYPI_MIRROR")
            .map(|(_, v)| v.as_str());
        assert!(mirror.is_some_and(|m| m.starts_with("http")), "{mirror:?}");
    }

    #[test]
    fn the_plans_line_when_it_fits_else_the_newest_that_fits() {
        assert_eq!(chosen(">=3.9", Some("3.12")).unwrap(), "3.12.1");
        assert_eq!(chosen(">=3.9", None).unwrap(), "3.13.0");
        assert_eq!(chosen("^3.11", Some("3.12")).unwrap(), "3.12.1");
        assert_eq!(chosen(">=3.8,<3.12", Some("3.11")).unwrap(), "3.11.7");
        assert_eq!(chosen("<3.12", Some("3.12")).unwrap(), "3.11.7");
        assert_eq!(chosen("", Some("3.12")).unwrap(), "3.12.1");
        assert_eq!(chosen("", Some("3.14")).unwrap(), "3.13.0");
    }

    #[test]
    fn an_exact_pin_needs_its_minor_and_gets_the_closest_patch() {
        assert_eq!(chosen("3.12", Some("3.12")).unwrap(), "3.12.1");
        assert_eq!(chosen("3.12.4", Some("3.12.4")).unwrap(), "3.12.1");
        assert_eq!(chosen("==3.9.*", None).unwrap(), "3.9.18");
        assert_eq!(chosen("3.14", Some("3.14")), Err(NoChoice::NoneFits));
        assert_eq!(chosen("3.10", Some("3.10")), Err(NoChoice::NoneFits));
        assert_eq!(chosen("<3.6", None), Err(NoChoice::NoneFits));
    }

    #[test]
    fn an_interpreter_that_cannot_make_the_venv_is_passed_over_or_named() {
        // 3.11.2 (Debian, no ensurepip) loses to 3.11.7 on the same line.
        assert_eq!(chosen("3.11", None).unwrap(), "3.11.7");
        let only_debian = vec![interp("3.11.2", true, false)];
        let r = choose(&py("3.11"), None, &only_debian, true, None);
        assert!(matches!(r, Err(NoChoice::NoVenv(i)) if i.version == Version::new(3, 11, 2)));
        // Without pip (a stdlib-only app) it is fine.
        assert!(choose(&py("3.11"), None, &only_debian, false, None).is_ok());
        assert_eq!(
            choose(&py("3.11"), None, &[], true, None),
            Err(NoChoice::NoPython)
        );
    }

    #[test]
    fn a_lock_file_steers_to_the_newest_python_its_wheels_exist_for() {
        let d = tempfile::tempdir().unwrap();
        let arch = std::env::consts::ARCH;
        // poetry.lock 1.1 style: greenlet 1.1.2 has Linux wheels up to cp310;
        // cryptography ships abi3 wheels from cp37; a Windows-only wheel and
        // pure wheels say nothing.
        std::fs::write(
            d.path().join("poetry.lock"),
            format!(
                "[metadata.files]\ngreenlet = [\n\
                 {{file = \"greenlet-1.1.2-cp39-cp39-manylinux2010_{arch}.whl\"}},\n\
                 {{file = \"greenlet-1.1.2-cp310-cp310-manylinux_2_17_{arch}.manylinux2014_{arch}.whl\"}},\n\
                 {{file = \"greenlet-1.1.2-cp312-cp312-win_amd64.whl\"}},\n\
                 {{file = \"greenlet-1.1.2.tar.gz\"}},\n]\n\
                 cryptography = [{{file = \"cryptography-41.0.0-cp37-abi3-manylinux_2_28_{arch}.whl\"}}]\n\
                 six = [{{file = \"six-1.16.0-py2.py3-none-any.whl\"}}]\n"
            ),
        )
        .unwrap();
        let lock = lock_wheels(d.path(), d.path()).unwrap();
        assert_eq!(lock.file, "poetry.lock");
        assert_eq!(lock.missing(Version::new(3, 12, 1)), vec!["greenlet 1.1.2"]);
        assert!(lock.missing(Version::new(3, 10, 13)).is_empty());
        let (i, note) = choose(
            &py("^3.9"),
            Version::parse("3.12"),
            &machine(),
            true,
            Some(&lock),
        )
        .unwrap();
        assert_eq!(i.version, Version::new(3, 9, 18));
        // 3.9 is the only fitting line here with a wheel (3.10 is not on `machine()`).
        let note = note.unwrap();
        assert!(
            note.contains(
                "poetry.lock pins packages without a wheel for Python 3.12 (greenlet 1.1.2)"
            ),
            "{note}"
        );
        // No lock file: the plan's line.
        let (i, note) =
            choose(&py("^3.9"), Version::parse("3.12"), &machine(), true, None).unwrap();
        assert_eq!((i.version, note), (Version::new(3, 12, 1), None));
        // A pin is a pin, whatever the lock says.
        let (i, _) = choose(
            &py("3.12"),
            Version::parse("3.12"),
            &machine(),
            true,
            Some(&lock),
        )
        .unwrap();
        assert_eq!(i.version, Version::new(3, 12, 1));
    }

    /// A package every dependent asks for only below a line (shynet's
    /// `backports.zoneinfo`, `python_version < "3.9"`, wheels up to cp39)
    /// does not hold newer lines back; without the marker it does.
    #[test]
    fn a_package_only_installed_below_a_line_does_not_hold_newer_lines_back() {
        let d = tempfile::tempdir().unwrap();
        let arch = std::env::consts::ARCH;
        let lock = |zoneinfo_markers: &str| {
            let yaml: String = [9, 11, 12, 13]
                .iter()
                .map(|m| {
                    format!("{{file = \"PyYAML-6.0.1-cp3{m}-cp3{m}-manylinux1_{arch}.whl\"}},\n")
                })
                .collect();
            std::fs::write(
                d.path().join("poetry.lock"),
                format!(
                    "[[package]]\nname = \"backports.zoneinfo\"\nversion = \"0.2.1\"\nfiles = [\n\
                     {{file = \"backports.zoneinfo-0.2.1-cp38-cp38-manylinux1_{arch}.whl\"}},\n\
                     {{file = \"backports.zoneinfo-0.2.1-cp39-cp39-manylinux1_{arch}.whl\"}},\n]\n\n\
                     [[package]]\nname = \"django\"\nversion = \"4.1.13\"\n\n\
                     [package.dependencies]\nasgiref = \">=3.5.2,<4\"\n\
                     \"backports.zoneinfo\" = {{version = \"*\"{zoneinfo_markers}}}\n\n\
                     [[package]]\nname = \"pyyaml\"\nversion = \"6.0.1\"\nfiles = [\n{yaml}]\n"
                ),
            )
            .unwrap();
            lock_wheels(d.path(), d.path()).unwrap()
        };
        let pick = |lock: &LockWheels| {
            choose(
                &py("^3.8"),
                Version::parse("3.12"),
                &machine(),
                true,
                Some(lock),
            )
            .unwrap()
            .0
            .version
        };
        let marked = lock(", markers = \"python_version < \\\"3.9\\\"\"");
        assert!(marked.missing(Version::new(3, 12, 1)).is_empty());
        assert_eq!(pick(&marked), Version::new(3, 12, 1));
        let plain = lock("");
        assert_eq!(
            plain.missing(Version::new(3, 12, 1)),
            vec!["backports.zoneinfo 0.2.1"]
        );
        assert_eq!(pick(&plain), Version::new(3, 9, 18));
    }

    #[test]
    fn shims_are_skipped_and_the_interpreters_behind_them_found() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let shims = root.path().join("shims");
        std::fs::create_dir_all(&shims).unwrap();
        let shim = shims.join("python3.12");
        std::fs::write(
            &shim,
            "#!/usr/bin/env bash\nexec \"/root/.pyenv/libexec/pyenv\" exec \"$program\" \"$@\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_version_manager_shim(&shim));
        // A real interpreter of this machine, linked where pyenv keeps its versions.
        let real = discover(&OsString::from("/usr/bin:/bin"));
        let Some(sys) = real.first() else {
            return; // no python3 here: nothing more to check
        };
        let bin = root.path().join("versions/9.9/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let name = format!("python3.{}", sys.version.minor);
        std::os::unix::fs::symlink(&sys.exe, bin.join(&name)).unwrap();
        let found = discover(&shims.into_os_string());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].version, sys.version);
    }

    #[test]
    fn tools_get_their_own_venv_and_only_their_commands_are_linked() {
        let i = interp("3.12.1", true, true);
        let steps = setup(
            &i,
            Path::new("/d/runtime/app/venv"),
            Path::new("/d/runtime/app"),
            true,
            &["poetry"],
        );
        assert_eq!(steps.len(), 2);
        assert_eq!(
            steps[0].command,
            "'/x/python3.12.1' -m venv '/d/runtime/app/venv'"
        );
        // uv by the app venv's pip, poetry by uv.
        assert!(
            steps[1].command.contains(
                "'/d/runtime/app/venv'/bin/python -m pip --python '/d/runtime/app/tools'/bin/python install --quiet uv && '/d/runtime/app/tools'/bin/uv pip install --quiet --python '/d/runtime/app/tools'/bin/python 'poetry'"
            ),
            "{}",
            steps[1].command
        );
        // An old interpreter: pip all the way.
        let old = setup(
            &interp("3.7.16", true, true),
            Path::new("/d/runtime/app/venv"),
            Path::new("/d/runtime/app"),
            true,
            &["pipenv"],
        );
        assert!(old[1]
            .command
            .contains("'/d/runtime/app/tools'/bin/python -m pip install --quiet 'pipenv'"));
        assert!(steps[1]
            .command
            .ends_with("ln -sf '/d/runtime/app/tools/bin/poetry' '/d/runtime/app/bin/poetry'"));
        let steps = setup(&i, Path::new("/v"), Path::new("/d"), false, &[]);
        assert_eq!(steps.len(), 1);
        assert!(steps[0].command.contains("--without-pip"));
    }
}
