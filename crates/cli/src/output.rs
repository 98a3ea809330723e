//! Shared output helpers: JSON printing and mapping typed stage errors to exit codes.

use std::process::ExitCode;

/// Exit code for "nothing deployable was found".
pub const EXIT_NOTHING_FOUND: u8 = 3;
/// Exit code for "the source could not be fetched or read".
pub const EXIT_SOURCE: u8 = 4;

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    println!("{text}");
    Ok(())
}

/// Map an error to the process exit code, looking through the error chain for
/// typed stage errors.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause
            .downcast_ref::<autodeploy_source::SourceError>()
            .is_some()
        {
            return ExitCode::from(EXIT_SOURCE);
        }
        if let Some(
            autodeploy_analyze::AnalyzeError::NothingFound { .. }
            | autodeploy_analyze::AnalyzeError::Empty { .. },
        ) = cause.downcast_ref::<autodeploy_analyze::AnalyzeError>()
        {
            return ExitCode::from(EXIT_NOTHING_FOUND);
        }
    }
    ExitCode::FAILURE
}
