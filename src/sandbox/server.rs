//! Serving connections by hand, so a `DropReply` fault can close one without a response.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// How long in-flight requests get to finish once the sandbox shuts down.
const GRACE: Duration = Duration::from_secs(2);

/// Put in every request's extensions: firing it makes the connection task drop the connection.
#[derive(Clone)]
pub(crate) struct DropConnection(Arc<Notify>);

impl DropConnection {
    pub fn fire(&self) {
        self.0.notify_one();
    }
}

pub(crate) async fn accept_loop(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = shut_down(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(serve_connection(stream, app.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
}

/// Resolves once shutdown is requested or the `Sandbox` is gone.
async fn shut_down(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn serve_connection(stream: TcpStream, app: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let signal = Arc::new(Notify::new());
    let drop_connection = DropConnection(signal.clone());
    let router = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(drop_connection.clone());
        let reply = router.call(request);
        async move { Ok::<_, Infallible>(reply.await.unwrap_or_else(|never| match never {})) }
    });
    let connection = http1::Builder::new().timer(TokioTimer::new()).serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let dropped = signal.notified();
    tokio::pin!(dropped);
    tokio::select! {
        _ = connection.as_mut() => return,
        () = dropped.as_mut() => return,
        () = shut_down(&mut shutdown) => connection.as_mut().graceful_shutdown(),
    }
    tokio::select! {
        _ = connection.as_mut() => {}
        () = dropped.as_mut() => {}
        () = tokio::time::sleep(GRACE) => {}
    }
}
