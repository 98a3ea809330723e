//! S3 over REST: create a bucket, put / get / delete / list objects, and sync
//! a folder (static sites) with a Content-Type per file extension.
//!
//! Single-request PUTs only (S3 takes up to 5 GiB that way); no multipart
//! upload, no checksums beyond the signed SHA-256 payload hash, no ACLs (the
//! buckets the bundles create enforce bucket-owner ownership).

use crate::client::{xml_text, Body, Request, Response, Service};
use crate::{AwsClient, AwsError, Sink};
use autodeploy_core::LogStream;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Uploads running at once during a sync.
const SYNC_WORKERS: usize = 4;

/// What [`AwsClient::s3_sync_dir_with`] does besides uploading.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Delete objects in the bucket that have no file in the folder.
    pub delete_extra: bool,
}

/// The outcome of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub uploaded: usize,
    pub bytes: u64,
    pub deleted: usize,
}

fn segments(bucket: &str, key: &str) -> Vec<String> {
    let mut v = vec![bucket.to_string()];
    v.extend(key.split('/').map(str::to_string));
    v
}

fn check_bucket(bucket: &str) -> Result<(), AwsError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(AwsError::InvalidInput {
            what: format!("bucket name {bucket:?}"),
            message: "S3 bucket names are 3–63 lowercase letters, digits, dots and dashes".into(),
        })
    }
}

/// SHA-256 (hex) and length of a file, read in blocks.
fn hash_file(path: &Path) -> Result<(String, u64), AwsError> {
    let mut f = std::fs::File::open(path).map_err(|e| AwsError::io("open", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| AwsError::io("read", path, e))?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    Ok((crate::sigv4::hex(&h.finalize()), len))
}

/// Content-Type of a file by its extension; `application/octet-stream` when unknown.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    }
}

