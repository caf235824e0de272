/** Hocuspocus 3.4.4 (the newest that runs on Node 20), no extensions: in-memory, nothing stored. */
import { Server } from '@hocuspocus/server';

const server = new Server({ port: Number(process.env.PORT ?? 0), address: '127.0.0.1', quiet: true });
await server.listen();
console.log(`URL ws://127.0.0.1:${server.address.port}`);
