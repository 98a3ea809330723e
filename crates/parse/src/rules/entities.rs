//! Exact strings the user typed: machine types, domains and repositories.
//!
//! - Machine types are taken only in the providers' exact formats (`t3.small`,
//!   `c6g.2xlarge`, `e2-medium`, `n2-standard-4`, `Standard_B2s`); each format
//!   names its provider. "small", "cheap" or "beefy" set nothing.
//! - Domains come from bare host names with a known TLD and from non-repository
//!   URLs (`https://app.example.com` also asks for https). E-mail addresses,
//!   file names (`app.py`), technology names (`ASP.NET`) and hosting-platform
//!   hosts (`*.herokuapp.com`) are not domains.
//! - A repository is a GitHub/GitLab/Bitbucket/Codeberg address, a `git@…` or
//!   `*.git` URL, or a local path; a bare `github.com/a/b` gets `https://`.
//!
//! What it deliberately is not: a validator of whether the string exists.

use super::text::Doc;
use autodeploy_core::Cloud;

// The machine-type formats, each compiled on first use and tried only on a
// word holding its separator (`.`, `-`, `standard_`).
lazy_regex!(
    aws_type_re,
    r"^[a-z]{1,3}\d[a-z0-9]*(?:-flex)?\.(?:nano|micro|small|medium|large|xlarge|\d{1,2}xlarge|metal(?:-\d+xl)?)$"
);
lazy_regex!(
    gcp_type_re,
    r"^(?:e2|n1|n2|n2d|n4|c2|c2d|c3|c3d|c4|c4a|c4d|t2a|t2d|m1|m2|m3|m4|a2|a3|g2|h3|z3|f1|g1)-(?:standard|highmem|highcpu|megamem|ultramem|highgpu|megagpu|ultragpu|micro|small|medium|custom)(?:-\d+)*$"
);
lazy_regex!(azure_type_re, r"^standard_[a-z]+\d+[a-z0-9_]*$");

/// `key` (a lowercase word) as an exact machine type, canonicalised, with its provider.
pub(crate) fn machine_type(key: &str) -> Option<(String, Cloud)> {
    if key.len() > 40 {
        return None;
    }
    if key.contains('.') && aws_type_re().is_match(key) {
        return Some((key.to_string(), Cloud::Aws));
    }
    if key.contains('-') && gcp_type_re().is_match(key) {
        return Some((key.to_string(), Cloud::Gcp));
    }
    if key.starts_with("standard_") && azure_type_re().is_match(key) {
        // Standard_<FAMILY><rest>: family letters upper case, the rest lower case
        // (Standard_B2s, Standard_D2s_v3, Standard_DS2_v2, Standard_NC6s_v3).
        let rest = &key["standard_".len()..];
        let split = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        return Some((
            format!(
                "Standard_{}{}",
                rest[..split].to_ascii_uppercase(),
                &rest[split..]
            ),
            Cloud::Azure,
        ));
    }
    None
}

/// Machine-type words: (word index, canonical type, provider).
pub(crate) fn machine_types(doc: &Doc) -> Vec<(usize, String, Cloud)> {
    doc.words
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            w.span.is_none() && (w.key.contains('.') || w.key.contains('-') || w.key.contains('_'))
        })
        .filter_map(|(i, w)| machine_type(&w.key).map(|(t, c)| (i, t, c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_types_only() {
        assert_eq!(
            machine_type("t3.small"),
            Some(("t3.small".into(), Cloud::Aws))
        );
        assert_eq!(
            machine_type("c6g.2xlarge"),
            Some(("c6g.2xlarge".into(), Cloud::Aws))
        );
        assert_eq!(
            machine_type("m7i-flex.large"),
            Some(("m7i-flex.large".into(), Cloud::Aws))
        );
        assert_eq!(
            machine_type("n2-standard-4"),
            Some(("n2-standard-4".into(), Cloud::Gcp))
        );
        assert_eq!(
            machine_type("e2-micro"),
            Some(("e2-micro".into(), Cloud::Gcp))
        );
        assert_eq!(
            machine_type("standard_d2s_v3"),
            Some(("Standard_D2s_v3".into(), Cloud::Azure))
        );
        assert_eq!(
            machine_type("standard_ds2_v2"),
            Some(("Standard_DS2_v2".into(), Cloud::Azure))
        );
        for no in [
            "small",
            "t3",
            "3.12",
            "app.py",
            "e2",
            "us-east-1",
            "standard",
            "next.js",
        ] {
            assert_eq!(machine_type(no), None, "{no}");
        }
    }
}
