//! `tresor audit verify`.

use super::*;
use clap::Subcommand;
use serde_json::json;
use tresor::audit::ChainTip;

/// `tresor audit …`.
#[derive(Subcommand, Debug)]
pub(crate) enum AuditCmd {
    /// Verify the hash chain of a KMS audit log (and its rolled files `<file>.<yyyy-MM-dd>`):
    /// exit 0 if intact, 2 naming the first edited, removed or reordered line. Prints the last line's
    /// tip (`<seq>:<chain>`): keep it elsewhere and pass it to --expect-tip next time to detect lines
    /// cut from the end of the log.
    Verify {
        /// The audit log file.
        file: PathBuf,
        /// A tip printed by an earlier `audit verify` (`<seq>:<chain>`): the log must still hold that
        /// line, unchanged (a log cut short, or rewritten from some line on, fails).
        #[arg(long, value_name = "SEQ:CHAIN")]
        expect_tip: Option<String>,
    },
}

pub(crate) fn audit_cmd(ctx: &Ctx, c: AuditCmd) -> Result<(), Failure> {
    let AuditCmd::Verify { file, expect_tip } = c;
    let expected: Option<ChainTip> = expect_tip
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: tresor::Error| fail(format!("--expect-tip: {}", e.message())))?;
    let report = tresor::audit::verify_audit_log_expecting(&file, expected.as_ref())
        .map_err(context("verifying the audit log"))?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "files": report.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "lines": report.lines,
            "intact": report.is_intact(),
            "last_seq": report.tip.map(|t| t.seq),
            "tip": report.tip.map(|t| t.to_string()),
            "expected_tip": expected.map(|t| t.to_string()),
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
                let tip = report
                    .tip
                    .map_or_else(|| "-".to_string(), |t| t.to_string());
                let seq = report
                    .tip
                    .map_or_else(|| "-".to_string(), |t| t.seq.to_string());
                out(&format!(
                    "ok: {} lines, chain intact{}\nlast seq: {seq}\ntip: {tip}\n",
                    report.lines,
                    if expected.is_some() {
                        ", expected tip present"
                    } else {
                        ""
                    }
                ));
            }
            Ok(())
        }
        Some(p) => Err(fail(format!("audit log check failed: {p}"))),
    }
}
