import { BadRequest, type Router, readJsonObject, sendJson } from "../http.js";
import { type PriceStore, UnknownFeedError } from "./store.js";

// Knobs tests turn on the control server: set a price, make a feed lag, reset everything.
// Prices are decimal strings ("123.45"); a JSON number is refused so no float sneaks in.

function stringField(body: Record<string, unknown>, name: string): string {
	const value = body[name];
	if (typeof value !== "string" || value === "") {
		throw new BadRequest(`${name} must be a non-empty string`);
	}
	return value;
}

function sendFailure(res: Parameters<typeof sendJson>[0], error: unknown): void {
	if (error instanceof UnknownFeedError) {
		sendJson(res, 404, { error: { code: "unknown_feed", message: error.message } });
	} else if (error instanceof BadRequest || error instanceof RangeError) {
		sendJson(res, 400, { error: { code: "invalid_request", message: error.message } });
	} else {
		throw error;
	}
}

export function registerPriceAdminRoutes(router: Router, store: PriceStore): void {
	router.get("/admin/prices", ({ res }) =>
		sendJson(res, 200, { feeds: store.feeds.map((f) => store.describe(f.id)) }),
	);

	router.post("/admin/prices", async ({ req, res }) => {
		try {
			const body = await readJsonObject(req);
			const feed = stringField(body, "feed");
			const price = stringField(body, "price");
			const conf = body.conf === undefined ? undefined : stringField(body, "conf");
			store.set(feed, price, conf === undefined ? {} : { conf });
			sendJson(res, 200, store.describe(feed));
		} catch (error) {
			sendFailure(res, error);
		}
	});

	router.post("/admin/prices/stale", async ({ req, res }) => {
		try {
			const body = await readJsonObject(req);
			const feed = stringField(body, "feed");
			const seconds = body.seconds;
			if (typeof seconds !== "number") throw new BadRequest("seconds must be a number");
			store.stale(feed, seconds);
			sendJson(res, 200, store.describe(feed));
		} catch (error) {
			sendFailure(res, error);
		}
	});

	router.post("/admin/prices/reset", ({ res }) => {
		store.reset();
		sendJson(res, 200, { feeds: store.feeds.map((f) => store.describe(f.id)) });
	});
}
