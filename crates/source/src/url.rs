//! Just enough URL handling for git remotes: find the scheme and host, strip
//! credentials for display, and redact secrets from free text.
//!
//! Deliberately not a general URL parser: git itself interprets the URL; we
//! only need the host (to scope tokens) and a safe way to show it.

/// Scheme (lowercase) of `scheme://…`, if the text starts with one.
pub(crate) fn scheme(s: &str) -> Option<String> {
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        Some(scheme.to_ascii_lowercase())
    } else {
        None
    }
}

/// The authority part (`user@host:port`) of `scheme://authority/path`.
fn authority(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(""))
}

/// Host of a `scheme://` URL, lowercase, without credentials or port.
pub(crate) fn host(url: &str) -> Option<String> {
    let auth = authority(url)?;
    let h = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        h.split(':').next().unwrap_or("")
    };
    if h.is_empty() {
        None
    } else {
        Some(h.to_ascii_lowercase())
    }
}

/// `scheme://host[:port]/` with no credentials: the prefix git's
/// `http.<url>.*` config matches on.
pub(crate) fn origin(url: &str) -> Option<String> {
    let s = scheme(url)?;
    let auth = authority(url)?;
    let hostport = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    Some(format!("{s}://{hostport}/"))
}

/// Whether `host` is this machine.
pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// Replace the credentials of every `scheme://user:pass@host` in `text` with
/// `***`, keeping the rest. Safe on arbitrary text (git's stderr). A bare
/// user name is kept for ssh-like schemes (`ssh://git@host`), where it is
/// never a secret, and replaced for http(s), where it often is a token.
pub(crate) fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace, quote or end.
        let end = tail
            .find(|c: char| {
                c == '/' || c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '<' | '>')
            })
            .unwrap_or(tail.len());
        let auth = &tail[..end];
        let scheme: String = head[..pos]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let scheme = scheme.to_ascii_lowercase();
        match auth.rfind('@') {
            Some(at) if auth[..at].contains(':') || scheme.starts_with("http") => {
                out.push_str("***");
                out.push_str(&auth[at..]);
            }
            _ => out.push_str(auth),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_host() {
        assert_eq!(scheme("HTTPS://x/y").as_deref(), Some("https"));
        assert_eq!(scheme("git+ssh://x").as_deref(), Some("git+ssh"));
        assert_eq!(scheme("/abs/path"), None);
        assert_eq!(scheme("1x://y"), None);
        assert_eq!(
            host("https://u:p@GitHub.com:443/o/r").as_deref(),
            Some("github.com")
        );
        assert_eq!(host("http://[::1]:8080/r").as_deref(), Some("::1"));
        assert_eq!(host("file:///tmp/x"), None);
        assert_eq!(
            origin("https://tok@github.com/o/r.git").as_deref(),
            Some("https://github.com/")
        );
        assert_eq!(
            origin("http://127.0.0.1:999/o").as_deref(),
            Some("http://127.0.0.1:999/")
        );
    }

    #[test]
    fn redacts_credentials_in_text() {
        assert_eq!(
            redact_userinfo("fatal: unable to access 'https://user:s3cret@github.com/o/r/': 401"),
            "fatal: unable to access 'https://***@github.com/o/r/': 401"
        );
        assert_eq!(
            redact_userinfo("https://ghp_abc@h/x and ssh://git@h:22/y"),
            "https://***@h/x and ssh://git@h:22/y"
        );
        assert_eq!(redact_userinfo("ssh://u:pw@h/y"), "ssh://***@h/y");
        assert_eq!(redact_userinfo("no urls here"), "no urls here");
        assert_eq!(redact_userinfo("trailing ://"), "trailing ://");
    }
}
