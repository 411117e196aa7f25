//! freeDiv's accuracy claim next to what Dyad measures. freeDiv (Liu et al., J. Computer
//! Research and Development 2024(5)) claims inference accuracy consistent with the
//! unapproximated model once its student is distilled; Dyad measures it on the end-to-end report
//! of a distilled student (`dyad e2e --suite S --weights DIR --format json`): the sentiment
//! probe's accuracy on the teacher's embeddings against the secure student's.
//!
//! The task differs from the paper's (SST-2 on a fine-tuned BERT-base): here it is the probe on
//! all-MiniLM-L6-v2's pooled embeddings, trained on the teacher's. The claim counts as
//! reproduced when the secure student's accuracy is at most [`TOLERANCE_POINTS`] below the
//! teacher's.

use std::path::Path;

use dyad_verify::e2e::E2eReport;
use serde::{Deserialize, Serialize};

/// How far below the teacher's accuracy, in points, still counts as consistent with it.
pub const TOLERANCE_POINTS: f64 = 1.0;

/// The claim, measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyCheck {
    /// Who claims it.
    pub paper: String,
    /// The suite of the distilled student.
    pub suite: String,
    /// Where the measurement comes from.
    pub source: String,
    /// Test sentences the probe was asked about.
    pub test_sentences: usize,
    /// The probe's accuracy on the teacher's embeddings.
    pub teacher: f64,
    /// On the undistilled replacement's (plaintext).
    pub undistilled: f64,
    /// On the distilled student's, in plaintext.
    pub student_plaintext: f64,
    /// On the distilled student's, under 2PC.
    pub student_secure: f64,
    /// Mean pooled-embedding cosine to the teacher: undistilled, plaintext student, secure
    /// student.
    pub cosine_to_teacher: [f64; 3],
    /// Whether the secure student is within [`TOLERANCE_POINTS`] of the teacher.
    pub reproduced: bool,
}

/// The check of the end-to-end report at `path`: refused (the reason) when it is not a distilled
/// freeDiv student's.
pub fn check_report(path: &Path) -> Result<AccuracyCheck, String> {
    let text = crate::read_text(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let report: E2eReport = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not the JSON report of `dyad e2e --format json`: {e}", path.display()))?;
    check(&report, &path.display().to_string())
}

/// The check of `report`, read from `source`.
pub fn check(report: &E2eReport, source: &str) -> Result<AccuracyCheck, String> {
    if !report.suite.starts_with("freediv-") {
        return Err(format!("{source}: suite {} is not a freeDiv student", report.suite));
    }
    let student = report
        .student
        .as_ref()
        .ok_or_else(|| format!("{source}: field student is absent: the run had no --weights"))?;
    let p = &report.probe;
    Ok(AccuracyCheck {
        paper: "freeDiv (JCRD 2024)".into(),
        suite: report.suite.clone(),
        source: source.into(),
        test_sentences: p.test,
        teacher: p.accuracy_plaintext,
        undistilled: student.accuracy_undistilled,
        student_plaintext: student.accuracy_student,
        student_secure: p.accuracy_secure,
        cosine_to_teacher: [student.undistilled_to_teacher.mean, student.student_to_teacher.mean, report.cosine.mean],
        reproduced: 100.0 * (p.accuracy_plaintext - p.accuracy_secure) <= TOLERANCE_POINTS,
    })
}
