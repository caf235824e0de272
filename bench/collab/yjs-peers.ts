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
  return {
    url: `ws://127.0.0.1:${port}`,
    pid: child.pid!,
    rss,
    cpu: () => cpuSeconds(child.pid),
    stop: () => child.kill('SIGKILL'),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface YClient {
  doc: Y.Doc;
  send(update: Uint8Array): void;
  close(): void;
}

/**
 * A raw client: syncs, then sends updates. Until synced it applies what it gets to its doc; after that, with
 * `onUpdate`, it hands each incoming message to it as bytes instead (a load generator that only measures, as
 * Canopy's receivers do); without, it keeps applying them to its doc.
 */
export function yClient(
  peer: Peer,
  base: string,
  room: string,
  onUpdate?: (message: Uint8Array) => void,
): Promise<YClient> {
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
      if (synced && onUpdate) return onUpdate(new Uint8Array(data));
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
