import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
	type ApiKey,
	type CreateMerchantResponse,
	createInvitation,
	createMerchant,
	createPayment,
	findKey,
	gatewayFetch,
	type Payment,
	parseCreateMerchantResponse,
} from "./gateway-api.js";

// The demo merchant and payment `npm run dev` seeds, so a fresh clone has keys to try.

export const DEMO_MERCHANT_NAME = "Demo Store";
/** The demo merchant's owner: `npm run dev` invites this address on every start. */
export const DEMO_OWNER_EMAIL = "owner@demo.example";
export const DEMO_PAYMENT = {
	amount: 2500,
	currency: "usd",
	description: "Demo order",
	payment_method_types: ["solana", "card"],
	solana: { token: "USDC" },
};

export interface DemoMerchant {
	response: CreateMerchantResponse;
	secretKey: ApiKey;
	publishableKey: ApiKey | undefined;
	reused: boolean;
	/** Why a saved merchant was not reused, when there was one. */
	note?: string;
	/** A fresh one-time owner invitation link (register a passkey as the demo owner), or why not. */
	ownerInvitation?: string | Error;
}

/**
 * A new owner invitation for the demo merchant on every start: the first run registers the
 * developer's own passkey as its owner; later runs sign in with that passkey (the link then says
 * the account exists).
 */
export async function demoOwnerInvitation(
	gatewayUrl: string,
	adminToken: string,
	merchantId: string,
	signal?: AbortSignal,
): Promise<string | Error> {
	try {
		return (
			await createInvitation(
				gatewayUrl,
				adminToken,
				merchantId,
				{ email: DEMO_OWNER_EMAIL },
				signal,
			)
		).url;
	} catch (error) {
		return error as Error;
	}
}

async function readSaved(file: string): Promise<CreateMerchantResponse | string | undefined> {
	let text: string;
	try {
		text = await readFile(file, "utf8");
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
		throw error;
	}
	try {
		return parseCreateMerchantResponse(JSON.parse(text));
	} catch (error) {
		return `${file} is unreadable (${(error as Error).message})`;
	}
}

/** Writes via a temp file so an interrupted run never leaves half a JSON file behind. */
export async function saveDemoMerchant(file: string, response: CreateMerchantResponse) {
	await mkdir(dirname(file), { recursive: true });
	const tmp = `${file}.${process.pid}.tmp`;
	// 0600: it holds API secrets.
	await writeFile(tmp, `${JSON.stringify(response, null, 2)}\n`, { mode: 0o600 });
	await rename(tmp, file);
}

/**
 * Reuses the saved demo merchant while its test secret key still authenticates (the local
 * D1 state survives restarts); otherwise creates a new one through the admin API.
 */
export async function ensureDemoMerchant(options: {
	gatewayUrl: string;
	adminToken: string;
	file: string;
	signal?: AbortSignal;
}): Promise<DemoMerchant> {
	const { gatewayUrl, adminToken, file, signal } = options;
	const saved = await readSaved(file);
	let note: string | undefined;
	if (typeof saved === "string") {
		note = saved;
	} else if (saved) {
		const key = findKey(saved.keys, "secret", false);
		if (!key) {
			note = `${file} has no test secret key`;
		} else {
			const { status } = await gatewayFetch(gatewayUrl, "/v1/balances", {
				token: key.secret,
				...(signal ? { signal } : {}),
			});
			if (status === 200) {
				return {
					response: saved,
					secretKey: key,
					publishableKey: findKey(saved.keys, "publishable", false),
					reused: true,
				};
			}
			note = `the saved test key was refused (GET /v1/balances → HTTP ${status})`;
		}
	}
	const response = await createMerchant(
		gatewayUrl,
		adminToken,
		{ name: DEMO_MERCHANT_NAME },
		signal,
	);
	const secretKey = findKey(response.keys, "secret", false);
	if (!secretKey) throw new Error("the admin API returned no test secret key (sk_test_…)");
	await saveDemoMerchant(file, response);
	return {
		response,
		secretKey,
		publishableKey: findKey(response.keys, "publishable", false),
		reused: false,
		...(note ? { note } : {}),
	};
}

export function createDemoPayment(
	gatewayUrl: string,
	secretKey: string,
	signal?: AbortSignal,
): Promise<Payment> {
	// A fresh key each run: the demo should create a new payment, not replay yesterday's.
	return createPayment(gatewayUrl, secretKey, DEMO_PAYMENT, randomUUID(), signal);
}
