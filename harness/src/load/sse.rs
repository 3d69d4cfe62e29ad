//! The `until_event` wait: read an answer as Server-Sent Events until one event's JSON data has
//! the awaited value at its pointer. Only the data of the matching event is kept; a stream that
//! ends, runs past its deadline, or sends an event larger than `MAX_EVENT` without a match gives
//! nothing (the step then counts as an error, like a poll that runs out).

use crate::scenario::UntilEvent;
use tokio::time::Instant;

/// Largest event read; a bigger one is not what a status stream sends, and the wait gives up.
const MAX_EVENT: usize = 1 << 20;

/// The JSON data of the first matching event, or empty when none came before `deadline`.
pub(super) async fn first_match(
    mut response: reqwest::Response,
    wait: &UntilEvent,
    deadline: Instant,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_elapsed) => return Ok(Vec::new()),
            Ok(read) => match read? {
                Some(chunk) => chunk,
                None => return Ok(Vec::new()),
            },
        };
        pending.extend_from_slice(&chunk);
        while let Some(end) = event_end(&pending) {
            let block: Vec<u8> = pending.drain(..end).collect();
            if let Some(data) = data_of(&block).filter(|d| matches(d, wait)) {
                return Ok(data);
            }
        }
        if pending.len() > MAX_EVENT {
            return Ok(Vec::new());
        }
    }
}

/// Where the first complete event ends (after its blank line), `\n\n` or `\r\n\r\n`.
fn event_end(buffer: &[u8]) -> Option<usize> {
    let lf = buffer.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The `data:` lines of one event joined by newlines, as the SSE format says; `None` without any.
fn data_of(block: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(block).ok()?;
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n").into_bytes())
}

fn matches(data: &[u8], wait: &UntilEvent) -> bool {
    serde_json::from_slice::<serde_json::Value>(data)
        .is_ok_and(|v| v.pointer(&wait.pointer) == Some(&wait.equals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_its_data_lines_and_ends_at_a_blank_line() {
        let stream = b"id: 4\nevent: message\ndata: {\"status\":\ndata:\"ready\"}\n\nid: 5";
        let end = event_end(stream).unwrap();
        assert_eq!(&stream[end..], b"id: 5");
        let data = data_of(&stream[..end]).unwrap();
        let wait = UntilEvent {
            pointer: "/status".into(),
            equals: serde_json::json!("ready"),
            timeout: std::time::Duration::from_secs(1),
        };
        assert!(matches(&data, &wait));
        assert_eq!(data_of(b": keep-alive\n\n"), None);
        assert_eq!(event_end(b"data: 1\r\n\r\n"), Some(11));
    }
}
