/**
 * Headroom in Loro's WebAssembly heap. Loro's allocator grows the WebAssembly memory a little at a time as
 * documents grow, and V8 pays for every growth (a garbage collection among other things). A map taking in
 * edits that cross each other grows it every few updates: in a microbenchmark (50 peers, 2,550 crossing
 * keystrokes, session 8) a `ServerReplica` ran 256 collections and spent 1.39 ms per update, an attached
 * document (`MapMirror`) 128 and 0.64 ms.
 *
 * So once the memory has grown, `keepLoroHeadroom` has the allocator take `HEADROOM` bytes at once and give
 * them back: the freed block stays in the allocator's free list, the next allocations come out of it, and the
 * memory next grows by that much in one step. Measured the same way: 4 collections and 0.39 ms per update for
 * the replica, 4 and 0.21 ms for the attached document; linear keystrokes 0.37 -> 0.30 ms. The block's pages are
 * never written, so the process's resident memory does not grow with it; the memory ended the same size.
 *
 * It calls the allocator wasm-bindgen uses to pass arguments in (`__wbindgen_malloc` / `__wbindgen_free`), which
 * only loro-crdt's Node build exposes (`__wasm`); elsewhere (browsers) this does nothing.
 */
import * as loro from 'loro-crdt';

/** How much the allocator takes and gives back each time the memory grew. */
export const HEADROOM = 16 * 1024 * 1024;
/** No headroom past this size: WebAssembly's 32-bit memory ends at 4 GiB, and a failed allocation aborts. */
const LAST_SIZE = 3 * 1024 * 1024 * 1024;

interface LoroWasm {
  /** A `WebAssembly.Memory` (this package's types do not name WebAssembly). */
  memory: { readonly buffer: ArrayBuffer };
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
}

function loroWasm(): LoroWasm | undefined {
  const module = loro as unknown as { __wasm?: Partial<LoroWasm>; default?: { __wasm?: Partial<LoroWasm> } };
  const wasm = module.__wasm ?? module.default?.__wasm;
  if (
    typeof wasm?.memory?.buffer?.byteLength === 'number' &&
    typeof wasm.__wbindgen_malloc === 'function' &&
    typeof wasm.__wbindgen_free === 'function'
  )
    return wasm as LoroWasm;
  return undefined;
}

const wasm = loroWasm();
let sizeSeen = -1;

/** The size of Loro's WebAssembly memory, or undefined where it is not exposed. */
export function loroHeapSize(): number | undefined {
  return wasm?.memory.buffer.byteLength;
}

/** Gives Loro's allocator `HEADROOM` free bytes if its memory grew since the last call. Cheap otherwise. */
export function keepLoroHeadroom(): void {
  if (!wasm) return;
  const size = wasm.memory.buffer.byteLength;
  if (size === sizeSeen || size > LAST_SIZE) return;
  const block = wasm.__wbindgen_malloc(HEADROOM, 1);
  wasm.__wbindgen_free(block, HEADROOM, 1);
  sizeSeen = wasm.memory.buffer.byteLength;
}
