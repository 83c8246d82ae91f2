//! Background work: every job runs on its own thread and sends its result to the UI thread as
//! a [`Msg`]; the status bar lists the jobs that are running. The async runtime of the Live
//! view (dev cluster, runtime, watches) is started on first use and kept for the session.

use super::msg::Msg;
use std::sync::mpsc::Sender;
use std::sync::{Arc, OnceLock};

/// Spawns background work that reports to the UI thread.
#[derive(Clone)]
pub struct Jobs {
    tx: Sender<Msg>,
    runtime: Arc<OnceLock<Result<tokio::runtime::Runtime, String>>>,
}

impl Jobs {
    /// Jobs reporting on `tx`.
    pub fn new(tx: Sender<Msg>) -> Jobs {
        Jobs { tx, runtime: Arc::new(OnceLock::new()) }
    }

    /// A sender for messages to the UI thread (for long-lived tasks such as watches).
    pub fn sender(&self) -> Sender<Msg> {
        self.tx.clone()
    }

    /// Sends a message to the UI thread (dropped silently when the UI has ended).
    pub fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }

    /// Runs `work` on a new thread, announced as `name` while it runs; its result is sent
    /// as the message it returns.
    pub fn spawn(&self, name: impl Into<String>, work: impl FnOnce() -> Msg + Send + 'static) {
        let name = name.into();
        let tx = self.tx.clone();
        let _ = tx.send(Msg::Job { name: name.clone(), running: true });
        let spawned = std::thread::Builder::new().name(format!("ork-{name}")).spawn(move || {
            let msg = work();
            let _ = tx.send(msg);
            let _ = tx.send(Msg::Job { name, running: false });
        });
        if let Err(e) = spawned {
            let _ = self.tx.send(Msg::Status(format!("cannot start a background job: {e}")));
        }
    }

    /// The async runtime for cluster work (two worker threads), started on first use.
    pub fn runtime(&self) -> Result<&tokio::runtime::Runtime, String> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("ork-live")
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the async runtime: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}
