//! The Python nodes' workers: child interpreters running the shipped runner (`runner.py`,
//! embedded), each serving one call at a time over JSON lines on its stdin and a private copy
//! of its stdout. A pool per interpreter and flow folder keeps at most `size` of them and
//! reuses them across calls, so a batch of many rows starts at most `size` interpreters.
//! A call whose future is dropped (the node's timeout, a cancelled run) kills its child
//! (`kill_on_drop`), and the pool starts a fresh one for the next call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

/// The worker script; it reads secrets only from its stdin.
const RUNNER: &str = include_str!("runner.py");

/// Why a Python call failed. Messages say what to do; the caller masks secrets in them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PythonError {
    #[error(
        "cannot start the Python interpreter `{interpreter}` ({reason}); install Python 3 (Debian: `sudo apt install python3`), or choose one in the flow file with `python: {{ interpreter: .venv/bin/python }}`"
    )]
    NoInterpreter { interpreter: String, reason: String },
    #[error(
        "the Python worker (`{interpreter}`) stopped without answering{detail}; check that it is Python 3.8 or later"
    )]
    WorkerDied { interpreter: String, detail: String },
    #[error(
        "the Python module `{module}` is not installed for `{interpreter}`{at}: run `{interpreter} -m pip install {module}`"
    )]
    MissingModule {
        module: String,
        interpreter: String,
        at: String,
    },
    #[error("{kind}: {message}{at}")]
    Raised {
        kind: String,
        message: String,
        at: String,
    },
    #[error("{0}")]
    Usage(String),
}

/// What a call returned: the function's JSON result, what it printed, and the worker's pid.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub output: Value,
    pub log: String,
    pub pid: u32,
}

/// A failed call and what the function printed before it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub error: PythonError,
    pub log: String,
}

impl From<PythonError> for Failed {
    fn from(error: PythonError) -> Self {
        Self {
            error,
            log: String::new(),
        }
    }
}

/// The pools by interpreter and flow folder.
type Pools = HashMap<(PathBuf, PathBuf), Arc<Pool>>;

/// Every pool an engine (or a batch) has made, by interpreter and flow folder. Cheap to clone.
#[derive(Clone)]
pub struct PythonPools {
    pools: Arc<Mutex<Pools>>,
    size: usize,
}

impl Default for PythonPools {
    /// Up to as many workers as cores, at most 4 per interpreter and folder.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_size(cores.clamp(1, 4))
    }
}

impl PythonPools {
    pub fn with_size(size: usize) -> Self {
        Self {
            pools: Arc::default(),
            size: size.max(1),
        }
    }

    /// The pool of `interpreter` (a path, or a name looked up on PATH) in `flow_dir`.
    pub fn pool(&self, interpreter: &Path, flow_dir: &Path) -> Arc<Pool> {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .entry((interpreter.to_owned(), flow_dir.to_owned()))
            .or_insert_with(|| {
                Arc::new(Pool {
                    interpreter: interpreter.to_owned(),
                    flow_dir: flow_dir.to_owned(),
                    idle: Mutex::default(),
                    permits: Semaphore::new(self.size),
                    started: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// How many interpreters all pools have started so far.
    pub fn started(&self) -> usize {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .values()
            .map(|p| p.started.load(Ordering::Relaxed))
            .sum()
    }
}

/// The workers of one interpreter in one flow folder.
pub struct Pool {
    interpreter: PathBuf,
    flow_dir: PathBuf,
    idle: Mutex<Vec<Worker>>,
    permits: Semaphore,
    started: AtomicUsize,
}

struct Worker {
    // Held for `kill_on_drop`: dropping the worker kills the child.
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

#[derive(Deserialize)]
struct Ready {
    ready: bool,
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    output: Value,
    #[serde(default)]
    error: Option<Raised>,
    #[serde(default)]
    log: String,
    #[serde(default)]
    pid: u32,
}

#[derive(Deserialize)]
struct Raised {
    #[serde(rename = "type")]
    kind: String,
    message: String,
    file: Option<String>,
    line: Option<u64>,
    module: Option<String>,
}

impl Pool {
    /// Calls the function `request` names (one JSON line: see runner.py) in an idle worker,
    /// or a new one while fewer than the pool's size are busy. `request` may hold secrets: it
    /// goes only to the child's stdin.
    pub async fn call(&self, request: &str) -> Result<Reply, Failed> {
        // The semaphore is never closed.
        let _permit = self.permits.acquire().await.map_err(|_| self.died(""))?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut worker = match idle {
            Some(worker) => worker,
            None => self.spawn().await?,
        };
        let answer = self.exchange(&mut worker, request).await?;
        // The worker answered, so it can serve the next call, whatever the function did.
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(worker);
        if answer.ok {
            return Ok(Reply {
                output: answer.output,
                log: answer.log,
                pid: answer.pid,
            });
        }
        let error = match answer.error {
            Some(raised) => self.error(raised),
            None => self.died(""),
        };
        Err(Failed {
            error,
            log: answer.log,
        })
    }

    fn interpreter_name(&self) -> String {
        self.interpreter.display().to_string()
    }

    fn died(&self, detail: &str) -> PythonError {
        PythonError::WorkerDied {
            interpreter: self.interpreter_name(),
            detail: detail.to_owned(),
        }
    }

    fn error(&self, raised: Raised) -> PythonError {
        let at = match (&raised.file, raised.line) {
            (Some(file), Some(line)) => {
                let file = Path::new(file);
                let shown = file.strip_prefix(&self.flow_dir).unwrap_or(file);
                format!(" at {}:{line}", shown.display())
            }
            _ => String::new(),
        };
        match raised.module {
            Some(module) if raised.kind == "ModuleNotFoundError" && !module.is_empty() => {
                PythonError::MissingModule {
                    module,
                    interpreter: self.interpreter_name(),
                    at,
                }
            }
            _ if raised.kind == "usage" => PythonError::Usage(raised.message),
            _ => PythonError::Raised {
                kind: raised.kind,
                message: raised.message,
                at,
            },
        }
    }

    async fn spawn(&self) -> Result<Worker, PythonError> {
        let mut child = Command::new(&self.interpreter)
            .arg("-u")
            .arg("-c")
            .arg(RUNNER)
            .current_dir(&self.flow_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| PythonError::NoInterpreter {
                interpreter: self.interpreter_name(),
                reason: match err.kind() {
                    std::io::ErrorKind::NotFound => "not found".to_owned(),
                    std::io::ErrorKind::PermissionDenied => "not executable".to_owned(),
                    _ => err.to_string(),
                },
            })?;
        self.started.fetch_add(1, Ordering::Relaxed);
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(self.died(": its pipes were not opened"));
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = stdout.read_line(&mut line).await;
        let ready = serde_json::from_str::<Ready>(&line).is_ok_and(|r| r.ready);
        if read.is_err() || !ready {
            return Err(self.died(" when it started"));
        }
        Ok(Worker {
            _child: child,
            stdin,
            stdout,
        })
    }

    async fn exchange(&self, worker: &mut Worker, request: &str) -> Result<Answer, PythonError> {
        let mut line = request.replace('\n', " ");
        line.push('\n');
        worker
            .stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|_| self.died(""))?;
        worker.stdin.flush().await.map_err(|_| self.died(""))?;
        let mut reply = String::new();
        match worker.stdout.read_line(&mut reply).await {
            Ok(0) | Err(_) => Err(self.died(" (it may have exited or crashed)")),
            Ok(_) => {
                serde_json::from_str(&reply).map_err(|_| self.died(": its reply was not JSON"))
            }
        }
    }
}
