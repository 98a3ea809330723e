//! `autodeploy parse TEXT [--json] [--llm PROVIDER] [--model M]`: show what a
//! plain-English request asks for.
//!
//! `TEXT` may be `-` to read the request from stdin. With `--json` stdout holds
//! exactly the Intent contract (15 fields, `null` where the text says
//! nothing); otherwise an "Understood: …" summary that names what was left to
//! defaults. The rules are used unless an LLM is configured (`--llm`, or
//! `AUTODEPLOY_LLM` / `AUTODEPLOY_LLM_BASE_URL`; keys from `OPENAI_API_KEY` /
//! `ANTHROPIC_API_KEY`); when the LLM fails, the reason goes to stderr and
//! the rule-based result is printed.
//!
//! This file only wires arguments, environment and output; the behaviour
//! lives in `autodeploy-parse`.

use anyhow::Context;
use autodeploy_parse::{parse_with, summarize, LlmSettings, Method, ParseOptions};
use autodeploy_render::escape::display;
use clap::Args;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ParseArgs {
    /// The request, in plain English (`-` reads it from stdin).
    pub text: String,
    /// Print the Intent as JSON (exactly the contract fields).
    #[arg(long)]
    pub json: bool,
    /// Also ask an LLM: openai, anthropic, openai-compatible (Ollama), or none.
    /// Defaults to $AUTODEPLOY_LLM; without it the rule-based parser is used.
    #[arg(long, value_name = "PROVIDER", env = "AUTODEPLOY_LLM")]
    pub llm: Option<String>,
    /// Model name for the LLM (default: $AUTODEPLOY_LLM_MODEL, else the provider's).
    #[arg(long, value_name = "M", env = "AUTODEPLOY_LLM_MODEL")]
    pub model: Option<String>,
}

/// Where validated LLM answers are cached: `$AUTODEPLOY_HOME/cache/llm`, else
/// `~/.cache/autodeploy/llm`.
fn cache_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let non_empty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let Some(home) = non_empty("AUTODEPLOY_HOME") {
        return Some(PathBuf::from(home).join("cache").join("llm"));
    }
    non_empty("HOME").map(|h| {
        PathBuf::from(h)
            .join(".cache")
            .join("autodeploy")
            .join("llm")
    })
}

/// The request from the argument (`-`: stdin), refused when empty or too
/// long with the API's words and code (`autodeploy_parse::check_request`).
pub fn read_text(arg: &str) -> anyhow::Result<String> {
    let text = read_raw(arg)?;
    autodeploy_parse::check_request(&text)?;
    Ok(text)
}

fn read_raw(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("could not read the request from stdin")?;
    String::from_utf8(bytes).map_err(|_| {
        crate::error::CliError::invalid(
            "the request on stdin is not UTF-8 text",
            Some("pass it as UTF-8"),
        )
        .into()
    })
}

/// Parse a request the way every command does: rules, plus the LLM when one
/// is configured; a fallback notice goes to stderr.
pub fn understand(
    text: &str,
    llm: Option<&str>,
    model: Option<&str>,
) -> anyhow::Result<autodeploy_parse::ParseOutcome> {
    let env = |k: &str| std::env::var(k).ok();
    let llm = LlmSettings::resolve(llm, model, &env).context("the LLM settings are invalid")?;
    let options = ParseOptions {
        cache_dir: llm.as_ref().and_then(|_| cache_dir(&env)),
        llm,
    };
    let out = parse_with(text, &options);
    if let Some(notice) = out.fallback_notice() {
        errln!("warning: {}", display(&notice));
    }
    Ok(out)
}

pub fn run(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let text = read_text(&args.text)?;
    let out = understand(&text, args.llm.as_deref(), args.model.as_deref())?;
    if args.json {
        crate::output::print_json(&out.intent)?;
        return Ok(ExitCode::SUCCESS);
    }
    for line in summarize(&out.intent).lines() {
        outln!("{}", display(line));
    }
    if let Method::Llm {
        provider,
        model,
        cached,
    } = &out.method
    {
        outln!("Read by the rules and {provider} ({model}{}); model values the text does not support were dropped.", if *cached { ", cached answer" } else { "" });
    }
    for note in &out.notes {
        outln!("Note: {}", display(note));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_dir_prefers_autodeploy_home() {
        let env = |k: &str| match k {
            "AUTODEPLOY_HOME" => Some("/srv/ad".to_string()),
            "HOME" => Some("/home/me".to_string()),
            _ => None,
        };
        assert_eq!(cache_dir(&env), Some(PathBuf::from("/srv/ad/cache/llm")));
        let env = |k: &str| (k == "HOME").then(|| "/home/me".to_string());
        assert_eq!(
            cache_dir(&env),
            Some(PathBuf::from("/home/me/.cache/autodeploy/llm"))
        );
        assert_eq!(cache_dir(&|_: &str| None), None);
    }
}
