/**
 * The mesh's gRPC side (mesh.ts, mesh-links.ts): the PartyLink service of
 * party.proto with frame-codec.ts as its (de)serializer, the mesh's options and
 * link types, the grpc-js channel options it derives, and the HTTP/2 window
 * settings of its server.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { Reassembler, WireFrame } from './chunking.js';
import { decodeFrame, encodeFrameLazy } from './frame-codec.js';
import type { LinkSettings, VersionRange } from './link-hello.js';
import type { FramedStream, MeshLinkKind } from './mesh-h2.js';
import type { ClientHttp2Session } from 'node:http2';
import type { Logger } from './log.js';
import type { MeshTls } from './tls.js';

const PROTO_PATH = fileURLToPath(new URL('./proto/party.proto', import.meta.url));
const packageDef = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
// The service as party.proto defines it, with frame-codec.ts as its (de)serializer:
// each payload copied once on its way out, and 8-aligned and viewed in place on receipt.
const linkMethod = (packageDef['securenn.party.PartyLink'] as grpc.ServiceDefinition).Link as grpc.MethodDefinition<WireFrame, WireFrame>;
// encodeFrameLazy returns FrameBytes, which grpc-js uses as the Buffer it expects (frame-codec.ts says how far).
Object.assign(linkMethod, { requestSerialize: encodeFrameLazy, responseSerialize: encodeFrameLazy, requestDeserialize: decodeFrame, responseDeserialize: decodeFrame });
const loaded = grpc.loadPackageDefinition(packageDef) as unknown as { securenn: { party: { PartyLink: grpc.ServiceClientConstructor } } };
export const PartyLink = loaded.securenn.party.PartyLink;
export type LinkClient = grpc.Client & { Link(): grpc.ClientDuplexStream<WireFrame, WireFrame> };
export type Stream = grpc.ClientDuplexStream<WireFrame, WireFrame> | grpc.ServerDuplexStream<WireFrame, WireFrame>;

// Link versions and what each changed: link-hello.ts.
export const MiB = 1 << 20;

export interface MeshOptions {
  party: PartyId;
  /**
   * Where to accept links from higher-id parties (P0 and P1 need one). Port 0:
   * chosen by the OS. dataPort: the h2 data link's port (link 'h2'; default 0,
   * chosen by the OS, which only tests use: a party server passes its config's
   * grpc.dataPort, default grpc.port + 1, server.ts; the peers learn it from
   * this party's HELLO).
   */
  listen?: { host: string; port: number; dataPort?: number };
  /**
   * What carries the pair's messages (mesh-h2.ts): 'h2' (default) a raw
   * HTTP/2 stream under the same mTLS, set up over gRPC; 'grpc' the gRPC
   * stream itself. Both ends must agree (HELLO: E_SETTINGS_MISMATCH otherwise).
   */
  link?: MeshLinkKind;
  /**
   * Link 'h2': how long (ms) a pair's data link may take to come up after its
   * gRPC HELLO (the server waits twice as long), and a data stream to send
   * its HELLO; default 10 s (mesh-data-links.ts). Past it: E_PEER_UNAVAILABLE
   * (step link.data), the peer's link problem, and the dialer redials.
   */
  dataSetupMs?: number;
  /** gRPC addresses ("host:port") of the lower-id parties this party dials. May be set later with setDialAddress. */
  dial?: Partial<Record<PartyId, string>>;
  /** mTLS material; null only for --insecure-local loopback development. */
  tls: MeshTls | null;
  logger?: Logger;
  chunkBytes?: number;
  /** Largest protocol message accepted (all chunks); default 4 GiB. */
  maxMessageBytes?: number;
  /** Bytes buffered for sessions not opened yet; default 512 MiB. */
  maxPendingBytes?: number;
  /** How long messages for an unopened session are kept; default 30 s. */
  pendingTtlMs?: number;
  reconnectMs?: { min: number; max: number };
  keepaliveMs?: number;
  /**
   * How long a dialer waits for the answer to a keepalive ping before it drops
   * the link; default 60 s. A party answers pings on its event loop, which a
   * long compute step blocks (one layer of EfficientNet-B0 on a loaded
   * 2-core machine): with 5 s, links dropped mid-run ("Connection dropped",
   * BENCHMARKS.md zoo section). A dead peer is still noticed by the socket's
   * errors and the sessions' deadlines.
   */
  keepaliveTimeoutMs?: number;
  /**
   * HTTP/2 stream and connection window in bytes (default 256 KiB). Keep it
   * small: Node's HTTP/2 session stops reading its socket while one of its
   * writes is in progress, and one write carries up to a window of DATA. With
   * 16 MiB windows two parties sending each other large messages at the same
   * time both blocked in their writes (socket buffers full, neither reading):
   * the link stalled until keepalive dropped it (mesh-bulk.test.ts).
   */
  flowControlWindow?: number;
  /** This party's settings that the peers compare at HELLO (read when a link is set up: the model hash once loaded). */
  settings?: () => LinkSettings;
  /** Link versions this party speaks (default link-hello.ts DEFAULT_VERSIONS; tests simulate other builds with it). */
  linkVersions?: VersionRange;
  /** Extra grpc-js channel and server options (benchmarks: bench/round-trip.ts compares settings). */
  grpcOptions?: grpc.ChannelOptions;
}

