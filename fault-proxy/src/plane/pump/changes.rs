//! A pump's reaction to its proxy's toxics changing while the connection is
//! open: new toxics apply to data read from then on, removed timing toxics
//! release the data they delay, and a removed timeout closes the connection
//! (every time: see `ToxicSet::timeouts_removed`).

use super::{Piece, Pump};
use crate::plane::stage::Stage;
use crate::plane::ActiveToxic;
use std::sync::Arc;
use tokio::time::Instant;

impl Pump {
    /// Brings the chain in line with the proxy's toxics for this direction;
    /// true when a timeout toxic was removed since the last look, which
    /// closes the connection.
    pub(super) fn apply_toxics(&mut self) -> bool {
        let set = Arc::clone(&self.toxics.borrow_and_update());
        // Toxiproxy's timeout toxic closes its stream when it is removed (its
        // cleanup), whether or not its toxicity draw hit this connection. The
        // count catches a removal even when the toxic came and went between
        // two looks, where the lists alone show nothing changed.
        let removed = set.timeouts_removed(self.stream);
        let seen = self.timeouts_seen.replace(removed);
        if seen.is_some_and(|seen| removed > seen) {
            return true;
        }
        let all = set.direction(self.stream);
        // HTTP toxics act in the HTTP front, never on the bytes here.
        let wanted: Vec<&ActiveToxic> = all.iter().filter(|t| !t.toxic.kind.is_http()).collect();
        if wanted.len() == self.chain.len()
            && wanted.iter().zip(&self.chain).all(|(w, s)| w.id == s.id)
        {
            return false;
        }
        let now = Instant::now();
        let mut old = std::mem::take(&mut self.chain);
        let mut retime = false;
        for toxic in wanted.iter().copied() {
            if let Some(pos) = old.iter().position(|s| s.id == toxic.id) {
                self.chain.push(old.remove(pos));
                continue;
            }
            let mut stage = Stage::new(
                toxic.id,
                &toxic.toxic.name,
                toxic.toxic.kind.clone(),
                toxic.toxic.toxicity,
                now,
            );
            // An update keeps per-connection state (bytes already let through).
            if let Some(pos) = old.iter().position(|s| s.name == stage.name) {
                let prev = old.remove(pos);
                if prev.kind.type_name() == stage.kind.type_name() {
                    stage.sent = prev.sent;
                }
                retime |= prev.active && prev.is_timing();
            }
            self.chain.push(stage);
        }
        // Whatever is left in `old` was removed.
        retime |= old.iter().any(|s| s.active && s.is_timing());
        if retime {
            self.retime(now);
        }
        false
    }

    /// Recomputes when queued data leaves after a timing toxic went away, from
    /// each chunk's arrival through the toxics that remain.
    fn retime(&mut self, now: Instant) {
        let mut timing: Vec<Stage> = self
            .chain
            .iter()
            .filter(|s| s.active && s.is_timing())
            .cloned()
            .collect();
        for stage in &mut timing {
            stage.busy_until = Some(now);
        }
        let slow_close = self.slow_close();
        let old = std::mem::take(&mut self.queue);
        for piece in old {
            match piece {
                Piece::Data { arrival, bytes, .. } => {
                    let mut pieces = vec![(arrival, bytes)];
                    for stage in &mut timing {
                        pieces = stage.time(pieces);
                    }
                    for (due, bytes) in pieces {
                        self.push(Piece::Data {
                            due,
                            arrival,
                            bytes,
                        });
                    }
                }
                Piece::Eof { arrival, .. } => self.push(Piece::Eof {
                    due: arrival + slow_close,
                    arrival,
                }),
                other => self.push(other),
            }
        }
    }
}
