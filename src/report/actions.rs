//! The "what to do now" box: one action per abnormal condition, most severe first, and
//! whether the findings call for a site visit.

use crate::codes::{Category, Severity, SiteVisit, StatusInfo};

/// One thing to do, for one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub severity: Severity,
    pub category: Category,
    /// What was found, e.g. "Operating status 1015: Magnetic field interference (tamper)".
    pub finding: String,
    /// What to do about it (the lookup core's field action, with site overrides).
    pub action: String,
    pub site_visit: SiteVisit,
}

/// The box at the top of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatToDo {
    /// The strongest site-visit need of all actions.
    pub visit: SiteVisit,
    /// One line: the verdict.
    pub headline: String,
    /// Most severe first.
    pub actions: Vec<Action>,
    /// Anything the technician must know about the completeness of the read.
    pub note: Option<String>,
}

fn visit_rank(v: SiteVisit) -> u8 {
    match v {
        SiteVisit::No => 0,
        SiteVisit::IfUnresolved => 1,
        SiteVisit::Yes => 2,
    }
}

impl WhatToDo {
    /// Sort `actions` (most severe, then most in need of a visit, first) and state the
    /// verdict.
    pub fn new(mut actions: Vec<Action>, note: Option<String>) -> Self {
        actions.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(visit_rank(b.site_visit).cmp(&visit_rank(a.site_visit)))
        });
        let visit = actions
            .iter()
            .map(|a| a.site_visit)
            .max_by_key(|v| visit_rank(*v))
            .unwrap_or(SiteVisit::No);
        let headline = match (visit, actions.is_empty()) {
            // A note says the read is incomplete: "nothing found" is all one can say.
            (_, true) if note.is_some() => {
                "Nothing abnormal found in what was read: see the note below."
            }
            (_, true) => "Nothing abnormal found: no action needed.",
            (SiteVisit::Yes, _) => "Site visit needed.",
            (SiteVisit::IfUnresolved, _) => {
                "Try to resolve it remotely first; visit the meter if that does not work."
            }
            (SiteVisit::No, _) => "No site visit needed: follow the actions below.",
        }
        .to_owned();
        WhatToDo {
            visit,
            headline,
            actions,
            note,
        }
    }
}

/// The action for a decoded status or relay reason, unless it is the normal state or a
/// code the mode ignores.
pub fn for_status(finding: String, info: &StatusInfo) -> Option<Action> {
    if (info.known && info.category == Category::Normal) || !info.relevant {
        return None;
    }
    Some(Action {
        severity: info.severity,
        category: info.category,
        finding,
        action: info.action.clone(),
        site_visit: info.site_visit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{Lookup, Mode, OperatingStatus};

    fn action(severity: Severity, visit: SiteVisit, finding: &str) -> Action {
        Action {
            severity,
            category: Category::Unknown,
            finding: finding.into(),
            action: String::new(),
            site_visit: visit,
        }
    }

    #[test]
    fn most_severe_first_and_the_strongest_visit_wins() {
        let w = WhatToDo::new(
            vec![
                action(Severity::Low, SiteVisit::No, "low"),
                action(Severity::Critical, SiteVisit::Yes, "crit"),
                action(Severity::Medium, SiteVisit::No, "medium, remote"),
                action(Severity::Medium, SiteVisit::IfUnresolved, "medium, visit"),
            ],
            None,
        );
        let order: Vec<&str> = w.actions.iter().map(|a| a.finding.as_str()).collect();
        assert_eq!(order, ["crit", "medium, visit", "medium, remote", "low"]);
        assert_eq!(w.visit, SiteVisit::Yes);
        assert_eq!(w.headline, "Site visit needed.");
        let calm = WhatToDo::new(vec![], None);
        assert_eq!(calm.visit, SiteVisit::No);
        assert!(calm.headline.starts_with("Nothing abnormal"));
    }

    #[test]
    fn normal_and_inapplicable_statuses_need_nothing() {
        let l = Lookup::builtin();
        let normal = l.status(OperatingStatus(1000), Mode::Postpaid);
        assert!(for_status("s".into(), &normal).is_none());
        let credit = l.status(OperatingStatus(1001), Mode::Postpaid);
        assert!(for_status("s".into(), &credit).is_none());
        let credit = l.status(OperatingStatus(1001), Mode::Prepaid);
        assert!(for_status("s".into(), &credit).is_some());
        let unknown = l.status(OperatingStatus(1019), Mode::Postpaid);
        let a = for_status("s".into(), &unknown).unwrap();
        assert_eq!(a.category, Category::Unknown);
        let magnet = l.status(OperatingStatus(1015), Mode::Postpaid);
        let a = for_status("s".into(), &magnet).unwrap();
        assert_eq!(
            (a.severity, a.site_visit),
            (Severity::Critical, SiteVisit::Yes)
        );
    }
}