impl AwsClient {
    /// Create a bucket in the client's region (Terraform does this for
    /// deployments; tests and tools use it).
    pub fn s3_create_bucket(&self, bucket: &str) -> Result<(), AwsError> {
        check_bucket(bucket)?;
        let body = if self.region() == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region()
            )
        };
        self.send(&Request {
            service: Service::S3,
            operation: "CreateBucket",
            method: "PUT",
            path: vec![bucket.to_string()],
            query: vec![],
            headers: vec![],
            body: if body.is_empty() {
                Body::Empty
            } else {
                Body::Bytes(body.as_bytes())
            },
        })?;
        Ok(())
    }

    /// Turn on versioning (the bundles' source buckets have it; tests and
    /// tools use this — AWS itself may also ask for a Content-MD5 here).
    pub fn s3_enable_versioning(&self, bucket: &str) -> Result<(), AwsError> {
        check_bucket(bucket)?;
        let body = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>";
        self.send(&Request {
            service: Service::S3,
            operation: "PutBucketVersioning",
            method: "PUT",
            path: vec![bucket.to_string()],
            query: vec![("versioning".into(), String::new())],
            headers: vec![("content-type".into(), "application/xml".into())],
            body: Body::Bytes(body.as_bytes()),
        })?;
        Ok(())
    }

    /// Upload one file. Returns nothing; see [`AwsClient::s3_put_file_versioned`]
    /// for the version id of a versioned bucket.
    pub fn s3_put_file(&self, bucket: &str, key: &str, file: &Path) -> Result<(), AwsError> {
        self.s3_put_file_versioned(bucket, key, file, None)
            .map(|_| ())
    }

    /// Upload one file with an optional Content-Type; returns the object's
    /// version id when the bucket is versioned.
    pub fn s3_put_file_versioned(
        &self,
        bucket: &str,
        key: &str,
        file: &Path,
        content_type: Option<&str>,
    ) -> Result<Option<String>, AwsError> {
        check_bucket(bucket)?;
        let (sha256, len) = hash_file(file)?;
        let mut headers = vec![];
        if let Some(ct) = content_type {
            headers.push(("content-type".to_string(), ct.to_string()));
        }
        let resp = self.send(&Request {
            service: Service::S3,
            operation: "PutObject",
            method: "PUT",
            path: segments(bucket, key),
            query: vec![],
            headers,
            body: Body::File {
                path: file,
                sha256,
                len,
            },
        })?;
        Ok(resp.header("x-amz-version-id").map(str::to_string))
    }

    /// Upload bytes with headers (Content-Type, Cache-Control …).
    pub fn s3_put_bytes(
        &self,
        bucket: &str,
        key: &str,
        data: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<(), AwsError> {
        check_bucket(bucket)?;
        self.send(&Request {
            service: Service::S3,
            operation: "PutObject",
            method: "PUT",
            path: segments(bucket, key),
            query: vec![],
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: Body::Bytes(data),
        })?;
        Ok(())
    }

    /// Download an object: its bytes and Content-Type.
    pub fn s3_get(&self, bucket: &str, key: &str) -> Result<(Vec<u8>, Option<String>), AwsError> {
        check_bucket(bucket)?;
        let resp: Response = self.send(&Request {
            service: Service::S3,
            operation: "GetObject",
            method: "GET",
            path: segments(bucket, key),
            query: vec![],
            headers: vec![],
            body: Body::Empty,
        })?;
        let ct = resp.header("content-type").map(str::to_string);
        Ok((resp.body, ct))
    }

    pub fn s3_delete(&self, bucket: &str, key: &str) -> Result<(), AwsError> {
        check_bucket(bucket)?;
        self.send(&Request {
            service: Service::S3,
            operation: "DeleteObject",
            method: "DELETE",
            path: segments(bucket, key),
            query: vec![],
            headers: vec![],
            body: Body::Empty,
        })?;
        Ok(())
    }

    /// Every key in the bucket (ListObjectsV2, all pages), sorted.
    pub fn s3_list_keys(&self, bucket: &str) -> Result<Vec<String>, AwsError> {
        check_bucket(bucket)?;
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("list-type".to_string(), "2".to_string())];
            if let Some(t) = &token {
                query.push(("continuation-token".into(), t.clone()));
            }
            let resp = self.send(&Request {
                service: Service::S3,
                operation: "ListObjectsV2",
                method: "GET",
                path: vec![bucket.to_string()],
                query,
                headers: vec![],
                body: Body::Empty,
            })?;
            let text = String::from_utf8_lossy(&resp.body).into_owned();
            let bad = |m: String| AwsError::BadResponse {
                service: "s3".into(),
                operation: "ListObjectsV2".into(),
                message: m,
            };
            let doc = roxmltree::Document::parse(&text).map_err(|e| bad(e.to_string()))?;
            for c in doc
                .descendants()
                .filter(|n| n.is_element() && n.tag_name().name() == "Contents")
            {
                if let Some(k) = c
                    .children()
                    .find(|n| n.is_element() && n.tag_name().name() == "Key")
                    .and_then(|n| n.text())
                {
                    keys.push(k.to_string());
                }
            }
            let truncated = xml_text(&text, "IsTruncated").is_some_and(|t| t == "true");
            token = xml_text(&text, "NextContinuationToken");
            if !truncated || token.is_none() {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Upload every file under `dir` to the bucket root (keys are the paths
    /// relative to `dir`, `/`-separated) with a Content-Type by extension;
    /// HTML is sent with `Cache-Control: no-cache` so a new release shows at
    /// once. Returns the number of files uploaded.
    pub fn s3_sync_dir(&self, bucket: &str, dir: &Path, sink: Sink) -> Result<usize, AwsError> {
        self.s3_sync_dir_with(bucket, dir, &SyncOptions::default(), sink)
            .map(|r| r.uploaded)
    }

    /// [`AwsClient::s3_sync_dir`] with options (delete objects that have no file).
    pub fn s3_sync_dir_with(
        &self,
        bucket: &str,
        dir: &Path,
        opts: &SyncOptions,
        sink: Sink,
    ) -> Result<SyncReport, AwsError> {
        check_bucket(bucket)?;
        let files = list_files(dir)?;
        sink(
            LogStream::System,
            &format!(
                "uploading {} files from {} to s3://{bucket}",
                files.len(),
                dir.display()
            ),
        );
        let next = AtomicUsize::new(0);
        let bytes = std::sync::atomic::AtomicU64::new(0);
        let first_error: Mutex<Option<AwsError>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..SYNC_WORKERS.min(files.len().max(1)) {
                s.spawn(|| loop {
                    if first_error.lock().map(|e| e.is_some()).unwrap_or(true) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((key, path)) = files.get(i) else {
                        return;
                    };
                    match self.put_site_file(bucket, key, path) {
                        Ok(n) => {
                            bytes.fetch_add(n, Ordering::SeqCst);
                        }
                        Err(e) => {
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(e);
                            }
                            return;
                        }
                    }
                });
            }
        });
        if let Some(e) = first_error.into_inner().ok().flatten() {
            return Err(e);
        }
        let mut report = SyncReport {
            uploaded: files.len(),
            bytes: bytes.into_inner(),
            deleted: 0,
        };
        if opts.delete_extra {
            let local: BTreeSet<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
            for key in self.s3_list_keys(bucket)? {
                if !local.contains(key.as_str()) {
                    self.s3_delete(bucket, &key)?;
                    report.deleted += 1;
                }
            }
        }
        sink(
            LogStream::System,
            &format!(
                "uploaded {} files ({} bytes) to s3://{bucket}{}",
                report.uploaded,
                report.bytes,
                if opts.delete_extra {
                    format!(", deleted {} stale objects", report.deleted)
                } else {
                    String::new()
                }
            ),
        );
        Ok(report)
    }

    fn put_site_file(&self, bucket: &str, key: &str, path: &Path) -> Result<u64, AwsError> {
        let (sha256, len) = hash_file(path)?;
        let ct = content_type(path);
        let mut headers = vec![("content-type".to_string(), ct.to_string())];
        if ct.starts_with("text/html") {
            headers.push(("cache-control".into(), "no-cache".into()));
        }
        self.send(&Request {
            service: Service::S3,
            operation: "PutObject",
            method: "PUT",
            path: segments(bucket, key),
            query: vec![],
            headers,
            body: Body::File { path, sha256, len },
        })?;
        Ok(len)
    }
}

