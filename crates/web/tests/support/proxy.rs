//! A TCP relay between the service and its PostgreSQL server that the test can switch
//! off and on. Switched off it behaves, on the wire, like a stopped server: open
//! connections are closed and new ones are refused (nothing listens on the port).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Relay {
    pub port: u16,
    upstream: SocketAddr,
    accept: Option<JoinHandle<()>>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut relay = Self {
            port,
            upstream,
            accept: None,
            links: Arc::default(),
        };
        relay.accept = Some(relay.serve(listener));
        relay
    }

    fn serve(&self, listener: TcpListener) -> JoinHandle<()> {
        let upstream = self.upstream;
        let links = self.links.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.lock().unwrap().push(link);
            }
        })
    }

    /// "Stops the server": closes every relayed connection and the listening port.
    pub fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// "Starts it again" on the same port.
    pub async fn restore(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(e) => {
                    tries += 1;
                    assert!(tries < 100, "cannot listen on {} again: {e}", self.port);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        };
        self.accept = Some(self.serve(listener));
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
    }
}
