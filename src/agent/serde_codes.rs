//! Reading back the lookup core's types from the agent's stored JSON.
//!
//! `codes` serializes its types but (being a pure display layer) does not deserialize
//! them; the store needs both. Each helper accepts exactly what `codes` writes, found
//! by serializing the candidates, so the two cannot drift apart. No I/O here.

use crate::codes::{Category, OperatingStatus, SiteVisit};
use serde::de::{Deserializer, Error};
use serde::{Deserialize, Serialize, Serializer};

/// Every site-visit value; the match makes a new variant a compile error here.
fn all_site_visits() -> [SiteVisit; 3] {
    let all = [SiteVisit::No, SiteVisit::IfUnresolved, SiteVisit::Yes];
    for v in all {
        match v {
            SiteVisit::No | SiteVisit::IfUnresolved | SiteVisit::Yes => {}
        }
    }
    all
}

fn by_wire_name<'de, D, T>(d: D, candidates: &[T], what: &str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Serialize + Copy,
{
    let name = String::deserialize(d)?;
    candidates
        .iter()
        .copied()
        .find(|c| {
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(|s| s == name))
                == Some(true)
        })
        .ok_or_else(|| D::Error::custom(format!("unknown {what} `{name}`")))
}

pub mod category {
    use super::*;

    #[allow(dead_code)] // the pair is what `#[serde(with)]` expects
    pub fn serialize<S: Serializer>(c: &Category, s: S) -> Result<S::Ok, S::Error> {
        c.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Category, D::Error> {
        by_wire_name(d, &Category::ALL, "category")
    }
}

pub mod site_visit {
    use super::*;

    pub fn serialize<S: Serializer>(v: &SiteVisit, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SiteVisit, D::Error> {
        by_wire_name(d, &all_site_visits(), "site visit")
    }
}

pub mod opt_status {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<OperatingStatus>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OperatingStatus>, D::Error> {
        Ok(Option::<u32>::deserialize(d)?.map(OperatingStatus))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Probe {
        #[serde(with = "category")]
        c: Category,
        #[serde(with = "site_visit")]
        v: SiteVisit,
        #[serde(with = "opt_status")]
        s: Option<OperatingStatus>,
    }

    #[test]
    fn every_category_and_site_visit_round_trips() {
        for c in Category::ALL {
            for v in all_site_visits() {
                let p = Probe {
                    c,
                    v,
                    s: Some(OperatingStatus(1008)),
                };
                let json = serde_json::to_string(&p).unwrap();
                assert_eq!(serde_json::from_str::<Probe>(&json).unwrap(), p, "{json}");
            }
        }
    }

    #[test]
    fn unknown_names_are_errors_that_name_the_value() {
        let err = serde_json::from_str::<Probe>(r#"{"c":"weird","v":"no","s":null}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown category `weird`"),
            "{err}"
        );
    }
}
