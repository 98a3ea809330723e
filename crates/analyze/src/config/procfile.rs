//! Procfile (`web: …`, `worker: …`, `release: …`): the start commands a
//! Heroku-style platform would run. A `web` line is the most trusted start.

use crate::ctx::Ctx;
use crate::draft::{ev, Draft, Trust};
use autodeploy_core::ServiceKind;

/// Apply `dir/Procfile` to a web draft; returns worker drafts for `worker:`-style lines.
pub fn apply(ctx: &Ctx, draft: &mut Draft) -> Vec<Draft> {
    let mut extra = Vec::new();
    let Some(text) = ctx.read(&draft.dir, "Procfile") else {
        return extra;
    };
    let file = crate::repo::join(&draft.dir, "Procfile");
    for (i, line) in text.lines().enumerate() {
        let Some((proc_name, cmd)) = line.split_once(':') else {
            continue;
        };
        let proc_name = proc_name.trim();
        let cmd = cmd.trim();
        if cmd.is_empty() || proc_name.starts_with('#') {
            continue;
        }
        let line_no = Some(i as u32 + 1);
        match proc_name {
            "web" if draft.kind == ServiceKind::Web => {
                draft.starts.insert(
                    0,
                    crate::draft::Claim {
                        value: cmd.to_string(),
                        trust: Trust::Config,
                        evidence: ev(&file, line_no, format!("web: {cmd}")),
                    },
                );
                if let Some(p) = super::port_in_command(cmd) {
                    draft.port(p, Trust::Config, ev(&file, line_no, format!("web: {cmd}")));
                }
            }
            // The release step (migrations) runs once per deployment, with the web process.
            "release" if draft.kind != ServiceKind::Worker => {
                draft.release = Some(cmd.to_string());
                draft.note("release", ev(&file, line_no, format!("release: {cmd}")));
            }
            "web" => {}
            _ if draft.kind == ServiceKind::Web => {
                let mut w = Draft::new(&draft.dir, draft.language, ServiceKind::Worker);
                w.name = Some(proc_name.to_string());
                w.framework = None;
                w.strength = draft.strength;
                w.has_manifest = draft.has_manifest;
                w.install = draft.install.clone();
                w.package_manager = draft.package_manager.clone();
                w.runtime_version = draft.runtime_version.clone();
                // Same code, same backing services and settings as the web process.
                w.databases = draft.databases.clone();
                w.env = draft.env.clone();
                w.wiring = draft.wiring.clone();
                w.start(
                    cmd,
                    Trust::Config,
                    ev(&file, line_no, format!("{proc_name}: {cmd}")),
                );
                w.note(
                    "kind",
                    ev(&file, line_no, format!("Procfile process `{proc_name}`")),
                );
                extra.push(w);
            }
            _ => {}
        }
    }
    extra
}
