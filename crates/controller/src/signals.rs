//! Port of sample-controller's pkg/signals: a shutdown token cancelled on SIGINT or SIGTERM.
//!
//! The first signal cancels the token so every part of the program can drain and stop; a second
//! signal exits the process at once with status 1, as Go's `SetupSignalHandler` does.

use tokio_util::sync::CancellationToken;

/// Returns a token cancelled on the first SIGINT/SIGTERM; a second signal exits the process.
///
/// Port of sample-controller pkg/signals: `SetupSignalHandler`. The listening task lives as long
/// as the process (it is the process's signal handler).
///
/// # Panics
///
/// Panics when called outside a tokio runtime.
pub fn setup_signal_handler() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received, draining (signal again to exit at once)");
        cancel.cancel();
        wait_for_signal().await;
        std::process::exit(1);
    });
    token
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            // Installing a handler failed: fall back to Ctrl-C only.
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
