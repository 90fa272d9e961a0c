//! A fault-injecting HTTP/1.1 proxy for the KMS tests: listens on 127.0.0.1 (a free port), forwards each
//! request to an upstream KMS endpoint — AWS KMS's JSON API (local-kms) with [`FaultProxy::start`], or
//! GCP Cloud KMS's REST API (tresor's GCP KMS API test server) with [`FaultProxy::start_gcp`] — and, when
//! told to, answers in its place with a fault instead, in that API's error format.
//!
//! One request per connection: the request goes upstream with `Connection: close`, the response comes
//! back with `Connection: close`, so the client opens a new connection for the next request.
//!
//! Faults are queued with [`FaultProxy::inject`] (any request) or [`FaultProxy::inject_on`] (only
//! requests for one target); each queued fault is used by exactly one request, first queued first used.
//! Every request that reaches the proxy is counted per target, faulted or not. A target is the
//! `X-Amz-Target` for AWS (`TrentService.Sign`), and for GCP the REST method as Google's reference names
//! it (`asymmetricSign`, `cryptoKeys.create`, `cryptoKeyVersions.get`, …; see [`gcp_target`]).
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request instead of (or before) forwarding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// AWS: HTTP 400 `ThrottlingException`; GCP: HTTP 429 `RESOURCE_EXHAUSTED` (retryable).
    Throttle,
    /// AWS: HTTP 500 `KMSInternalException`; GCP: HTTP 503 `UNAVAILABLE` (retryable).
    ServerError,
    /// Read the request, then close the connection without answering (never forwarded).
    ConnectionReset,
    /// Forward the request, let the upstream answer, then close the connection without passing the answer
    /// on: the upstream did the work but the client sees a dropped connection.
    ResetAfterForward,
    /// Wait, then forward.
    Latency(Duration),
    /// Wait until [`FaultProxy::release`], then forward: a request that stays in flight for as long as
    /// a test needs, whatever the machine's speed.
    Hold,
    /// AWS: HTTP 400 `AccessDeniedException`; GCP: HTTP 403 `PERMISSION_DENIED` (not retryable).
    AccessDenied,
}

/// Which API the upstream speaks (how targets are named and faults answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Api {
    /// AWS KMS (JSON 1.1, `X-Amz-Target`).
    #[default]
    Aws,
    /// GCP Cloud KMS v1 REST.
    Gcp,
}

#[derive(Debug, Default)]
struct State {
    api: Api,
    faults: VecDeque<(Option<String>, Fault)>,
    counts: BTreeMap<String, usize>,
    /// Lets one held request go (a permit is kept when none is waiting yet).
    gate: Arc<tokio::sync::Notify>,
}

