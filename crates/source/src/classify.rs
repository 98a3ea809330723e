//! Decide what kind of source an input string names: a git remote, a local
//! folder, or an archive file.
//!
//! Rules, in order:
//! 1. `http(s)://`, `ssh://`, `git://`, `file://` (and `git+ssh://`) → git.
//!    An http(s) URL ending in an archive extension is refused: downloading
//!    archives is not done here.
//! 2. An existing folder → path, unless it is a bare git repository (then it
//!    is cloned like a remote, because a bare repository has no files to read).
//! 3. An existing `.zip`, `.tar.gz`, `.tgz` or `.tar` file → archive; any other
//!    file → unsupported.
//! 4. A non-existent `user@host:path` or anything ending in `.git` → git.
//! 5. Anything else → not found (with a GitHub hint for `owner/repo`).
//!
//! This module only looks at the string and at file metadata; it never reads
//! file contents (beyond checking for a bare repository's layout) and never
//! runs git.

use crate::error::SourceError;
use std::io;
use std::path::{Path, PathBuf};

/// Archive container formats we extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArchiveFormat {
    Zip,
    TarGz,
    Tar,
}

/// A classified input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `url` is passed to git unchanged; `git_ref` came from a `#ref` suffix.
    Git {
        url: String,
        git_ref: Option<String>,
    },
    Path(PathBuf),
    Archive {
        path: PathBuf,
        format: ArchiveFormat,
    },
}

const GIT_SCHEMES: [&str; 7] = ["http", "https", "ssh", "git", "file", "git+ssh", "ssh+git"];

