//! Front ends built into another package's tree (etherpad-lite: `admin/`'s
//! `build-copy` runs `vite build --outDir ../src/templates/admin`, and the
//! root's `build:etherpad` runs it with `pnpm --filter admin run
//! build-copy`). Such a package is part of the app that serves its output,
//! not a site of its own; that app's build is the script that builds it.
//!
//! Not here: a front end whose output folder is its own (`dist/`), which is
//! a static site (`super::build_drafts`).

use super::manifest::{parse, Entry, Manifest};
use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use crate::repo::{file_name, join, normalize, parent};
use autodeploy_core::ServiceKind;

/// Output-folder options of the front-end build tools (`vite build
/// --outDir`, `ng build --output-path`, `webpack --output-path`).
const OUT_FLAGS: &[&str] = &["--outDir", "--out-dir", "--output-path"];

/// The folder (repo-relative) a script writes its build into, when it names
/// one outside the package folder `dir`.
fn outside_output(dir: &str, script: &str) -> Option<String> {
    let words: Vec<&str> = script.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let path = OUT_FLAGS.iter().find_map(|f| {
            if w == f {
                words.get(i + 1).copied()
            } else {
                w.strip_prefix(f).and_then(|r| r.strip_prefix('='))
            }
        })?;
        let path = path.trim_matches(['"', '\'']);
        if !path.starts_with("../") {
            return None;
        }
        let out = normalize(&join(dir, path))?;
        (out != dir && !crate::repo::is_under(&out, dir)).then_some(out)
    })
}

/// The script of package `m` (in `dir`) that builds it into another
/// package's folder, with that folder: (script name, output folder).
fn copying_script(dir: &str, m: &Manifest) -> Option<(String, String)> {
    m.scripts
        .iter()
        .find_map(|(name, e)| Some((name.clone(), outside_output(dir, &e.value)?)))
}

/// The script of `outer` (a package around the one built) that runs
/// `member`'s `script` (`pnpm --filter admin run build-copy`, `npm run
/// build-copy -w admin`), when one does: (name, entry).
fn script_running<'m>(
    outer: &'m Manifest,
    member: &str,
    script: &str,
) -> Option<(&'m String, &'m Entry)> {
    outer
        .scripts
        .iter()
        .filter(|(n, _)| n.starts_with("build"))
        .find(|(_, e)| {
            let words: Vec<&str> = e.value.split_whitespace().collect();
            words
                .windows(2)
                .any(|w| matches!(w[0], "--filter" | "-F" | "--workspace" | "-w") && w[1] == member)
                && words.contains(&script)
        })
}

/// True when the package in `dir` builds into the tree of a package around
/// it whose own build script runs that build: the outer package serves it
/// ([`build_embedded`] gives its web services that script). A package
/// nothing around it builds stays a site of its own.
pub(super) fn builds_into_another_package(ctx: &Ctx, dir: &str, m: &Manifest) -> bool {
    let (Some((script, out)), Some(member)) = (copying_script(dir, m), m.name.as_deref()) else {
        return false;
    };
    let mut up = parent(dir);
    loop {
        let file = join(up, "package.json");
        if crate::repo::is_under(&out, up) && ctx.index().contains(&file) {
            let runs = ctx
                .read_path(&file)
                .and_then(|t| parse(&file, &t).ok())
                .is_some_and(|outer| script_running(&outer, member, &script).is_some());
            if runs {
                return true;
            }
        }
        if up.is_empty() {
            return false;
        }
        up = parent(up);
    }
}

/// A Go file in the package's own folder embeds files of it into the Go
/// binary (shiori's `webapp/embed.go`: `//go:embed dist/index.html`, the
/// built files committed): the front end is served by that binary, not a
/// site of its own.
pub(super) fn embedded_in_a_go_binary(ctx: &Ctx, dir: &str) -> bool {
    ctx.index()
        .names_in(dir)
        .filter(|n| n.ends_with(".go") && !n.ends_with("_test.go"))
        .any(|n| {
            ctx.read(dir, n)
                .is_some_and(|t| t.lines().any(|l| l.trim_start().starts_with("//go:embed ")))
        })
}

/// The web services of the package in `dir` whose build is none yet get the
/// package's script that builds an embedded front end (`build:etherpad`
/// running `pnpm --filter admin run build-copy`).
pub(super) fn build_embedded(
    ctx: &Ctx,
    dir: &str,
    m: &Manifest,
    run: &dyn Fn(&str) -> String,
    drafts: &mut [Draft],
) {
    if !drafts
        .iter()
        .any(|d| d.kind == ServiceKind::Web && d.builds.is_empty())
    {
        return;
    }
    // Packages below this one that build into it, and this package's
    // script that runs that build.
    let found = ctx
        .index()
        .files_under(dir)
        .filter(|f| file_name(f) == "package.json" && parent(f) != dir)
        .find_map(|f| {
            let sub = parent(f);
            let text = ctx.read_path(f)?;
            let sm = parse(f, &text).ok()?;
            let (script, out) = copying_script(sub, &sm)?;
            if !crate::repo::is_under(&out, dir) {
                return None;
            }
            let (name, e) = script_running(m, sm.name.as_deref()?, &script)?;
            Some((name.clone(), e.line))
        });
    let Some((name, line)) = found else {
        return;
    };
    for d in drafts
        .iter_mut()
        .filter(|d| d.kind == ServiceKind::Web && d.builds.is_empty())
    {
        d.build(
            run(&name),
            Trust::Config,
            ev(
                &m.file,
                line,
                format!("script \"{name}\" builds the front end this app serves"),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_folders_outside_the_package() {
        let out = |dir: &str, s: &str| outside_output(dir, s);
        assert_eq!(
            out(
                "admin",
                "tsc && vite build --outDir ../src/templates/admin --emptyOutDir"
            ),
            Some("src/templates/admin".into())
        );
        assert_eq!(
            out("web/client", "ng build --output-path=../server/public"),
            Some("web/server/public".into())
        );
        assert_eq!(out("admin", "vite build --outDir dist"), None);
        assert_eq!(out("admin", "vite build"), None);
    }
}
