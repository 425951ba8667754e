//! The line framing in front of the MCP server on stdio, so that every line a
//! client sends gets an answer. rmcp ignores a line that is not JSON and drops an
//! oversize one without a word, which leaves a client waiting forever; here each
//! line of stdin is read (at most [`MAX_LINE`] bytes are kept), a line that is
//! not JSON is answered with a JSON-RPC `-32700` parse error, an oversize one
//! with a `-32600` error that names the limit, and every other line is passed on
//! to rmcp, unless it is a request JSON-RPC cannot take (`jsonrpc` other than
//! "2.0", no `method`), which is answered with a `-32600` error carrying the
//! request's id. rmcp's answers and ours reach stdout whole, one line at a time,
//! through a channel of [`ANSWERS_WAITING`] lines, so nothing piles up in memory
//! when a client stops reading: an answer with an id waits for room, and the
//! server reads no more meanwhile (backpressure); an error without an id (a line
//! that is not JSON, or too long), which no client can match to a request, is
//! counted instead when no room is left, and one answer says how many there were
//! once there is room again.
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::Sender;

/// The largest request line accepted, newline excluded.
pub const MAX_LINE: usize = 1024 * 1024;

/// How many answers may wait for stdout before the server stops reading.
pub const ANSWERS_WAITING: usize = 64;

/// One line of input.
#[derive(Debug, PartialEq)]
enum Line {
    Whole(Vec<u8>),
    /// Longer than [`MAX_LINE`]; read to its end and dropped.
    TooLong(usize),
    Eof,
}

/// Read one line, keeping at most [`MAX_LINE`] bytes of it.
async fn read_line<R: AsyncBufRead + Unpin>(input: &mut R) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut dropped = 0usize;
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (line.is_empty(), dropped) {
                (true, 0) => Line::Eof,
                (_, 0) => Line::Whole(line),
                (_, n) => Line::TooLong(n),
            });
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let take = newline.map_or(available.len(), |at| at + 1);
        let part = &available[..newline.unwrap_or(take)];
        if dropped > 0 || line.len() + part.len() > MAX_LINE {
            dropped += line.len() + part.len();
            line.clear();
        } else {
            line.extend_from_slice(part);
        }
        input.consume(take);
        if newline.is_some() {
            return Ok(if dropped > 0 {
                Line::TooLong(dropped)
            } else {
                Line::Whole(line)
            });
        }
    }
}

/// A JSON-RPC error answer to the request `id` (null: its id could not be read).
pub(super) fn error_line(code: i64, message: String, id: serde_json::Value) -> Vec<u8> {
    let mut line = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    })
    .to_string()
    .into_bytes();
    line.push(b'\n');
    line
}

/// Why a JSON value is not a message JSON-RPC 2.0 takes, and the id to answer
/// with (a string or a number; null when it has none of those). A request has a
/// string `method`; an answer to a request of the server has `result` or `error`.
/// A batch (an array) is passed on as it is.
pub(super) fn invalid(value: &serde_json::Value) -> Option<(String, serde_json::Value)> {
    let object = value.as_object()?;
    let id = match object.get("id") {
        Some(id @ (serde_json::Value::String(_) | serde_json::Value::Number(_))) => id.clone(),
        _ => serde_json::Value::Null,
    };
    if object.get("jsonrpc").and_then(|v| v.as_str()) != Some("2.0") {
        return Some(("`jsonrpc` must be \"2.0\"".into(), id));
    }
    let answer = object.contains_key("result") || object.contains_key("error");
    match object.get("method") {
        Some(serde_json::Value::String(_)) => {}
        Some(_) => return Some(("`method` must be a string".into(), id)),
        None if answer => {}
        None => return Some(("a request needs a `method`".into(), id)),
    }
    match object.get("id") {
        None | Some(serde_json::Value::String(_) | serde_json::Value::Number(_)) => None,
        Some(serde_json::Value::Null) if answer => None,
        Some(_) => Some(("`id` must be a string or a number".into(), id)),
    }
}

/// Errors without an id that found no room, not yet answered.
struct Merged {
    count: usize,
}

impl Merged {
    fn line(&self) -> Vec<u8> {
        error_line(
            -32700,
            format!(
                "Parse error: {} more lines could not be read as requests (not JSON, or over the limit) while answers waited for the client; this one answer stands for them",
                self.count
            ),
            serde_json::Value::Null,
        )
    }