/// Classify `input` (already trimmed, non-empty).
pub(crate) fn classify(input: &str) -> Result<Source, SourceError> {
    if let Some(scheme) = crate::url::scheme(input) {
        if !GIT_SCHEMES.contains(&scheme.as_str()) {
            return Err(SourceError::Unsupported {
                input: crate::url::redact_userinfo(input),
                reason: format!("the `{scheme}://` scheme is not supported"),
            });
        }
        let (url, git_ref) = split_ref(input);
        if scheme.starts_with("http") {
            if let Some(ext) = archive_extension(url) {
                return Err(SourceError::Unsupported {
                    input: crate::url::redact_userinfo(input),
                    reason: format!(
                        "this looks like a link to a {ext} archive, and archives are not \
                         downloaded here: download it and pass the file's path, or pass the \
                         repository's git URL"
                    ),
                });
            }
            if let Some(suggestion) = web_page_url_hint(url) {
                return Err(SourceError::Unsupported {
                    input: crate::url::redact_userinfo(input),
                    reason: format!(
                        "this is a web page inside a repository, not a clone URL; try \
                         `{suggestion}`"
                    ),
                });
            }
        }
        return Ok(Source::Git {
            url: url.to_string(),
            git_ref,
        });
    }

    let path = Path::new(input);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            if is_bare_repository(path) {
                return Ok(Source::Git {
                    url: input.to_string(),
                    git_ref: None,
                });
            }
            Ok(Source::Path(path.to_path_buf()))
        }
        Ok(meta) if meta.is_file() => match archive_extension(input) {
            Some(".zip") => Ok(archive(path, ArchiveFormat::Zip)),
            Some(".tar.gz" | ".tgz") => Ok(archive(path, ArchiveFormat::TarGz)),
            Some(".tar") => Ok(archive(path, ArchiveFormat::Tar)),
            _ => Err(SourceError::Unsupported {
                input: input.to_string(),
                reason: unsupported_file_reason(input),
            }),
        },
        Ok(_) => Err(SourceError::Unsupported {
            input: input.to_string(),
            reason: "it is neither a regular file nor a folder".to_string(),
        }),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            classify_missing(input)
        }
        Err(e) => Err(SourceError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn archive(path: &Path, format: ArchiveFormat) -> Source {
    Source::Archive {
        path: path.to_path_buf(),
        format,
    }
}

/// An input that is not on disk: a git remote in scp form or ending in
/// `.git`, a local bare repository with `#ref`, or simply missing.
fn classify_missing(input: &str) -> Result<Source, SourceError> {
    let (base, git_ref) = split_ref(input);
    if git_ref.is_some() && Path::new(base).is_dir() && is_bare_repository(Path::new(base)) {
        return Ok(Source::Git {
            url: base.to_string(),
            git_ref,
        });
    }
    if is_scp_like(base) || base.ends_with(".git") || base.ends_with(".git/") {
        return Ok(Source::Git {
            url: base.to_string(),
            git_ref,
        });
    }
    Err(SourceError::NotFound {
        input: input.to_string(),
        hint: github_hint(input),
    })
}

/// Split a trailing `#ref` off a git URL. An empty ref is dropped.
pub(crate) fn split_ref(input: &str) -> (&str, Option<String>) {
    match input.rsplit_once('#') {
        Some((url, r)) if !url.is_empty() => {
            let r = r.trim();
            (url, (!r.is_empty()).then(|| r.to_string()))
        }
        _ => (input, None),
    }
}

/// `user@host:path` (scp-like ssh syntax): an `@` and a `:` before any `/`.
fn is_scp_like(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let head = &s[..colon];
    let Some((user, host)) = head.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && host.len() >= 2
        && !head.contains('/')
        && !head.contains(char::is_whitespace)
        && colon + 1 < s.len()
}

/// Lowercase archive extension of a name, if it has one we recognise or
/// refuse by name.
fn archive_extension(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let lower = lower.split(['?', '#']).next().unwrap_or("");
    [".tar.gz", ".tgz", ".zip", ".tar"]
        .into_iter()
        .find(|ext| lower.ends_with(ext))
}

fn unsupported_file_reason(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    for ext in [
        ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".7z", ".rar",
    ] {
        if lower.ends_with(ext) {
            return format!("{ext} archives are not supported: re-pack it as .tar.gz or .zip");
        }
    }
    "it is a file but not a .zip, .tar.gz, .tgz or .tar archive".to_string()
}

/// A folder with git's bare layout (`HEAD`, `objects/`, `refs/`) and no `.git`.
fn is_bare_repository(dir: &Path) -> bool {
    dir.join("HEAD").is_file()
        && dir.join("objects").is_dir()
        && dir.join("refs").is_dir()
        && !dir.join(".git").exists()
}

/// `owner/repo` that does not exist locally probably means GitHub.
fn github_hint(input: &str) -> Option<String> {
    let (owner, repo) = input.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if ok(owner) && ok(repo) {
        Some(format!(
            "if you meant the GitHub repository, pass https://github.com/{owner}/{repo}"
        ))
    } else {
        None
    }
}

/// `https://github.com/o/r/tree/main/x` → `https://github.com/o/r` (the
/// `/tree/` and `/blob/` pages of GitHub and GitLab are not clone URLs).
fn web_page_url_hint(url: &str) -> Option<String> {
    let host = crate::url::host(url)?;
    if host != "github.com" && host != "gitlab.com" {
        return None;
    }
    let (_, rest) = url.split_once("://")?;
    let segments: Vec<&str> = rest.split('/').collect();
    // authority, owner, repo, ("-",) "tree"|"blob", ref…
    let pos = segments.iter().position(|s| *s == "tree" || *s == "blob")?;
    if pos < 3 {
        return None;
    }
    let repo_end = if segments[pos - 1] == "-" {
        pos - 1
    } else {
        pos
    };
    let base = segments[..repo_end].join("/");
    let scheme = crate::url::scheme(url)?;
    match segments.get(pos + 1) {
        Some(r) if !r.is_empty() && pos + 2 == segments.len() => {
            Some(format!("{scheme}://{base}#{r}"))
        }
        _ => Some(format!("{scheme}://{base}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(url: &str, r: Option<&str>) -> Source {
        Source::Git {
            url: url.into(),
            git_ref: r.map(String::from),
        }
    }

    #[test]
    fn urls_are_git() {
        for u in [
            "https://github.com/o/r",
            "HTTP://h/r",
            "ssh://git@h/r.git",
            "git://h/r",
            "file:///tmp/nowhere",
            "git+ssh://h/r",
        ] {
            assert_eq!(classify(u).unwrap(), git(u, None), "{u}");
        }
        assert_eq!(
            classify("https://h/o/r.git#v1.2").unwrap(),
            git("https://h/o/r.git", Some("v1.2"))
        );
    }

    #[test]
    fn scp_and_dot_git_are_git_when_not_on_disk() {
        assert_eq!(
            classify("git@github.com:o/r.git").unwrap(),
            git("git@github.com:o/r.git", None)
        );
        assert_eq!(
            classify("git@github.com:o/r#dev").unwrap(),
            git("git@github.com:o/r", Some("dev"))
        );
        assert_eq!(
            classify("/no/such/place/r.git").unwrap(),
            git("/no/such/place/r.git", None)
        );
    }

    #[test]
    fn other_schemes_and_archive_links_are_refused() {
        assert!(matches!(
            classify("ftp://h/r"),
            Err(SourceError::Unsupported { .. })
        ));
        assert!(matches!(
            classify("ext::sh -c touch% /tmp/x"),
            Err(SourceError::NotFound { .. })
        ));
        let e = classify("https://github.com/o/r/archive/refs/heads/main.zip").unwrap_err();
        assert!(e.to_string().contains("download it"), "{e}");
    }

    #[test]
    fn web_pages_suggest_the_clone_url() {
        let e = classify("https://github.com/o/r/tree/dev").unwrap_err();
        assert!(e.to_string().contains("https://github.com/o/r#dev"), "{e}");
        let e = classify("https://gitlab.com/g/r/-/blob/main/README.md").unwrap_err();
        assert!(e.to_string().contains("`https://gitlab.com/g/r`"), "{e}");
        assert!(classify("https://github.com/o/r").is_ok());
    }

    #[test]
    fn owner_repo_hint() {
        match classify("someowner/somerepo").unwrap_err() {
            SourceError::NotFound { hint: Some(h), .. } => {
                assert!(h.contains("https://github.com/someowner/somerepo"))
            }
            e => panic!("{e:?}"),
        }
        match classify("./nope/at/all").unwrap_err() {
            SourceError::NotFound { hint: None, .. } => {}
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn scp_detection() {
        assert!(is_scp_like("git@h.com:o/r"));
        assert!(!is_scp_like("C:/x"));
        assert!(!is_scp_like("a/b@c:d"));
        assert!(!is_scp_like("h:o/r"));
        assert!(!is_scp_like("git@h:"));
    }
}