export type ControlHandler = (from: PartyId, type: string, body: unknown) => void;
export type PeerHandler = (peer: PartyId, up: boolean, reason?: Error) => void;

export interface Link {
  peer: PartyId | null;
  /** Dialer: the client it was opened on (closed with the link once the TLS material changed). */
  client?: LinkClient;
  gen: number;
  role: 'dialer' | 'server';
  stream: Stream;
  reasm: Reassembler;
  up: boolean;
  dead: boolean;
  /** The h2 data link once attached (link 'h2'): every message of the pair goes over it. */
  data?: FramedStream;
  /** Dialer: the data link's connection. */
  dataSession?: ClientHttp2Session;
  /** Link 'h2': the token that binds the data link to this gRPC link (drawn by the server, mesh-data-links.ts). */
  dataToken?: string;
  /** The settings of the peer's accepted HELLO (link-hello.ts; absent: a version-3 peer, which sends none). */
  settings?: LinkSettings;
}

export interface Pending { from: PartyId; kind: 'DATA' | 'SETUP'; tag: string; depth: number; payload: Uint8Array }

export interface LinkStats { bytesSent: number; bytesReceived: number; framesSent: number; framesReceived: number }

/** What the mesh knows of one peer link beyond up/down (metrics, readiness). */
export interface LinkHealth {
  /** The link version in use (0 while down). */
  version: number;
  /** Times the link came up (a flapping link counts up fast). */
  ups: number;
  /** Why the last set-up was refused (E_LINK_VERSION, E_SETTINGS_MISMATCH), until a link comes up. */
  problem: MpcError | null;
  /** Settings that differ but do not stop the link (P0 decides them per run). */
  warnings: string[];
  /** What carries the pair's messages while the link is up: 'grpc', or 'h2' once the data link is attached (mesh-h2.ts). */
  carrier?: MeshLinkKind;
}

/**
 * HTTP/2 flow control: with the default 64 KiB windows a multi-MiB protocol
 * message crawls between two busy event loops (one WINDOW_UPDATE round trip
 * per 64 KiB). The dialer raises its windows with grpc-js's
 * 'grpc-node.flow_control_window'; grpc-js has no server option for it, so
 * the server's HTTP/2 settings are raised here (grpc-js 1.14 keeps them in
 * `commonServerOptions`, read when the port is bound) and each new session's
 * connection window is widened. Without this the mesh still works, slower.
 */
export function widenServerWindows(server: grpc.Server, win: number): void {
  const s = server as unknown as { commonServerOptions?: { settings?: Record<string, unknown> } };
  if (s.commonServerOptions) s.commonServerOptions.settings = { ...s.commonServerOptions.settings, initialWindowSize: win };
}

export function widenSessionWindows(server: grpc.Server, win: number): void {
  const servers = (server as unknown as { http2Servers?: Map<{ on(ev: 'session', f: (s: { setLocalWindowSize?(n: number): void }) => void): void }, unknown> }).http2Servers;
  for (const h2 of servers?.keys() ?? []) {
    h2.on('session', (session) => { try { session.setLocalWindowSize?.(win); } catch { /* keep the default */ } });
  }
}