    /// Answer an error without an id: now if there is room, else counted.
    /// False when nobody takes answers any more.
    fn answer(&mut self, answers: &Sender<Vec<u8>>, line: Vec<u8>) -> bool {
        if self.count > 0 {
            match answers.try_send(self.line()) {
                Ok(()) => self.count = 0,
                Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Closed(_)) => return false,
            }
        }
        match answers.try_send(line) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.count += 1;
                true
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Send the count that is left, waiting for room.
    async fn flush(&mut self, answers: &Sender<Vec<u8>>) -> bool {
        if self.count == 0 {
            return true;
        }
        let sent = answers.send(self.line()).await.is_ok();
        self.count = 0;
        sent
    }
}

/// Read the client's lines from `input`: answer the bad ones on `answers`, pass
/// the good ones to `server`. Returns at the end of the input, or when nobody
/// takes the answers any more.
pub async fn read_requests<R, W>(
    input: R,
    mut server: W,
    answers: Sender<Vec<u8>>,
) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    let mut merged = Merged { count: 0 };
    loop {
        match read_line(&mut input).await? {
            Line::Eof => {
                merged.flush(&answers).await;
                return Ok(());
            }
            Line::TooLong(size) => {
                let message = format!(
                    "Invalid Request: the request is {size} bytes, over the 1 MiB limit ({MAX_LINE} bytes) of one line; it was discarded"
                );
                let line = error_line(-32600, message, serde_json::Value::Null);
                if !merged.answer(&answers, line) {
                    return Ok(());
                }
            }
            Line::Whole(mut line) => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let value = match serde_json::from_slice::<serde_json::Value>(&line) {
                    Ok(value) => value,
                    Err(e) => {
                        let message = format!("Parse error: the line is not JSON ({e})");
                        let line = error_line(-32700, message, serde_json::Value::Null);
                        if !merged.answer(&answers, line) {
                            return Ok(());
                        }
                        continue;
                    }
                };
                if !merged.flush(&answers).await {
                    return Ok(());
                }
                if let Some((why, id)) = invalid(&value) {
                    let line = error_line(-32600, format!("Invalid Request: {why}"), id);
                    if answers.send(line).await.is_err() {
                        return Ok(());
                    }
                    continue;
                }
                line.push(b'\n');
                server.write_all(&line).await?;
                server.flush().await?;
            }
        }
    }
}

/// Pass the server's output on to `answers`, a whole line at a time.
pub async fn forward_answers<R>(output: R, answers: Sender<Vec<u8>>) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
{
    let mut output = BufReader::new(output);
    loop {
        let mut line = Vec::new();
        if output.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        if answers.send(line).await.is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded_and_answered() {
        let request = br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#;
        let mut input: Vec<u8> = request.to_vec();
        input.extend(b"\nnot json\n\n");
        input.extend(vec![b'x'; MAX_LINE + 10]);
        input.extend(b"\n{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"x\"}\n[2]");
        let (tx, mut rx) = tokio::sync::mpsc::channel(ANSWERS_WAITING);
        let mut passed = Vec::new();
        read_requests(&input[..], &mut passed, tx)
            .await
            .expect("read");
        assert_eq!(passed, [&request[..], b"\n[2]\n"].concat());
        let first: serde_json::Value =
            serde_json::from_slice(&rx.recv().await.expect("answer")).expect("json");
        assert_eq!(first["error"]["code"], -32700);
        let second: serde_json::Value =
            serde_json::from_slice(&rx.recv().await.expect("answer")).expect("json");
        assert_eq!(second["error"]["code"], -32600);
        assert!(second["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("{} bytes", MAX_LINE + 10))));
        let third: serde_json::Value =
            serde_json::from_slice(&rx.recv().await.expect("answer")).expect("json");
        assert_eq!(
            (third["id"].clone(), third["error"]["code"].clone()),
            (7.into(), (-32600).into())
        );
    }

    #[tokio::test]
    async fn errors_without_an_id_are_counted_when_no_room_is_left() {
        let input = b"x\n".repeat(100);
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        // The input is always ready: the reader reads it all before it waits,
        // at its end, for room for the count.
        let reader = tokio::spawn(async move { read_requests(&input[..], Vec::new(), tx).await });
        let mut answers = Vec::new();
        while let Some(line) = rx.recv().await {
            answers.push(serde_json::from_slice::<serde_json::Value>(&line).expect("json"));
        }
        reader.await.expect("join").expect("read");
        assert_eq!(answers.len(), 5, "{answers:?}");
        let last = answers[4]["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(last.contains("96 more lines"), "{last}");
    }
}
