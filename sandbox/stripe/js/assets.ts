import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { errorMessage, type Log, type RouteContext, type Router, sendText } from "../../http.js";
import { FRAME_HEADERS, FRAME_HTML } from "./frame-page.js";

// The stand-in Stripe.js, served by the emulator the way js.stripe.com serves Stripe.js:
//   GET /js/v3/ (and /js/v3)          the script a merchant's page loads (window.Stripe)
//   GET /js/v3/elements-frame.html    the Payment Element's card frame
//   GET /js/v3/elements-frame.js      its script
// The TypeScript in browser/ is bundled with esbuild on first request and kept in memory.

const ENTRIES = {
	"stripe.js": "./browser/stripe.ts",
	"elements-frame.js": "./browser/elements-frame.ts",
} as const;

export type StripeJsAsset = keyof typeof ENTRIES;

interface Bundle {
	code: string;
	etag: string;
}

const bundles = new Map<StripeJsAsset, Promise<Bundle>>();

const BANNER =
	"/* StreamPayments sandbox: a stand-in for Stripe.js v3 that talks to the local Stripe emulator. Test mode only. */";

async function bundle(asset: StripeJsAsset): Promise<Bundle> {
	const result = await build({
		entryPoints: [fileURLToPath(new URL(ENTRIES[asset], import.meta.url))],
		bundle: true,
		format: "iife",
		target: ["es2020"],
		platform: "browser",
		write: false,
		minify: false,
		legalComments: "none",
		logLevel: "silent",
		banner: { js: BANNER },
	});
	const code = result.outputFiles[0]?.text;
	if (!code) throw new Error(`esbuild produced nothing for ${asset}`);
	const etag = `"${createHash("sha256").update(code).digest("base64url").slice(0, 16)}"`;
	return { code, etag };
}

/** The bundled script (built once per process; a failed build is retried on the next call). */
export function stripeJsBundle(asset: StripeJsAsset): Promise<Bundle> {
	let pending = bundles.get(asset);
	if (!pending) {
		pending = bundle(asset);
		bundles.set(asset, pending);
		pending.catch(() => bundles.delete(asset));
	}
	return pending;
}

function sendScript(ctx: RouteContext, { code, etag }: Bundle): void {
	const headers = {
		"content-type": "text/javascript; charset=utf-8",
		// Revalidated on every load, so a restarted sandbox with new code is picked up at once.
		"cache-control": "no-cache",
		etag,
		"access-control-allow-origin": "*",
		"x-content-type-options": "nosniff",
	};
	if (ctx.req.headers["if-none-match"] === etag) {
		ctx.res.writeHead(304, headers);
		ctx.res.end();
		return;
	}
	ctx.res.writeHead(200, { ...headers, "content-length": Buffer.byteLength(code) });
	ctx.res.end(code);
}

function scriptRoute(asset: StripeJsAsset, log: Log) {
	return async (ctx: RouteContext) => {
		let built: Bundle;
		try {
			built = await stripeJsBundle(asset);
		} catch (error) {
			log(`stripe: bundling ${asset} failed: ${errorMessage(error)}`);
			sendText(ctx.res, 500, `/* could not bundle ${asset}: see the sandbox log */\n`, {
				"content-type": "text/javascript; charset=utf-8",
			});
			return;
		}
		sendScript(ctx, built);
	};
}

function sendFrame(res: ServerResponse): void {
	res.writeHead(200, { ...FRAME_HEADERS, "content-length": Buffer.byteLength(FRAME_HTML) });
	res.end(FRAME_HTML);
}

export function registerStripeJs(router: Router, log: Log = () => {}): void {
	const stripeJs = scriptRoute("stripe.js", log);
	router
		.get("/js/v3", stripeJs)
		.get("/js/v3/", stripeJs)
		.get("/js/v3/elements-frame.js", scriptRoute("elements-frame.js", log))
		.get("/js/v3/elements-frame.html", ({ res }) => sendFrame(res));
}
