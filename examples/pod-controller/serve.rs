//! The pod controller's HTTP endpoints, as controller-runtime's manager serves them: `/metrics`
//! on `--metrics-bind-address`, `/healthz` and `/readyz` on `--health-probe-bind-address`.
//!
//! A deliberately small HTTP/1.1 responder on tokio (GET only, one request per connection,
//! `Connection: close`): probes and scrapers need nothing more, and the example keeps to the
//! workspace's dependencies. Each server is a task owned by a [`Server`] handle; dropping the
//! handle or cancelling its token stops it, and its connection tasks with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clientgo::controller::leaderelection::HealthzAdaptor;
use clientgo::controller::prometheus_client::encoding::text::encode;
use clientgo::controller::prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

/// The longest request head accepted; probes and scrapers send a few hundred bytes.
const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A response: status code, content type, body.
pub type Response = (u16, &'static str, String);

/// Turns a request path into a response.
pub type Handler = Arc<dyn Fn(&str) -> Response + Send + Sync>;

/// Parses a bind address flag: `0` or empty is off (`None`), `:8080` means every interface,
/// as in controller-runtime.
pub fn parse_bind_address(flag: &str, value: &str) -> Result<Option<SocketAddr>, String> {
    match value {
        "" | "0" => Ok(None),
        _ => {
            let full = match value.strip_prefix(':') {
                Some(port) => format!("0.0.0.0:{port}"),
                None => value.to_string(),
            };
            full.parse()
                .map(Some)
                .map_err(|e| format!("{flag}: {value:?}: {e}"))
        }
    }
}

/// A running server; dropping it stops it.
pub struct Server {
    stop: CancellationToken,
    _task: AbortOnDropHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Binds `addr` and serves `handler` there until the returned [`Server`] is dropped. Logs
/// `serving <what> on http://<bound address>` (the real port when `addr` has port 0).
/// A bind that fails (an address in use, a port below 1024 without privilege) is an error
/// naming the address, returned before anything else starts.
pub async fn serve(addr: SocketAddr, what: &str, handler: Handler) -> std::io::Result<Server> {
    let listener = TcpListener::bind(addr).await.map_err(|err| {
        std::io::Error::new(err.kind(), format!("serving {what} on {addr}: {err}"))
    })?;
    let bound = listener.local_addr()?;
    tracing::info!("serving {what} on http://{bound}");
    let stop = CancellationToken::new();
    let token = stop.clone();
    let task = tokio::spawn(async move {
        // Connection tasks live in this set: they end with the accept loop.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let handler = handler.clone();
                        connections.spawn(respond(stream, handler));
                    }
                    Err(err) => tracing::warn!(%err, "accept failed"),
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(Server {
        stop,
        _task: AbortOnDropHandle::new(task),
    })
}

async fn respond(mut stream: TcpStream, handler: Handler) {
    let mut head = Vec::with_capacity(512);
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
            if head.len() > MAX_REQUEST_HEAD {
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        return;
    }
    let text = String::from_utf8_lossy(&head);
    let mut parts = text.lines().next().unwrap_or_default().split_whitespace();
    let (status, content_type, body) = match (parts.next(), parts.next()) {
        _ if head.len() > MAX_REQUEST_HEAD => (431, "text/plain", "request too large\n".into()),
        (Some("GET"), Some(target)) => {
            let path = target.split('?').next().unwrap_or(target);
            handler(path)
        }
        (Some(_), Some(_)) => (405, "text/plain", "method not allowed\n".into()),
        _ => (400, "text/plain", "bad request\n".into()),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Bad Request",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    if let Err(err) = stream.write_all(response.as_bytes()).await {
        tracing::debug!(%err, "writing a response failed");
    }
    let _ = stream.shutdown().await;
}

/// `/metrics`: the registry in Prometheus text (OpenMetrics) format.
pub fn metrics_handler(registry: Registry) -> Handler {
    Arc::new(move |path| {
        if path != "/metrics" {
            return (404, "text/plain", "404 page not found\n".into());
        }
        let mut text = String::new();
        match encode(&mut text, &registry) {
            Ok(()) => (
                200,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                text,
            ),
            Err(err) => (500, "text/plain", format!("encoding metrics: {err}\n")),
        }
    })
}

/// `/healthz`: `ping`, plus the leader-election check when there is an election; `/readyz`:
/// `ping` plus `informer-sync`, true once the informer's cache has synced. The body lists each
/// failing check, as the API server's healthz does.
pub fn probes_handler(
    leader_election: Option<HealthzAdaptor>,
    synced: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Handler {
    Arc::new(move |path| {
        let mut checks: Vec<(&str, Result<(), String>)> = vec![("ping", Ok(()))];
        let name = match path {
            "/healthz" => {
                if let Some(adaptor) = &leader_election {
                    checks.push((adaptor.name(), adaptor.check().map_err(|e| e.to_string())));
                }
                "healthz"
            }
            "/readyz" => {
                let ok = synced();
                checks.push((
                    "informer-sync",
                    if ok {
                        Ok(())
                    } else {
                        Err("cache not synced".into())
                    },
                ));
                "readyz"
            }
            _ => return (404, "text/plain", "404 page not found\n".into()),
        };
        let failed: Vec<_> = checks.iter().filter(|(_, r)| r.is_err()).collect();
        if failed.is_empty() {
            return (200, "text/plain", "ok".into());
        }
        let mut body = String::new();
        for (check, result) in &checks {
            match result {
                Ok(()) => body.push_str(&format!("[+]{check} ok\n")),
                Err(err) => {
                    tracing::info!(check, %err, "{name} check failed");
                    body.push_str(&format!("[-]{check} failed: {err}\n"));
                }
            }
        }
        body.push_str(&format!("{name} check failed\n"));
        (500, "text/plain", body)
    })
}
