//! The minijinja environment: every embedded template plus the escaping
//! filters. Built once per process.

use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// The shared environment (templates + filters), built on first use.
pub fn environment() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        // No auto-escaping: every value goes through an explicit filter for its language.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        crate::escape::register(&mut env);
        for (name, source) in TEMPLATES {
            let name = name.strip_suffix(".j2").unwrap_or(name);
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
        }
        env
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::environment();
        for (name, _) in super::TEMPLATES {
            let name = name.strip_suffix(".j2").unwrap_or(name);
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
