//! The minijinja environment: every embedded template plus the escaping
//! filters. Built once per process; a template is parsed the first time it
//! is asked for (a plan uses a handful of the ~80), not at start-up.

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
        // Parsing all of them up front cost more than rendering a plan's few.
        env.set_loader(|name| Ok(source(name).map(str::to_string)));
        env
    })
}

/// The embedded source of template `name` (its file name without `.j2`).
fn source(name: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(file, _)| file.strip_suffix(".j2").unwrap_or(file) == name)
        .map(|(_, source)| *source)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::environment();
        for (name, _) in super::TEMPLATES {
            let name = name.strip_suffix(".j2").unwrap_or(name);
            if let Err(e) = env.get_template(name) {
                panic!("template {name} does not parse: {e}");
            }
        }
    }
}
