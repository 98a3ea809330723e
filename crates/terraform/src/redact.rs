//! Secret redaction for everything the runner shows: log lines sent to the
//! sink and the lines kept in errors.
//!
//! What counts as a secret: the values of environment variables whose names
//! contain SECRET, TOKEN, PASSWORD or KEY (of this process, of the runner's
//! extra environment and of the workspace's variables), PostgreSQL connection
//! strings and the passwords inside any `scheme://user:password@host` value.
//! Values shorter than [`MIN_SECRET_LEN`] are not redacted (they would blank
//! ordinary words such as `test`). Deliberately not a general secret scanner:
//! it only hides values the runner itself knows.

/// Shorter values are left alone.
pub const MIN_SECRET_LEN: usize = 6;

const MASK: &str = "***";

/// Replaces known secret values by `***`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// Does an environment variable of this name hold a secret?
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["SECRET", "TOKEN", "PASSWORD", "KEY", "PG_CONN_STR"]
        .iter()
        .any(|w| upper.contains(w))
}

/// The password inside `scheme://user:password@host…`, if any.
fn url_password(value: &str) -> Option<&str> {
    let rest = &value[value.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    (!password.is_empty()).then_some(password)
}

impl Redactor {
    /// Collects the secrets among `vars` (name, value) pairs.
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut r = Redactor::default();
        for (name, value) in vars {
            r.add_var(name, value);
        }
        r
    }

    /// Adds one variable: its value when the name says secret, and any URL password.
    pub fn add_var(&mut self, name: &str, value: &str) {
        if is_secret_name(name) {
            self.add_secret(value);
        }
        if let Some(p) = url_password(value) {
            self.add_secret(p);
        }
    }

    /// Adds a value that must never be shown (and the password inside it, when it is a URL).
    pub fn add_secret(&mut self, value: &str) {
        if let Some(p) = url_password(value) {
            self.push(p);
        }
        self.push(value);
    }

    fn push(&mut self, value: &str) {
        if value.len() >= MIN_SECRET_LEN && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_string());
            // Longest first, so a whole connection string is masked before its password.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// The line with every known secret replaced by `***`.
    pub fn redact(&self, line: &str) -> String {
        let mut out = line.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secret_named_vars_and_url_passwords() {
        let r = Redactor::from_vars([
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG"),
            ("GITHUB_TOKEN", "ghp_abcdef123456"),
            ("HOME", "/root/secretive-home"),
            ("DATABASE_URL", "postgres://app:s3cr3t-pw@db:5432/app"),
            ("SHORT_KEY", "abc"),
        ]);
        let line = "key wJalrXUtnFEMI/K7MDENG tok ghp_abcdef123456 home /root/secretive-home \
                    url postgres://app:s3cr3t-pw@db:5432/app pw s3cr3t-pw abc";
        let got = r.redact(line);
        assert_eq!(
            got,
            "key *** tok *** home /root/secretive-home url postgres://app:***@db:5432/app pw *** abc"
        );
    }

    #[test]
    fn a_whole_conn_string_is_masked_before_its_password() {
        let mut r = Redactor::default();
        r.add_secret("postgresql://u:hunter22@127.0.0.1/db?sslmode=disable");
        assert_eq!(
            r.redact("conn=postgresql://u:hunter22@127.0.0.1/db?sslmode=disable; hunter22"),
            "conn=***; ***"
        );
    }

    #[test]
    fn url_password_parsing() {
        assert_eq!(url_password("postgres://u:p@ss@h/db"), Some("p@ss"));
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("https://example.com/a:b@c"), None);
        assert_eq!(url_password("plain"), None);
    }
}
