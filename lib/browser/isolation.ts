// Cross-origin isolation for a page that embeds a VM: SharedArrayBuffer needs it. A server that
// can send COOP/COEP headers needs nothing more; a static host that cannot (GitHub Pages) gets
// them from the package's service worker, coi-sw.js, which the page must serve from its own
// origin (its directory is its scope): it is registered and the page reloaded once.
import { isolateViaServiceWorker, isolationDone } from "../../web/coi.ts";

/** Options of {@link crossOriginIsolation}. */
export interface IsolationOptions {
  /** Where the page serves the package's `coi-sw.js` (default: `coi-sw.js` beside the page). */
  serviceWorker?: string | URL;
}

/** The page cannot be made cross-origin isolated. */
export class IsolationError extends Error {
  constructor(
    /** Why: no service workers here, or the browser did not isolate the page even through one. */
    readonly why: string,
  ) {
    super(`this page cannot be cross-origin isolated: ${why}`);
    this.name = "IsolationError";
  }
}

/**
 * Make this page cross-origin isolated, as a VM needs. Resolves `"isolated"` when it is already
 * (served with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
 * require-corp`, or through the service worker); otherwise registers the service worker
 * and reloads the page once, resolving `"reloading"` (start nothing then). Rejects with an
 * IsolationError when neither can work (no service workers here, or the browser still does not
 * isolate the page after the reload).
 */
export async function crossOriginIsolation(options: IsolationOptions = {}): Promise<"isolated" | "reloading"> {
  if (globalThis.crossOriginIsolated && typeof SharedArrayBuffer !== "undefined") {
    isolationDone();
    return "isolated";
  }
  const r = await isolateViaServiceWorker(options.serviceWorker);
  if (r.reloading) return "reloading";
  throw new IsolationError(r.why);
}
