//! `tresor audit verify`.

use super::*;
use clap::Subcommand;
use serde_json::json;

/// `tresor audit …`.
#[derive(Subcommand, Debug)]
pub(crate) enum AuditCmd {
    /// Verify the hash chain of a KMS audit log (and its rolled files `<file>.<yyyy-MM-dd>`):
    /// exit 0 if intact, 2 naming the first edited, removed or reordered line.
    Verify {
        /// The audit log file.
        file: PathBuf,
    },
}

pub(crate) fn audit_cmd(ctx: &Ctx, c: AuditCmd) -> Result<(), Failure> {
    let AuditCmd::Verify { file } = c;
    let report =
        tresor::audit::verify_audit_log(&file).map_err(context("verifying the audit log"))?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "files": report.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "lines": report.lines,
            "intact": report.is_intact(),
            "problem": report.problem.as_ref().map(|p| json!({
                "file": p.file.display().to_string(),
                "line": p.line,
                "kind": p.kind.to_string(),
                "detail": p.detail,
            })),
        }));
    }
    match report.problem {
        None => {
            if !ctx.ui.json {
                out(&format!("ok: {} lines, chain intact\n", report.lines));
            }
            Ok(())
        }
        Some(p) => Err(fail(format!("audit log check failed: {p}"))),
    }
}
