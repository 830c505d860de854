import { createServer, type Server } from "node:http";
import { errorMessage, type Log, Router, routerListener, sendJson } from "./http.js";
import { PriceStore, registerPriceRoutes } from "./prices/index.js";
import { registerStripeControlRoutes } from "./stripe/control.js";
import type { StripeEmulator } from "./stripe/emulator.js";

// The sandbox's own API: the health check `npm run dev` waits on, the price feeds (Pyth Hermes
// under /hermes, an FX reference feed under /fx, knobs under /admin/prices), and later the fault
// knobs (latency, dropped transactions, declines) that tests turn.

export interface ControlServices {
	solana: string;
	stripe: string;
}

export interface ControlServerOptions {
	services: ControlServices;
	startedAt: Date;
	router?: Router;
	log?: Log;
	/** Pass one in to turn the price knobs from code; by default each router gets its own. */
	prices?: PriceStore;
	/** The Stripe emulator whose knobs are served under /admin/stripe. */
	stripe?: StripeEmulator;
}

export function createControlRouter(options: ControlServerOptions): Router {
	const router = options.router ?? new Router();
	const startedAt = options.startedAt.toISOString();
	router.get("/health", ({ res }) =>
		sendJson(res, 200, {
			status: "ok",
			services: { solana: options.services.solana, stripe: options.services.stripe },
			started_at: startedAt,
		}),
	);
	registerPriceRoutes(router, options.prices ?? new PriceStore());
	if (options.stripe) registerStripeControlRoutes(router, options.stripe);
	return router;
}

export function createControlServer(options: ControlServerOptions): Server {
	const router = createControlRouter(options);
	const log = options.log ?? (() => {});
	return createServer(
		routerListener(router, {
			notFound: ({ req, res, url }) =>
				sendJson(res, 404, {
					error: { code: "not_found", message: `No route for ${req.method} ${url.pathname}` },
				}),
			onError: ({ req, res, url }, error) => {
				log(`control: ${req.method} ${url.pathname} failed: ${errorMessage(error)}`);
				if (res.headersSent) {
					res.destroy();
					return;
				}
				sendJson(res, 500, { error: { code: "internal_error", message: errorMessage(error) } });
			},
		}),
	);
}
