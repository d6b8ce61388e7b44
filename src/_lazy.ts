/**
 * The hook through which a Store makes a lazily created backend real before
 * it checks capabilities (creating a backend does no network I/O). Private module.
 *
 * @module
 */

/** A backend that implements this method is created by it; capabilities are exact afterwards. */
export const LOAD_BACKEND: unique symbol = Symbol("remote-store.loadBackend");

/** Creates the backend behind a lazy one, if it is lazy. */
export async function loadBackend(backend: object): Promise<void> {
  const load = (backend as { [LOAD_BACKEND]?: () => Promise<unknown> })[LOAD_BACKEND];
  if (load) await load.call(backend);
}
