//! Files the code imports that the repository holds only an example of
//! (`src/config.ts` gitignored, `src/config.ts.example` committed): what
//! many READMEs tell a new user to do by hand — copy the example — the
//! deployment does in its own copy, with a warning naming the file.
//!
//! Language-independent: each detector resolves its own imports to the
//! files they could be ([`missing_import`] gets the candidates, in the order
//! the language tries them); this module says whether one exists, finds a
//! committed example beside a missing one, and records the finding with its
//! typed action ([`FileFromExample`]).
//!
//! Not here: copying (the deploy stage does that in its copy, never in the
//! user's tree) or reading what the example holds (the detectors' wiring).

use crate::ctx::Ctx;
use crate::draft::Draft;
use crate::repo::{file_name, parent};
use autodeploy_core::{FileFromExample, Severity};

/// Words that mark a committed example of a file, as `NAME.WORD`
/// (`config.ts.example`), `NAME-WORD` (`.env.dev-sample`) or
/// `STEM.WORD.EXT` (`config.example.ts`).
const MARKS: &[&str] = &["example", "sample", "dist", "template"];

/// The committed example of `path` (repository-relative), if one sits beside it.
pub fn example_of(ctx: &Ctx, path: &str) -> Option<String> {
    let dir = parent(path);
    let name = file_name(path);
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    for mark in MARKS {
        let mut names = vec![format!("{name}.{mark}"), format!("{name}-{mark}")];
        if let Some((stem, ext)) = name.rsplit_once('.').filter(|(s, _)| !s.is_empty()) {
            names.push(format!("{stem}.{mark}.{ext}"));
        }
        // A dotfile's example named `MARK.env` (go-clean-arch's `example.env`).
        if name.starts_with('.') {
            names.push(format!("{mark}{name}"));
        }
        for n in names {
            if ctx.index().has(dir, &n) {
                return Some(format!("{prefix}{n}"));
            }
        }
    }
    None
}

/// `importer` (line `line`) imports a module that may be any of
/// `candidates` (repository-relative paths, in the order the language
/// resolves them). When none exists and one has a committed example, record
/// a `file_from_example` finding whose action creates it from the example.
/// Returns true when it did (or had already, for another importer).
pub fn missing_import(
    ctx: &Ctx,
    draft: &mut Draft,
    importer: &str,
    line: u32,
    candidates: &[String],
) -> bool {
    if candidates.iter().any(|c| ctx.index().contains(c)) {
        return false;
    }
    let Some((file, example)) = candidates
        .iter()
        .find_map(|c| example_of(ctx, c).map(|e| (c.clone(), e)))
    else {
        return false;
    };
    if draft
        .findings
        .iter()
        .any(|f| f.from_example.as_ref().is_some_and(|x| x.file == file))
    {
        return true;
    }
    draft.finding(
        "file_from_example",
        Severity::Warning,
        Some(importer),
        Some(line),
        format!(
            "{importer}:{line} imports {file}, which the repository does not hold (it is usually \
             ignored by git): only its example {example} is committed. The deployment creates \
             {file} from the example in its own copy (your folder is not changed); review what it \
             holds — an example is public, so give secrets in it new values"
        ),
        None,
    );
    if let Some(f) = draft.findings.last_mut() {
        f.from_example = Some(FileFromExample { file, example });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;
    use autodeploy_core::{Language, ServiceKind};

    #[test]
    fn finds_each_form_of_example_and_records_one_finding_per_file() {
        let repo = MemRepo::new([
            ("src/config.ts.example", "export const SECRET = 'x';"),
            ("lib/settings.sample.js", "module.exports = {}"),
            ("src/a.ts", ""),
            ("example.env", "DATABASE_HOST=localhost\n"),
        ]);
        let ctx = Ctx::new(&repo);
        assert_eq!(
            example_of(&ctx, "src/config.ts").as_deref(),
            Some("src/config.ts.example")
        );
        assert_eq!(
            example_of(&ctx, "lib/settings.js").as_deref(),
            Some("lib/settings.sample.js")
        );
        assert_eq!(example_of(&ctx, "src/a.ts"), None);
        // go-clean-arch's `.env` example.
        assert_eq!(example_of(&ctx, ".env").as_deref(), Some("example.env"));

        let mut d = Draft::new("", Language::Typescript, ServiceKind::Web);
        let cands = |p: &str| vec![format!("{p}.ts"), format!("{p}.js")];
        assert!(missing_import(
            &ctx,
            &mut d,
            "src/b.ts",
            1,
            &cands("src/config")
        ));
        assert!(missing_import(
            &ctx,
            &mut d,
            "src/c.ts",
            3,
            &cands("src/config")
        ));
        // Present files and files without an example are left alone.
        assert!(!missing_import(
            &ctx,
            &mut d,
            "src/b.ts",
            2,
            &cands("src/a")
        ));
        assert!(!missing_import(
            &ctx,
            &mut d,
            "src/b.ts",
            4,
            &cands("src/gone")
        ));
        let made: Vec<_> = d
            .findings
            .iter()
            .filter_map(|f| f.from_example.clone())
            .collect();
        assert_eq!(
            made,
            vec![FileFromExample {
                file: "src/config.ts".into(),
                example: "src/config.ts.example".into()
            }]
        );
        assert_eq!(d.findings[0].kind, "file_from_example");
        assert_eq!(d.findings[0].severity, Severity::Warning);
    }
}
