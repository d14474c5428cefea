// Cross-origin isolation on a static host that sends no COOP/COEP headers: register
// public/coi-sw.js, which adds them to every same-origin response, then reload once so this
// document is served through it. A sessionStorage mark allows that one reload per tab, so a
// browser where the worker cannot help (blocked, or no isolation anyway) gets a message, not a loop.

const MARK = "vireo-coi-reloaded";
const READY_MS = 10_000;

export type Isolation = { reloading: true } | { reloading: false; why: string };

/** The page is isolated: a later failure may try one reload again. */
export function isolationDone(): void {
  sessionStorage.removeItem(MARK);
}

/** `serviceWorker`: the URL of coi-sw.js, whose directory is its scope (default: beside the page). */
export async function isolateViaServiceWorker(serviceWorker: string | URL = new URL("coi-sw.js", location.href)): Promise<Isolation> {
  if (!("serviceWorker" in navigator)) {
    return { reloading: false, why: "this browser offers no service worker here (they need https or localhost)" };
  }
  if (sessionStorage.getItem(MARK)) {
    // This tab already reloaded once for isolation: another reload would loop.
    sessionStorage.removeItem(MARK);
    return {
      reloading: false,
      why: navigator.serviceWorker.controller
        ? "the isolation service worker is running, but the browser still did not isolate the page"
        : "the isolation service worker did not take control of the page (are service workers blocked?)",
    };
  }
  try {
    // By default beside index.html, so its scope is the whole site however deep the site is hosted.
    await navigator.serviceWorker.register(serviceWorker);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not active after ${READY_MS / 1000} s`)), READY_MS));
    await Promise.race([navigator.serviceWorker.ready, timeout]);
  } catch (e) {
    return { reloading: false, why: `the isolation service worker could not be installed (${(e as Error).message})` };
  }
  sessionStorage.setItem(MARK, "1");
  location.reload();
  return { reloading: true };
}
