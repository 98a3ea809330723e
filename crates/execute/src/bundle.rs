//! Writing a rendered bundle to its folder — the files, and the source
//! archive when the bundle asks for one (`Bundle::source_archive`: a VM that
//! cannot clone the source gets it from an archive Terraform uploads).
//!
//! The archive before the newest is kept beside it (`<name>.previous`) so a
//! roll back re-applies the code it ran; a bundle written again only to be
//! destroyed, with no source at hand, gets an empty archive (Terraform needs
//! a file to hash, and nothing boots from it).

use crate::ExecError;
use autodeploy_render::Bundle;
use std::path::Path;

/// What the archive holds when the bundle is written.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The source tree to archive (deploy, redeploy, plan).
    Tree(&'a Path),
    /// The archive of the release before (a roll back).
    Previous,
    /// Nothing will boot from it (destroy): an empty archive if none is there.
    Placeholder,
}

/// Write `bundle` under `dir`, and its source archive from `source`.
pub fn write_bundle(bundle: &Bundle, dir: &Path, source: Source) -> Result<(), ExecError> {
    bundle.write_to(dir).map_err(|e| {
        ExecError::io(
            format!("could not write the bundle to {}", dir.display()),
            e,
        )
    })?;
    let Some(name) = &bundle.source_archive else {
        return Ok(());
    };
    let path = dir.join(name);
    let previous = dir.join(format!("{name}.previous"));
    let io = |what: String| move |e| ExecError::io(what, e);
    match source {
        Source::Tree(root) => {
            if path.exists() {
                std::fs::rename(&path, &previous).map_err(io(format!(
                    "could not keep {} as the previous archive",
                    path.display()
                )))?;
            }
            autodeploy_aws::zip_source(root, &path)?;
        }
        Source::Previous => {
            if previous.exists() {
                std::fs::rename(&previous, &path)
                    .map_err(io(format!("could not restore {}", previous.display())))?;
            }
        }
        Source::Placeholder => {
            if !path.exists() {
                std::fs::write(&path, autodeploy_render::EMPTY_SOURCE_ARCHIVE)
                    .map_err(io(format!("could not write {}", path.display())))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodeploy_render::BundleFile;

    fn bundle(archive: bool) -> Bundle {
        Bundle {
            files: vec![BundleFile {
                path: "terraform/main.tf".into(),
                contents: "# x\n".into(),
                executable: false,
            }],
            source_archive: archive.then(|| "source.zip".into()),
        }
    }

    fn names(zip: &Path) -> Vec<String> {
        let f = std::fs::File::open(zip).unwrap();
        let z = zip::ZipArchive::new(f).unwrap();
        let mut n: Vec<String> = z.file_names().map(str::to_string).collect();
        n.sort();
        n
    }

    #[test]
    fn the_archive_is_written_kept_for_a_roll_back_and_restored() {
        let out = tempfile::tempdir().unwrap();
        let v1 = tempfile::tempdir().unwrap();
        std::fs::write(v1.path().join("app.py"), "v1").unwrap();
        let v2 = tempfile::tempdir().unwrap();
        std::fs::write(v2.path().join("main.py"), "v2").unwrap();
        let b = bundle(true);
        write_bundle(&b, out.path(), Source::Tree(v1.path())).unwrap();
        assert!(out.path().join("terraform/main.tf").exists());
        assert_eq!(names(&out.path().join("source.zip")), vec!["app.py"]);
        write_bundle(&b, out.path(), Source::Tree(v2.path())).unwrap();
        assert_eq!(names(&out.path().join("source.zip")), vec!["main.py"]);
        // The roll back re-applies the code the release before ran.
        write_bundle(&b, out.path(), Source::Previous).unwrap();
        assert_eq!(names(&out.path().join("source.zip")), vec!["app.py"]);
        // Destroy keeps what is there.
        write_bundle(&b, out.path(), Source::Placeholder).unwrap();
        assert_eq!(names(&out.path().join("source.zip")), vec!["app.py"]);
    }

    #[test]
    fn destroy_without_the_source_gets_an_empty_archive_and_git_bundles_none() {
        let out = tempfile::tempdir().unwrap();
        write_bundle(&bundle(true), out.path(), Source::Placeholder).unwrap();
        assert!(names(&out.path().join("source.zip")).is_empty());
        let out = tempfile::tempdir().unwrap();
        write_bundle(&bundle(false), out.path(), Source::Tree(out.path())).unwrap();
        assert!(!out.path().join("source.zip").exists());
    }
}
