//! The kitchen's layout as configured: the kinds of order that stations
//! specialise by (`Kind`) and each station's spec (`StationSpec`, from
//! `--stations` or the default layout). Passive values, below both the
//! configuration that reads them and the kitchen that runs them.

use crate::domain::OrderType;

/// The kind of an order, as stations are specialised by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DineIn,
    Takeout,
    Delivery,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::DineIn, Kind::Takeout, Kind::Delivery];

    pub(crate) fn of(order_type: &OrderType) -> Kind {
        match order_type {
            OrderType::DineIn { .. } => Kind::DineIn,
            OrderType::Takeout => Kind::Takeout,
            OrderType::Delivery { .. } => Kind::Delivery,
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DineIn => "dine_in",
            Kind::Takeout => "takeout",
            Kind::Delivery => "delivery",
        }
    }
}

/// One station as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationSpec {
    pub name: String,
    pub kinds: Vec<Kind>,
    pub workers: usize,
    pub backlog: usize,
}

impl StationSpec {
    /// A grill for dine-in, a counter for takeout and a packing line for delivery.
    pub fn default_layout(workers: usize, backlog: usize) -> Vec<StationSpec> {
        [
            ("grill", Kind::DineIn),
            ("counter", Kind::Takeout),
            ("packing", Kind::Delivery),
        ]
        .into_iter()
        .map(|(name, kind)| StationSpec {
            name: name.into(),
            kinds: vec![kind],
            workers,
            backlog,
        })
        .collect()
    }

    /// Parses `name:kinds:workers:backlog,...`; every kind must be taken by some station.
    pub fn parse_list(spec: &str) -> Result<Vec<StationSpec>, String> {
        let mut stations: Vec<StationSpec> = Vec::new();
        for (i, part) in spec.split(',').map(str::trim).enumerate() {
            let at = format!("station {} (`{part}`)", i + 1);
            let fields: Vec<&str> = part.split(':').collect();
            let [name, kinds, workers, backlog] = fields[..] else {
                return Err(format!("{at}: expected name:kinds:workers:backlog"));
            };
            let valid_name = !name.is_empty()
                && name.len() <= 32
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_name {
                return Err(format!(
                    "{at}: the name must be 1 to 32 of a-z, 0-9 and `-`"
                ));
            }
            if stations.iter().any(|s| s.name == name) {
                return Err(format!("{at}: the name `{name}` is used twice"));
            }
            let kinds = kinds
                .split('+')
                .map(|k| {
                    Kind::parse(k).ok_or_else(|| {
                        format!("{at}: unknown kind `{k}` (dine_in, takeout or delivery)")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let count = |raw: &str, what: &str| match raw.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!("{at}: {what} must be a whole number of at least 1")),
            };
            stations.push(StationSpec {
                name: name.into(),
                kinds,
                workers: count(workers, "workers")?,
                backlog: count(backlog, "backlog")?,
            });
        }
        if let Some(kind) = Kind::ALL
            .into_iter()
            .find(|k| !stations.iter().any(|s| s.kinds.contains(k)))
        {
            return Err(format!("no station takes `{}` orders", kind.as_str()));
        }
        Ok(stations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_station_list_parses_with_several_kinds_per_station() {
        let stations =
            StationSpec::parse_list("grill:dine_in:4:500,counter:takeout+delivery:8:900").unwrap();
        assert_eq!(stations.len(), 2);
        assert_eq!(stations[1].kinds, vec![Kind::Takeout, Kind::Delivery]);
        assert_eq!((stations[1].workers, stations[1].backlog), (8, 900));
    }

    #[test]
    fn a_bad_station_list_names_the_station_and_the_problem() {
        let e = StationSpec::parse_list("grill:dine_in:4:500,bar:drinks:2:10").unwrap_err();
        assert!(e.contains("station 2") && e.contains("`drinks`"), "{e}");
        let e = StationSpec::parse_list("grill:dine_in:0:500").unwrap_err();
        assert!(e.contains("workers"), "{e}");
        let e = StationSpec::parse_list("grill:dine_in+takeout:2:5").unwrap_err();
        assert!(e.contains("`delivery`"), "{e}");
    }
}
