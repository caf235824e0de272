/**
 * The peers under the same load as Canopy: the y-websocket 2.1 server and Hocuspocus 3.4.4, both in memory
 * (they acknowledge nothing durably). Clients speak their wire protocols directly (y-protocols sync messages;
 * Hocuspocus prefixes each message with the document name and wants an auth message first).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';

const here = dirname(fileURLToPath(import.meta.url));
export type Peer = 'y-websocket' | 'hocuspocus';

export async function startPeer(peer: Peer) {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child =
    peer === 'y-websocket'
      ? spawn(
          process.execPath,
          [join(here, '..', '..', 'node_modules', 'y-websocket', 'bin', 'server.cjs')],
          {
            env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        )
      : spawn(process.execPath, ['--import', 'tsx', join(here, 'hocuspocus-server.ts')], {
          env: { ...process.env, PORT: String(port) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  await new Promise<void>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/running at|URL/.test(out)) resolve();
    });
  });
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  return { url: `ws://127.0.0.1:${port}`, rss, stop: () => child.kill('SIGKILL') };
}

export interface YClient {
  doc: Y.Doc;
  send(update: Uint8Array): void;
  close(): void;
}

/** A raw client: syncs, applies broadcasts to its doc, sends updates. Resolves once synced. */
export function yClient(peer: Peer, base: string, room: string): Promise<YClient> {
  const doc = new Y.Doc();
  const ws = new WebSocket(peer === 'y-websocket' ? `${base}/${room}` : base);
  ws.binaryType = 'arraybuffer';
  const prefix = (e: encoding.Encoder) => {
    if (peer === 'hocuspocus') encoding.writeVarString(e, room);
  };
  const sendSync = (write: (e: encoding.Encoder) => void) => {
    const e = encoding.createEncoder();
    prefix(e);
    encoding.writeVarUint(e, 0);
    write(e);
    ws.send(encoding.toUint8Array(e));
  };
  return new Promise((resolve) => {
    let synced = false;
    const done = () => {
      if (synced) return;
      synced = true;
      resolve({
        doc,
        send: (update) => sendSync((e) => syncProtocol.writeUpdate(e, update)),
        close: () => ws.close(),
      });
    };
    ws.on('open', () => {
      if (peer === 'hocuspocus') {
        const e = encoding.createEncoder();
        prefix(e);
        encoding.writeVarUint(e, 2); // Auth
        encoding.writeVarUint(e, 0); // Token
        encoding.writeVarString(e, '');
        ws.send(encoding.toUint8Array(e));
      }
      sendSync((e) => syncProtocol.writeSyncStep1(e, doc));
    });
    ws.on('message', (data: ArrayBuffer) => {
      const d = decoding.createDecoder(new Uint8Array(data));
      if (peer === 'hocuspocus') decoding.readVarString(d);
      const type = decoding.readVarUint(d);
      if (type !== 0 && type !== 4) return;
      const reply = encoding.createEncoder();
      prefix(reply);
      encoding.writeVarUint(reply, 0);
      const kind = syncProtocol.readSyncMessage(d, reply, doc, 'remote');
      if (encoding.length(reply) > (peer === 'hocuspocus' ? room.length + 2 : 1))
        ws.send(encoding.toUint8Array(reply));
      if (kind === 1) done(); // sync step 2 received
    });
  });
}
