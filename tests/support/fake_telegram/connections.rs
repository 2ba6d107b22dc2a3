//! Which TCP connection each call came on, and when a dead client can no longer reach the fake.
//!
//! Why: a test that SIGKILLs the bot must know, for every call the fake answered, which of the
//! bot's lives made it. Time cannot tell: a request the bot wrote just before it died may sit in
//! the fake's socket buffer and take effect after the kill, even after the next bot started. A
//! connection can: it belongs to one process. Every accepted connection gets a serial number
//! (in accept order) that its calls carry, and [`FakeTelegram::seal_connections`] draws the line
//! between two lives — it opens a probe connection (accepted after every connection the dead
//! bot completed, as the kernel queues them) and waits until every connection accepted before
//! the probe is closed. From then on nothing the dead bot sent can still take effect: a call
//! with a lower serial was made by a bot that is gone, a call with a higher one by a later bot.
//!
//! [`FakeTelegram::seal_connections`]: super::FakeTelegram::seal_connections

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::state::Shared;

/// A connection's serial number and the client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ConnectionTag {
    pub serial: u64,
    pub peer: SocketAddr,
}

impl Connected<IncomingStream<'_, TaggedListener>> for ConnectionTag {
    fn connect_info(stream: IncomingStream<'_, TaggedListener>) -> Self {
        *stream.remote_addr()
    }
}

/// A TCP listener that numbers the connections it accepts and keeps the open ones in the
/// shared state.
pub(super) struct TaggedListener {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl TaggedListener {
    pub fn new(listener: TcpListener, shared: Arc<Shared>) -> Self {
        Self { listener, shared }
    }
}

impl Listener for TaggedListener {
    type Io = TaggedStream;
    type Addr = ConnectionTag;

    async fn accept(&mut self) -> (TaggedStream, ConnectionTag) {
        let (stream, peer) = Listener::accept(&mut self.listener).await;
        let serial = {
            let mut st = self.shared.lock();
            let serial = st.next_connection;
            st.next_connection += 1;
            st.open_connections.insert(serial, peer);
            serial
        };
        self.shared.notify_changed();
        let tagged = TaggedStream {
            stream,
            serial,
            shared: self.shared.clone(),
        };
        (tagged, ConnectionTag { serial, peer })
    }

    fn local_addr(&self) -> io::Result<ConnectionTag> {
        Ok(ConnectionTag {
            serial: 0,
            peer: self.listener.local_addr()?,
        })
    }
}

/// An accepted connection; it leaves the open set when the server drops it, after the last
/// call on it has taken effect (or was abandoned).
pub(super) struct TaggedStream {
    stream: TcpStream,
    serial: u64,
    shared: Arc<Shared>,
}

impl Drop for TaggedStream {
    fn drop(&mut self) {
        self.shared.lock().open_connections.remove(&self.serial);
        self.shared.notify_changed();
    }
}

impl AsyncRead for TaggedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TaggedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
