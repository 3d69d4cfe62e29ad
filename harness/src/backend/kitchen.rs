//! The server's own kitchen counts, read from the `/metrics` text a run keeps at its end, as notes
//! for the report: what each station shed (503), made, and re-queued after a worker went offline,
//! and the dead letters. A target without kitchen stations gives no note.

/// One note per station that has anything to say, and one for dead letters if there are any.
pub(crate) fn kitchen_notes(prometheus: &str) -> Vec<String> {
    let mut stations: Vec<(String, [u64; 3])> = Vec::new();
    let mut dead_letters = 0;
    for line in prometheus.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let value = value.parse::<f64>().unwrap_or(0.0) as u64;
        if series == "kitchen_dead_letters_total" {
            dead_letters = value;
            continue;
        }
        let Some((metric, labels)) = series.split_once('{') else {
            continue;
        };
        let column = match metric {
            "kitchen_station_shed_total" => 0,
            "kitchen_station_ready_total" => 1,
            "kitchen_station_requeued_total" => 2,
            _ => continue,
        };
        let Some(station) = labels
            .strip_prefix("station=\"")
            .and_then(|l| l.split('"').next())
        else {
            continue;
        };
        match stations.iter_mut().find(|(name, _)| name == station) {
            Some((_, counts)) => counts[column] = value,
            None => {
                let mut counts = [0; 3];
                counts[column] = value;
                stations.push((station.to_string(), counts));
            }
        }
    }
    let mut notes: Vec<String> = stations
        .into_iter()
        .map(|(name, [shed, ready, requeued])| {
            format!(
                "server kitchen, station {name}: {ready} orders made, {shed} shed with 503, \
                 {requeued} re-queued after their worker went offline"
            )
        })
        .collect();
    if dead_letters > 0 {
        notes.push(format!(
            "server kitchen: {dead_letters} orders moved to the dead-letter table"
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_station_gets_a_note_with_its_shed_made_and_requeued_counts() {
        let text = "# HELP x y\nkitchen_station_shed_total{station=\"grill\"} 12\n\
                    kitchen_station_ready_total{station=\"grill\"} 30\n\
                    kitchen_station_requeued_total{station=\"grill\"} 2\n\
                    kitchen_station_shed_total{station=\"counter\"} 0\n\
                    kitchen_dead_letters_total 1\nhttp_requests_total{route=\"/x\"} 5\n";
        let notes = kitchen_notes(text);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("grill: 30 orders made, 12 shed with 503, 2 re-queued"));
        assert!(notes[1].contains("counter: 0 orders made, 0 shed"));
        assert!(notes[2].contains("1 orders moved to the dead-letter table"));
        assert!(kitchen_notes("http_requests_total 3\n").is_empty());
    }
}
