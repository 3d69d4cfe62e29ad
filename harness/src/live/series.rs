//! The target's series as the dashboard shows them while the run goes: the
//! scraper's listener appends each scrape (on the scraper's own thread), the
//! once-a-second snapshot reads them. The report's series come from the
//! scraper's own result, not from here.

use super::snapshot::ServerSeries;
use crate::scrape::{show_labels, Listener, TickPoint};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The series scraped so far in this run, by title (`backlog{station="grill"}`).
#[derive(Clone, Default)]
pub(crate) struct LiveSeries(Arc<Mutex<BTreeMap<String, ServerSeries>>>);

impl LiveSeries {
    /// What the scraper calls after each scrape, with seconds since the load began.
    pub(crate) fn listener(&self) -> Listener {
        let store = self.clone();
        Arc::new(move |t_s: f64, points: &[TickPoint]| store.add(t_s, points))
    }

    fn add(&self, t_s: f64, points: &[TickPoint]) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let t = t_s.max(0.0).round() as u32;
        for p in points {
            let title = match p.labels.is_empty() {
                true => p.name.clone(),
                false => format!("{}{}", p.name, show_labels(&p.labels)),
            };
            let series = all.entry(title.clone()).or_insert_with(|| ServerSeries {
                name: title,
                t_s: Vec::new(),
                values: Vec::new(),
            });
            series.t_s.push(t);
            series.values.push(p.value.is_finite().then_some(p.value));
        }
    }

    /// Every series so far, in title order.
    pub(crate) fn snapshot(&self) -> Vec<ServerSeries> {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::Labels;

    fn point(name: &str, station: Option<&str>, value: f64) -> TickPoint {
        let mut labels = Labels::new();
        if let Some(s) = station {
            labels.insert("station".into(), s.into());
        }
        TickPoint {
            name: name.into(),
            labels,
            kind: crate::scrape::SeriesKind::Gauge,
            value,
        }
    }

    #[test]
    fn each_scrape_adds_a_point_to_its_series_by_label_set() {
        let live = LiveSeries::default();
        let listen = live.listener();
        listen(
            1.0,
            &[point("backlog", Some("grill"), 3.0), point("up", None, 1.0)],
        );
        listen(2.0, &[point("backlog", Some("grill"), 7.0)]);
        let s = live.snapshot();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "backlog{station=\"grill\"}");
        assert_eq!(s[0].t_s, vec![1, 2]);
        assert_eq!(s[0].values, vec![Some(3.0), Some(7.0)]);
        assert_eq!(s[1].name, "up");
        assert_eq!(s[1].values, vec![Some(1.0)]);
    }
}