/// Files under `dir` as (key, path), sorted by key. Everything is included
/// (built output is not filtered by .gitignore) except `.git` folders;
/// symbolic links are followed.
fn list_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, AwsError> {
    if !dir.is_dir() {
        return Err(AwsError::io(
            "read the folder",
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
        ));
    }
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(true)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        let entry =
            entry.map_err(|e| AwsError::io("walk", dir, std::io::Error::other(e.to_string())))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let key = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        out.push((key, entry.path().to_path_buf()));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            content_type(Path::new("a/index.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("app.mjs")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("logo.svg")), "image/svg+xml");
        assert_eq!(content_type(Path::new("font.woff2")), "font/woff2");
        assert_eq!(
            content_type(Path::new("LICENSE")),
            "application/octet-stream"
        );
    }

    #[test]
    fn lists_nested_files_with_slash_keys_and_skips_git() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("assets/img")).unwrap();
        std::fs::create_dir_all(d.path().join(".git")).unwrap();
        std::fs::create_dir_all(d.path().join(".well-known")).unwrap();
        std::fs::write(d.path().join("index.html"), "x").unwrap();
        std::fs::write(d.path().join("assets/img/a.png"), "x").unwrap();
        std::fs::write(d.path().join(".git/HEAD"), "x").unwrap();
        std::fs::write(d.path().join(".well-known/security.txt"), "x").unwrap();
        let keys: Vec<String> = list_files(d.path())
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [".well-known/security.txt", "assets/img/a.png", "index.html"]
        );
    }
}
