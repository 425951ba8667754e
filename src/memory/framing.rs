//! The line framing in front of the MCP server on stdio, so that every line a
//! client sends gets an answer. rmcp ignores a line that is not JSON and drops an
//! oversize one without a word, which leaves a client waiting forever; here each
//! line of stdin is read (at most [`MAX_LINE`] bytes are kept), a line that is
//! not JSON is answered with a JSON-RPC `-32700` parse error, an oversize one
//! with a `-32600` error that names the limit, and every other line is passed on
//! to rmcp. rmcp's answers and ours reach stdout whole, one line at a time.
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::UnboundedSender;

/// The largest request line accepted, newline excluded.
pub const MAX_LINE: usize = 1024 * 1024;

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

/// A JSON-RPC error answer with no id (the request's id could not be read).
fn error_line(code: i64, message: String) -> Vec<u8> {
    let mut line = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    })
    .to_string()
    .into_bytes();
    line.push(b'\n');
    line
}

/// Read the client's lines from `input`: answer the bad ones on `answers`, pass
/// the good ones to `server`. Returns at the end of the input.
pub async fn read_requests<R, W>(
    input: R,
    mut server: W,
    answers: UnboundedSender<Vec<u8>>,
) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    loop {
        match read_line(&mut input).await? {
            Line::Eof => return Ok(()),
            Line::TooLong(size) => {
                let message = format!(
                    "Invalid Request: the request is {size} bytes, over the 1 MiB limit ({MAX_LINE} bytes) of one line; it was discarded"
                );
                let _ = answers.send(error_line(-32600, message));
            }
            Line::Whole(mut line) => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if let Err(e) = serde_json::from_slice::<serde_json::Value>(&line) {
                    let message = format!("Parse error: the line is not JSON ({e})");
                    let _ = answers.send(error_line(-32700, message));
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
pub async fn forward_answers<R>(output: R, answers: UnboundedSender<Vec<u8>>) -> std::io::Result<()>
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
        if answers.send(line).is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded_and_answered() {
        let mut input: Vec<u8> = b"{\"a\":1}\nnot json\n\n".to_vec();
        input.extend(vec![b'x'; MAX_LINE + 10]);
        input.extend(b"\n[2]");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut passed = Vec::new();
        read_requests(&input[..], &mut passed, tx)
            .await
            .expect("read");
        assert_eq!(passed, b"{\"a\":1}\n[2]\n");
        let first: serde_json::Value =
            serde_json::from_slice(&rx.recv().await.expect("answer")).expect("json");
        assert_eq!(first["error"]["code"], -32700);
        let second: serde_json::Value =
            serde_json::from_slice(&rx.recv().await.expect("answer")).expect("json");
        assert_eq!(second["error"]["code"], -32600);
        assert!(second["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("{} bytes", MAX_LINE + 10))));
    }
}