/// The proxy (see the module docs). Dropping it stops accepting connections.
#[derive(Debug)]
pub(crate) struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    match state.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl FaultProxy {
    /// Start a proxy in front of an AWS KMS endpoint `upstream` (`http://host:port`, plain HTTP only).
    pub(crate) async fn start(upstream: &str) -> Self {
        Self::start_api(upstream, Api::Aws).await
    }

    /// Start a proxy in front of a GCP Cloud KMS REST endpoint `upstream` (plain HTTP only).
    pub(crate) async fn start_gcp(upstream: &str) -> Self {
        Self::start_api(upstream, Api::Gcp).await
    }

    async fn start_api(upstream: &str, api: Api) -> Self {
        let authority = upstream
            .strip_prefix("http://")
            .expect("the fault proxy forwards to plain http:// upstreams only")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(State {
            api,
            ..State::default()
        }));
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                let upstream = authority.clone();
                tokio::spawn(async move {
                    // A broken connection is the client's or the upstream's business: nothing to report.
                    let _ = serve(client, &upstream, &st).await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// The proxy's URL, for `endpoint_override`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue `fault` for the next request, whatever its target.
    pub(crate) fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push_back((None, fault));
    }

    /// Queue `fault` for each of the next `n` requests.
    pub(crate) fn inject_n(&self, fault: Fault, n: usize) {
        for _ in 0..n {
            self.inject(fault.clone());
        }
    }

    /// Queue `fault` for each of the next `n` requests for `target` (e.g. `TrentService.Sign`).
    pub(crate) fn inject_on(&self, target: &str, fault: Fault, n: usize) {
        let mut g = lock(&self.state);
        for _ in 0..n {
            g.faults
                .push_back((Some(target.to_string()), fault.clone()));
        }
    }

    /// Faults queued and not used yet.
    pub(crate) fn pending(&self) -> usize {
        lock(&self.state).faults.len()
    }

    /// Let one request held by [`Fault::Hold`] go on (the next one to be held, if none is waiting).
    pub(crate) fn release(&self) {
        lock(&self.state).gate.notify_one();
    }

    /// Drop every queued fault.
    pub(crate) fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// How many requests for `target` reached the proxy (AWS: `TrentService.Sign`, or just `Sign`;
    /// GCP: `asymmetricSign`, `cryptoKeys.create`, …).
    pub(crate) fn count(&self, target: &str) -> usize {
        let g = lock(&self.state);
        let full = if g.api == Api::Aws && !target.contains('.') {
            format!("TrentService.{target}")
        } else {
            target.to_string()
        };
        g.counts.get(&full).copied().unwrap_or(0)
    }

    /// How many requests reached the proxy.
    pub(crate) fn total(&self) -> usize {
        lock(&self.state).counts.values().sum()
    }

    /// The counts per target.
    pub(crate) fn counts(&self) -> BTreeMap<String, usize> {
        lock(&self.state).counts.clone()
    }

    /// Forget the counts.
    pub(crate) fn reset_counts(&self) {
        lock(&self.state).counts.clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One HTTP message head: the start line and the headers, in order.
struct Head {
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The head with `Connection: close` in place of any connection headers.
    fn closing(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("connection") || k.eq_ignore_ascii_case("keep-alive") {
                continue;
            }
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

fn find_end_of_head(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn parse_head(raw: &[u8]) -> std::io::Result<Head> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "non-UTF-8 head"))?;
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let start = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Ok(Head { start, headers })
}

/// Read one message with a `Content-Length` body (or none) from `s`.
async fn read_message(s: &mut TcpStream) -> std::io::Result<(Head, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = find_end_of_head(&buf) {
            break end;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = parse_head(&buf[..end])?;
    let len: usize = head
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Ok((head, body))
}

/// An AWS JSON 1.1 error answer.
fn aws_error(status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let body = format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}");
    format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         x-amzn-ErrorType: {code}\r\n\
         x-amzn-RequestId: faultproxy-{code}\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A Cloud KMS REST method's name from the request line: the custom verb after `:` (`asymmetricSign`,
/// `encrypt`, `destroy`, …), `getPublicKey` for `…/publicKey`, otherwise `<collection>.<get|list|create|
/// patch>` (`cryptoKeys.create`, `cryptoKeyVersions.get`, `keyRings.get`, …).
pub(crate) fn gcp_target(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    if let Some((_, verb)) = last.split_once(':') {
        return verb.to_string();
    }
    if last == "publicKey" {
        return "getPublicKey".to_string();
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Collections sit at odd positions after "v1": v1/projects/p/locations/l/keyRings/r/…
    let is_collection = parts.len().is_multiple_of(2);
    let collection = if is_collection {
        parts.last().copied().unwrap_or("")
    } else {
        parts
            .get(parts.len().saturating_sub(2))
            .copied()
            .unwrap_or("")
    };
    let verb = match (method, is_collection) {
        ("POST", true) => "create",
        ("GET", true) => "list",
        ("PATCH", _) => "patch",
        ("DELETE", _) => "delete",
        _ => "get",
    };
    format!("{collection}.{verb}")
}

/// A `google.rpc.Status` error answer.
fn gcp_error(status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let body = format!(
        "{{\"error\":{{\"code\":{status},\"message\":\"{message}\",\"status\":\"{code}\"}}}}"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/json; charset=UTF-8\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Forward one request upstream and return the whole answer, re-headed with `Connection: close`.
async fn forward(upstream: &str, head: &Head, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    let mut req = head.closing();
    req.extend_from_slice(body);
    up.write_all(&req).await?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw).await?;
    let end = find_end_of_head(&raw)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no response head"))?;
    let resp_head = parse_head(&raw[..end])?;
    let mut out = resp_head.closing();
    out.extend_from_slice(&raw[end..]);
    Ok(out)
}

async fn serve(mut client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let (head, body) = read_message(&mut client).await?;
    let api = lock(state).api;
    let target = match api {
        Api::Aws => head.get("x-amz-target").unwrap_or("-").to_string(),
        Api::Gcp => {
            let mut words = head.start.split(' ');
            let method = words.next().unwrap_or("");
            gcp_target(method, words.next().unwrap_or(""))
        }
    };
    let fault = {
        let mut g = lock(state);
        *g.counts.entry(target.clone()).or_insert(0) += 1;
        let pos = g
            .faults
            .iter()
            .position(|(t, _)| t.as_deref().is_none_or(|t| t == target));
        pos.and_then(|p| g.faults.remove(p)).map(|(_, f)| f)
    };
    let answer = match fault {
        None => forward(upstream, &head, &body).await?,
        Some(Fault::Throttle) if api == Api::Gcp => gcp_error(
            429,
            "Too Many Requests",
            "RESOURCE_EXHAUSTED",
            "injected: quota exceeded",
        ),
        Some(Fault::ServerError) if api == Api::Gcp => gcp_error(
            503,
            "Service Unavailable",
            "UNAVAILABLE",
            "injected: the service is unavailable",
        ),
        Some(Fault::AccessDenied) if api == Api::Gcp => gcp_error(
            403,
            "Forbidden",
            "PERMISSION_DENIED",
            "injected: permission denied",
        ),
        Some(Fault::Throttle) => {
            aws_error(400, "Bad Request", "ThrottlingException", "Rate exceeded")
        }
        Some(Fault::ServerError) => aws_error(
            500,
            "Internal Server Error",
            "KMSInternalException",
            "injected internal error",
        ),
        Some(Fault::AccessDenied) => aws_error(
            400,
            "Bad Request",
            "AccessDeniedException",
            "injected: not authorized",
        ),
        Some(Fault::ConnectionReset) => return Ok(()),
        Some(Fault::ResetAfterForward) => {
            forward(upstream, &head, &body).await?;
            return Ok(());
        }
        Some(Fault::Latency(d)) => {
            tokio::time::sleep(d).await;
            forward(upstream, &head, &body).await?
        }
        Some(Fault::Hold) => {
            let gate = lock(state).gate.clone();
            gate.notified().await;
            forward(upstream, &head, &body).await?
        }
    };
    client.write_all(&answer).await?;
    client.shutdown().await
}
