import type { Router } from "../http.js";
import { registerPriceAdminRoutes } from "./admin.js";
import { registerFxReferenceRoutes } from "./fx-reference.js";
import { registerHermesRoutes } from "./hermes.js";
import type { PriceStore } from "./store.js";

export { SANDBOX_FEEDS, type SandboxFeed } from "./feeds.js";
export {
	type FeedSnapshot,
	PriceStore,
	type PriceStoreOptions,
	UnknownFeedError,
} from "./store.js";

/** Hermes under /hermes, the FX reference feed under /fx, and the /admin/prices knobs. */
export function registerPriceRoutes(router: Router, store: PriceStore): void {
	registerHermesRoutes(router, store);
	registerFxReferenceRoutes(router, store);
	registerPriceAdminRoutes(router, store);
}
