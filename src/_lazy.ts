/**
 * The hook through which a Store makes a lazily created backend real before
 * it checks capabilities (creating a backend does no network I/O). Private module.
 *
 * @module
 */

import type { Backend } from "./backend.ts";

/** A backend that implements this method is created by it; capabilities are exact afterwards. */
export const LOAD_BACKEND: unique symbol = Symbol("remote-store.loadBackend");

/** Creates the backend behind a lazy one, if it is lazy; resolves to the backend that does the work. */
export async function loadBackend(backend: Backend): Promise<Backend> {
  const load = (backend as { [LOAD_BACKEND]?: () => Promise<Backend> })[LOAD_BACKEND];
  return load ? await load.call(backend) : backend;
}
