//! `git agentos mcp`: an MCP server over stdio (rmcp) that lets an agent query the
//! memory vault, add to it, and read the task it is working on, instead of being
//! handed copied context in its prompt.
use crate::memory::Vault;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use serde::Deserialize;
use std::path::PathBuf;

/// The server's name in an `--mcp-config`; Claude Code calls its tools
/// `mcp__agentos__<tool>`.
pub const SERVER_NAME: &str = "agentos";

#[derive(Clone)]
pub struct MemoryServer {
    vault: PathBuf,
    /// The task file and its id, when started for a task.
    task: Option<(String, PathBuf)>,
    /// The repository notes added here come from.
    repo: Option<PathBuf>,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// Words to look for (ranked by BM25 over the notes' text and tags).
    pub query: String,
    /// At most this many notes (default 5).
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AddArgs {
    /// What to remember, in a few sentences.
    pub text: String,
    /// Topics to find it by.
    #[serde(default)]
    pub tags: Vec<String>,
}

fn text(s: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(s)])
}

fn failure(s: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(s)])
}

#[tool_router]
impl MemoryServer {
    pub fn new(vault: PathBuf, task: Option<(String, PathBuf)>, repo: Option<PathBuf>) -> Self {
        MemoryServer {
            vault,
            task,
            repo,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Search the shared memory notes (conventions, decisions, how-tos recorded by people and earlier agents). Returns the best matches, most relevant first."
    )]
    async fn memory_search(&self, Parameters(args): Parameters<SearchArgs>) -> CallToolResult {
        // Read here, on the server's thread, so answers keep the order of the
        // requests: the read cannot block (a note is a regular file, never a
        // link, a FIFO or a device) and stops at 256 KiB a note.
        let notes = match Vault::at(&self.vault).load() {
            Ok((notes, _)) => notes,
            Err(e) => return failure(e.to_string()),
        };
        let hits = super::search::rank(&notes, &args.query);
        let limit = args.limit.unwrap_or(5).clamp(1, 50);
        if hits.is_empty() {
            return text(format!(
                "No note matches `{}` ({} notes in the vault).",
                args.query,
                notes.len()
            ));
        }
        let mut out = String::new();
        for h in hits.iter().take(limit) {
            out.push_str(&format!(
                "## {} (score {:.2}{}{})\n{}\n\n",
                h.note.id,
                h.score,
                if h.note.tags.is_empty() {
                    ""
                } else {
                    ", tags: "
                },
                h.note.tags.join(", "),
                h.note.text
            ));
        }
        text(out.trim_end().to_string())
    }

    #[tool(
        description = "Add a note to the shared memory, for later tasks and other repositories: a convention, a decision, a pitfall. Keep it short and self-contained."
    )]
    async fn memory_add(&self, Parameters(args): Parameters<AddArgs>) -> CallToolResult {
        match Vault::at(&self.vault).add(&args.text, &args.tags, self.repo.as_deref()) {
            Ok(note) => text(format!("Added note {}.", note.id)),
            Err(e) => failure(e.to_string()),
        }
    }

    #[tool(
        description = "Read the task you are working on: its file (title, targets, the paths you may change) and its description."
    )]
    async fn current_task(&self) -> CallToolResult {
        let Some((id, path)) = &self.task else {
            return failure("this server was not started for a task".into());
        };
        // The same checks as for any task file: a regular file (never through a
        // link), UTF-8, at most 1 MiB.
        match crate::task::read_text(path) {
            Ok(body) => text(format!("Task `{id}` ({}):\n\n{body}", path.display())),
            Err(e) => failure(format!("cannot read task `{id}`: {e}")),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for MemoryServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("git-agentos", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Search memory_search before you start; read current_task for your task; add what the next agent should know with memory_add.",
            )
    }
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct McpError(pub(super) String);

/// Serve on stdin/stdout until the client closes it, behind the line framing of
/// [`super::framing`]: every line gets an answer.
pub fn serve(server: MemoryServer) -> Result<(), McpError> {
    use super::framing::{forward_answers, read_requests};
    use tokio::io::AsyncWriteExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| McpError(format!("cannot start the runtime: {e}")))?;
    let served = runtime.block_on(async move {
        let (requests, server_in) = tokio::io::duplex(64 * 1024);
        let (server_out, answers_in) = tokio::io::duplex(64 * 1024);
        let (answers, mut to_stdout) =
            tokio::sync::mpsc::channel::<Vec<u8>>(super::framing::ANSWERS_WAITING);
        let writer = tokio::spawn(async move {
            let mut stdout = tokio::io::stdout();
            while let Some(line) = to_stdout.recv().await {
                stdout.write_all(&line).await?;
                stdout.flush().await?;
            }
            Ok::<(), std::io::Error>(())
        });
        let forward = tokio::spawn(forward_answers(answers_in, answers.clone()));
        let reader = tokio::spawn(read_requests(tokio::io::stdin(), requests, answers));
        // A client that closes before the handshake still gets every answer
        // the framing gave it: the writer is drained below either way.
        let waited = match server.serve((server_in, server_out)).await {
            Ok(running) => running
                .waiting()
                .await
                .map(|_| ())
                .map_err(|e| McpError(format!("MCP server stopped: {e}"))),
            Err(e) => Err(McpError(format!("MCP handshake failed: {e}"))),
        };
        // Everything the server said reaches stdout before we go.
        let _ = forward.await;
        reader.abort();
        let _ = reader.await;
        let written = writer.await;
        waited?;
        match written {
            Ok(Err(e)) => Err(McpError(format!("cannot write to stdout: {e}"))),
            _ => Ok(()),
        }
    });
    // The stdin reader may still wait on a read the client never ends.
    runtime.shutdown_background();
    served
}
