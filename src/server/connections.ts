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
  /** HTTP/2: GOAWAY (streams in flight finish, new ones go to a new connection). HTTP/1.1: idle sockets closed; busy ones close after their response (`Connection: close` while draining). */
  closeIdle(): void;
}

const inFlight = Symbol('rollsafe.inFlight');
type Http1Socket = Socket & { [inFlight]?: number };

export function trackConnections(server: Http2SecureServer): Connections {
  const sessions = new Set<ServerHttp2Session>();
  const http1 = new Set<Http1Socket>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('secureConnection', (socket: Socket & { alpnProtocol?: string | false }) => {
    if (socket.alpnProtocol === 'h2') return;
    http1.add(socket);
    socket.once('close', () => http1.delete(socket));
  });
  // HTTP/1.1 requests (the HTTP/2 server's fallback) counted per socket: only idle sockets may be cut.
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.httpVersionMajor !== 1) return;
    const socket = request.socket as Http1Socket;
    socket[inFlight] = (socket[inFlight] ?? 0) + 1;
    response.once('close', () => {
      socket[inFlight] = (socket[inFlight] ?? 1) - 1;
    });
  });
  return {
    closeIdle() {
      for (const session of sessions) session.close();
      for (const socket of http1) if (!socket[inFlight]) socket.destroy();
    },
  };
}
