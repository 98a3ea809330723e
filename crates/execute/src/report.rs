//! Progress and logs of a running deployment: the blocking execution code
//! reports phases and log lines through [`Reporter`]; [`ChannelReporter`]
//! forwards them to an async task that writes them to the store in batches
//! (and, for the CLI, prints them as they come).
//!
//! Deliberately not here: what to print (the CLI decides) or how the store
//! keeps lines (the store decides).

use autodeploy_core::{LogStream, Phase};
use autodeploy_store::{DeploymentPatch, NewLogLine, Store};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Where execution code reports what it is doing. Must be callable from any
/// thread (Terraform's stdout and stderr are read on two threads).
pub trait Reporter: Sync {
    fn phase(&self, phase: Phase);
    fn log(&self, stream: LogStream, line: &str);
}

/// A reporter that drops everything (previews, tests).
pub struct Silent;

impl Reporter for Silent {
    fn phase(&self, _: Phase) {}
    fn log(&self, _: LogStream, _: &str) {}
}

/// One thing that happened, as the progress callback sees it.
#[derive(Debug, Clone)]
pub enum Event {
    Phase(Phase),
    Log {
        stream: LogStream,
        phase: Option<Phase>,
        line: String,
    },
}

/// Called for every event (the CLI prints progress with it).
pub type Progress = Arc<dyn Fn(&Event) + Send + Sync>;

/// Sends events to [`drain`].
pub struct ChannelReporter {
    tx: UnboundedSender<Event>,
    current: Mutex<Option<Phase>>,
}

impl ChannelReporter {
    pub fn new() -> (Self, UnboundedReceiver<Event>) {
        let (tx, rx) = unbounded_channel();
        (
            ChannelReporter {
                tx,
                current: Mutex::new(None),
            },
            rx,
        )
    }

    pub fn current_phase(&self) -> Option<Phase> {
        *self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Reporter for ChannelReporter {
    fn phase(&self, phase: Phase) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(phase);
        let _ = self.tx.send(Event::Phase(phase));
    }

    fn log(&self, stream: LogStream, line: &str) {
        let phase = self.current_phase();
        let _ = self.tx.send(Event::Log {
            stream,
            phase,
            line: line.to_string(),
        });
    }
}

/// Write events to the store until every sender is gone: log lines in
/// batches (at most every 100 ms or 200 lines), phase changes as they come
/// (after the lines before them). Lines the store refused while it was
/// unreachable are kept (up to [`MAX_PENDING_LINES`]) and written with the
/// next batch; a failure is reported on stderr once and never fails the
/// deployment.
/// Lines kept while the store cannot be written (the oldest are dropped past it).
pub const MAX_PENDING_LINES: usize = 20_000;

pub async fn drain(
    store: Arc<dyn Store>,
    deployment_id: String,
    mut rx: UnboundedReceiver<Event>,
    progress: Option<Progress>,
) {
    let mut batch: Vec<NewLogLine> = Vec::new();
    let mut warned = false;
    loop {
        let ev = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await;
        let done = matches!(ev, Ok(None));
        let timed_out = ev.is_err();
        let mut phase_change = None;
        if let Ok(Some(ev)) = ev {
            if let Some(p) = &progress {
                p(&ev);
            }
            match ev {
                Event::Log {
                    stream,
                    phase,
                    line,
                } => batch.push(NewLogLine {
                    stream,
                    phase,
                    line,
                }),
                Event::Phase(p) => phase_change = Some(p),
            }
        }
        let flush = done || phase_change.is_some() || batch.len() >= 200 || timed_out;
        if flush && !batch.is_empty() {
            match store.append_logs(&deployment_id, &batch).await {
                Ok(()) => batch.clear(),
                Err(e) if e.is_transient() && !done => {
                    // Kept for the next flush; the oldest go past the cap.
                    if batch.len() > MAX_PENDING_LINES {
                        batch.drain(..batch.len() - MAX_PENDING_LINES);
                    }
                    if !warned {
                        eprintln!("warning: could not store log lines of {deployment_id} yet ({e}); they are kept and written when the store answers");
                        warned = true;
                    }
                }
                Err(e) => {
                    let last =
                        crate::run::with_store_retry(|| store.append_logs(&deployment_id, &batch))
                            .await;
                    if let Err(e2) = last {
                        eprintln!(
                            "warning: could not store {} log lines of {deployment_id}: {e} ({e2})",
                            batch.len()
                        );
                    }
                    batch.clear();
                }
            }
        }
        if let Some(p) = phase_change {
            let patch = DeploymentPatch {
                phase: Some(Some(p)),
                ..Default::default()
            };
            if let Err(e) = crate::run::with_store_retry(|| {
                store.update_deployment(&deployment_id, patch.clone())
            })
            .await
            {
                if !warned {
                    eprintln!("warning: could not record the phase of {deployment_id}: {e}");
                    warned = true;
                }
            }
        }
        if done {
            break;
        }
    }
}
