//! Validation of a meter's `[[meter.fault]]` entries: kind, parameters, triggers.

use core::time::Duration;

use toml::Spanned;

use super::parse::Ctx;
use super::raw::RawFault;
use super::values::seconds;
use super::ScenarioError;
use crate::sim::fault::{FaultKind, FaultSpec, Trigger};

pub(super) fn fault(cx: &Ctx<'_>, f: &RawFault, key: &str) -> Result<FaultSpec, ScenarioError> {
    let k = |s: &str| format!("{key}.{s}");
    let name = f.kind.get_ref().as_str();
    // Which parameter keys each kind takes.
    let params: &[&str] = match name {
        "delay" => &["delay_ms"],
        "drop-bytes" | "truncate" => &["count"],
        "flip-bit" => &["bit"],
        "wrong-source" => &["physical"],
        n if FaultKind::NAMES.contains(&n) => &[],
        other => {
            return Err(cx.err(
                &f.kind,
                k("kind"),
                format!(
                    "`{other}` is not a fault: use one of {}",
                    FaultKind::NAMES.join(", ")
                ),
            ))
        }
    };
    let given: [(&str, Option<core::ops::Range<usize>>); 4] = [
        ("delay_ms", f.delay_ms.as_ref().map(Spanned::span)),
        ("count", f.count.as_ref().map(Spanned::span)),
        ("bit", f.bit.as_ref().map(Spanned::span)),
        ("physical", f.physical.as_ref().map(Spanned::span)),
    ];
    for (param, span) in given {
        if let (Some(span), false) = (span, params.contains(&param)) {
            return Err(ScenarioError::at(
                cx.source,
                cx.text,
                span,
                k(param),
                format!("a `{name}` fault takes no `{param}`"),
            ));
        }
    }
    let kind = match name {
        "delay" => {
            let d = f
                .delay_ms
                .as_ref()
                .ok_or_else(|| cx.err(&f.kind, k("delay_ms"), "a delay fault needs `delay_ms`"))?;
            FaultKind::Delay(Duration::from_millis(*d.get_ref()))
        }
        "drop-bytes" => FaultKind::DropBytes {
            count: f.count.as_ref().map_or(1, |c| *c.get_ref()),
        },
        "flip-bit" => FaultKind::FlipBit {
            bit: f.bit.as_ref().map(|b| *b.get_ref()),
        },
        "truncate" => FaultKind::Truncate {
            count: f.count.as_ref().map(|c| *c.get_ref()),
        },
        "silence" => FaultKind::Silence,
        "duplicate" => FaultKind::Duplicate,
        "wrong-source" => FaultKind::WrongSource {
            physical: f.physical.as_ref().map(|p| *p.get_ref()),
        },
        "frmr" => FaultKind::Frmr,
        "refuse-association" => FaultKind::RefuseAssociation,
        _ => FaultKind::RejectPassword,
    };
    let from = f
        .from
        .as_ref()
        .map(|s| seconds(cx, s, &k("from")))
        .transpose()?;
    let until = f
        .until
        .as_ref()
        .map(|s| seconds(cx, s, &k("until")))
        .transpose()?;
    if let (Some(a), Some(b), Some(u)) = (from, until, &f.until) {
        if b <= a {
            return Err(cx.err(u, k("until"), "`until` must be after `from`"));
        }
    }
    if let Some(n) = f.nth.as_ref().filter(|n| *n.get_ref() == 0) {
        return Err(cx.err(n, k("nth"), "occurrences count from 1"));
    }
    if let Some(t) = f.times.as_ref().filter(|t| *t.get_ref() == 0) {
        return Err(cx.err(
            t,
            k("times"),
            "`times` must be 1 or more (leave the fault out instead)",
        ));
    }
    if let Some(p) = f
        .probability
        .as_ref()
        .filter(|p| !(0.0..=1.0).contains(p.get_ref()))
    {
        return Err(cx.err(p, k("probability"), "a probability is 0.0..1.0"));
    }
    Ok(FaultSpec {
        kind,
        trigger: Trigger {
            nth: f.nth.as_ref().map(|n| *n.get_ref()),
            from,
            until,
            probability: f.probability.as_ref().map(|p| *p.get_ref()),
            seed: f.seed.unwrap_or(0),
            times: f.times.as_ref().map(|t| *t.get_ref()),
        },
    })
}
