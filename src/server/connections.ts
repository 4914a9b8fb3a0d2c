import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Open client connections of the HTTPS server, so shutdown can end the idle ones. The apiserver keeps its
 * connection to a webhook open for 90 s after the last call (an HTTP/2 session, or HTTP/1.1 keep-alive);
 * without this, `close()` waits for that, long past the pod's grace period, while the apiserver may still
 * send requests to a replica that is going away.
 */
export interface Connections {
  /**
   * HTTP/2: GOAWAY (streams in flight finish, new ones go to a new connection). HTTP/1.1: idle sockets are
   * closed; a socket with a request in flight, or part of one received, closes after its response
   * (`Connection: close` while draining). Connections whose TLS handshake completes later are treated the same.
   */
  closeIdle(): void;
}

/** A connection that has received bytes of a request not yet answered: not idle. */
const busy = Symbol('rollsafe.busy');
const inFlight = Symbol('rollsafe.inFlight');
type Http1Socket = Socket & { [busy]?: boolean; [inFlight]?: number };

/** How long a connection opened during shutdown may stay silent before it is closed. */
const SILENT_CONNECTION_MS = 1000;

export function trackConnections(server: Http2SecureServer): Connections {
  const sessions = new Set<ServerHttp2Session>();
  const http1 = new Set<Http1Socket>();
  let draining = false;

  const closeIfIdle = (socket: Http1Socket) => {
    if (!socket[busy] && !socket[inFlight]) socket.destroy();
  };

  server.on('session', (session: ServerHttp2Session) => {
    if (draining) {
      // Handshake finished after shutdown began: tell the client at once to go elsewhere.
      session.close();
      return;
    }
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('secureConnection', (socket: Http1Socket & { alpnProtocol?: string | false }) => {
    if (socket.alpnProtocol === 'h2') return;
    http1.add(socket);
    socket.once('close', () => http1.delete(socket));
    // Bytes of a request arrived (headers may still be incomplete): busy until its response is done.
    socket.on('data', () => {
      socket[busy] = true;
    });
    if (draining) setTimeout(() => closeIfIdle(socket), SILENT_CONNECTION_MS).unref();
  });
  // HTTP/1.1 requests (the HTTP/2 server's fallback), counted per socket.
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.httpVersionMajor !== 1) return;
    const socket = request.socket as Http1Socket;
    socket[inFlight] = (socket[inFlight] ?? 0) + 1;
    response.once('close', () => {
      socket[inFlight] = (socket[inFlight] ?? 1) - 1;
      if (!socket[inFlight]) socket[busy] = false;
      if (draining) closeIfIdle(socket);
    });
  });
  return {
    closeIdle() {
      draining = true;
      for (const session of sessions) session.close();
      for (const socket of http1) closeIfIdle(socket);
    },
  };
}
