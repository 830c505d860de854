import { fileURLToPath } from "node:url";

/** The quote TTL the gateway runs with here, so the quote-expiry scenario needs no long wait. */
export const QUOTE_TTL_SECONDS = 30;

/** Screenshots and the local stack's log land here (git-ignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL("../screenshots/", import.meta.url));

/** Playwright's default wait for one step (an element, a click, a page load). */
export const STEP_TIMEOUT_MS = 15_000;

/** From a click on "Pay" to the page showing it paid: send, confirm, detect, push to the page. */
export const PAYMENT_TIMEOUT_MS = 30_000;
