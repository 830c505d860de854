import { env } from "cloudflare:workers";
import { getAddressDecoder } from "@solana/kit";
import { beforeAll, describe, expect, it } from "vitest";
import { usableDestination } from "../../src/db/payout-destinations";
import type { ApiPayoutDestination } from "../../src/domain/payout-destination";
import { call, createMerchant, expectApiError, json } from "./helpers/api";

interface Wallet {
	address: string;
	sign(message: Uint8Array): Promise<Uint8Array>;
}

interface Challenge {
	nonce: string;
	message: string;
	address: string;
	expires_at: number;
}

type Merchant = Awaited<ReturnType<typeof createMerchant>>;

/** A wallet as Phantom holds one: an ed25519 key pair made by Web Crypto. */
async function newWallet(): Promise<Wallet> {
	const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
		"sign",
		"verify",
	])) as CryptoKeyPair;
	const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
	return {
		address: getAddressDecoder().decode(raw),
		sign: async (message) =>
			new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message)),
	};
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function challenge(key: string, address: string): Promise<Challenge> {
	const res = await call("POST", "/v1/payout_destinations/challenges", { key, body: { address } });
	if (res.status !== 200) throw new Error(`challenge failed: ${res.status} ${await res.text()}`);
	return json<Challenge>(res);
}

async function prove(
	key: string,
	wallet: Wallet,
	issued: Challenge,
	options: { signer?: Wallet; address?: string; message?: string; signature?: string } = {},
): Promise<Response> {
	const message = options.message ?? issued.message;
	const signature =
		options.signature ??
		base64(await (options.signer ?? wallet).sign(new TextEncoder().encode(message)));
	return call("POST", "/v1/payout_destinations", {
		key,
		body: {
			type: "solana_wallet",
			address: options.address ?? wallet.address,
			message,
			signature,
		},
	});
}

async function addWallet(key: string, wallet?: Wallet): Promise<ApiPayoutDestination> {
	const w = wallet ?? (await newWallet());
	const res = await prove(key, w, await challenge(key, w.address));
	if (res.status !== 200) throw new Error(`proof failed: ${res.status} ${await res.text()}`);
	return json<ApiPayoutDestination>(res);
}

async function list(key: string): Promise<ApiPayoutDestination[]> {
	const res = await call("GET", "/v1/payout_destinations", { key });
	expect(res.status).toBe(200);
	return (await json<{ data: ApiPayoutDestination[] }>(res)).data;
}

describe("wallet destinations", () => {
	let m: Merchant;
	beforeAll(async () => {
		m = await createMerchant("Payout Wallets");
	});

	it("adds a wallet that signed the issued message, announces it by event and audit log", async () => {
		const wallet = await newWallet();
		const issued = await challenge(m.sk, wallet.address);
		expect(issued.message).toContain(wallet.address);
		expect(issued.message).toContain(`Merchant: ${m.merchant.id}`);
		expect(issued.message).toContain("Purpose: add payout destination");
		expect(issued.message).toContain("Mode: test");
		const res = await prove(m.sk, wallet, issued);
		expect(res.status, await res.clone().text()).toBe(200);
		const destination = await json<ApiPayoutDestination>(res);
		expect(destination).toMatchObject({
			object: "payout_destination",
			type: "solana_wallet",
			address: wallet.address,
			status: "active",
			default: true,
			livemode: false,
			removed: null,
		});
		expect(destination.id).toMatch(/^pd_/);
		// Test mode has no cooling-off period.
		expect(destination.usable_after).toBeLessThanOrEqual(nowSeconds());

		const events = await json<{ data: { type: string; data: { object: { id: string } } }[] }>(
			await call("GET", "/v1/events?type=payout_destination.created", { key: m.sk }),
		);
		expect(events.data.map((e) => e.data.object.id)).toContain(destination.id);
		const audit = await json<{ data: { object_id: string; actor: { type: string } }[] }>(
			await call("GET", "/v1/audit_log?action=payout_destination.created", { key: m.sk }),
		);
		expect(audit.data.find((e) => e.object_id === destination.id)?.actor.type).toBe("api_key");

		const fetched = await call("GET", `/v1/payout_destinations/${destination.id}`, { key: m.sk });
		expect(await json(fetched)).toEqual(destination);
	});

	it("accepts a base58 signature as Solana tools print it", async () => {
		const { getBase58Decoder } = await import("@solana/kit");
		const wallet = await newWallet();
		const issued = await challenge(m.sk, wallet.address);
		const signature = getBase58Decoder().decode(
			await wallet.sign(new TextEncoder().encode(issued.message)),
		);
		const res = await prove(m.sk, wallet, issued, { signature });
		expect(res.status, await res.clone().text()).toBe(200);
	});

	it("refuses a signature by another wallet", async () => {
		const wallet = await newWallet();
		const issued = await challenge(m.sk, wallet.address);
		const res = await prove(m.sk, wallet, issued, { signer: await newWallet() });
		const error = await expectApiError(res, "parameter_invalid", "signature");
		expect(error.message).toContain(wallet.address);
		// The forgery did not burn the nonce: the owner can still prove with it.
		expect((await prove(m.sk, wallet, issued)).status).toBe(200);
	});

	it("accepts a nonce once: a replay is refused", async () => {
		const wallet = await newWallet();
		const issued = await challenge(m.sk, wallet.address);
		expect((await prove(m.sk, wallet, issued)).status).toBe(200);
		const replay = await prove(m.sk, wallet, issued);
		const error = await expectApiError(replay, "parameter_invalid", "message");
		expect(error.message).toMatch(/already used/);
	});

	it("of two proofs racing with one nonce, exactly one adds a destination", async () => {
		const owner = await createMerchant("Racer");
		const wallet = await newWallet();
		const issued = await challenge(owner.sk, wallet.address);
		const results = await Promise.all([
			prove(owner.sk, wallet, issued),
			prove(owner.sk, wallet, issued),
			prove(owner.sk, wallet, issued),
		]);
		expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
		expect(await list(owner.sk)).toHaveLength(1);
		// One destination, announced once: the losers wrote neither an event nor an audit entry.
		const events = await json<{ data: unknown[] }>(
			await call("GET", "/v1/events?type=payout_destination.created", { key: owner.sk }),
		);
		expect(events.data).toHaveLength(1);
		const audit = await json<{ data: unknown[] }>(
			await call("GET", "/v1/audit_log?action=payout_destination.created", { key: owner.sk }),
		);
		expect(audit.data).toHaveLength(1);
	});

	it("refuses a message issued to another merchant, in the other mode, or for another address", async () => {
		const other = await createMerchant("Other");
		const wallet = await newWallet();

		const foreign = await challenge(other.sk, wallet.address);
		let error = await expectApiError(
			await prove(m.sk, wallet, foreign),
			"parameter_invalid",
			"message",
		);
		expect(error.message).toMatch(/another merchant/);

		const live = await challenge(m.skLive, wallet.address);
		error = await expectApiError(await prove(m.sk, wallet, live), "parameter_invalid", "message");
		expect(error.message).toMatch(/live mode/);

		const elsewhere = await newWallet();
		const forOther = await challenge(m.sk, elsewhere.address);
		// The wallet signs a message naming another address: the address in the body does not match.
		error = await expectApiError(
			await prove(m.sk, wallet, forOther),
			"parameter_invalid",
			"address",
		);
		expect(error.message).toMatch(/another address/);

		// An edited message (the address swapped in) is not the one issued.
		const edited = forOther.message.replaceAll(elsewhere.address, wallet.address);
		error = await expectApiError(
			await prove(m.sk, wallet, forOther, { message: edited }),
			"parameter_invalid",
			"message",
		);
		expect(error.message).toMatch(/not issued/);
	});

	it("refuses an expired message", async () => {
		const wallet = await newWallet();
		const issued = await challenge(m.sk, wallet.address);
		await env.DB.prepare("UPDATE payout_destination_challenges SET expires = ? WHERE nonce = ?")
			.bind(nowSeconds() - 1, issued.nonce)
			.run();
		const error = await expectApiError(
			await prove(m.sk, wallet, issued),
			"parameter_invalid",
			"message",
		);
		expect(error.message).toMatch(/expired/);
	});

	it("refuses a malformed signature and a malformed address", async () => {
		const wallet = await newWallet();
		const issued = await challenge(m.sk, wallet.address);
		await expectApiError(
			await prove(m.sk, wallet, issued, { signature: "not-a-signature" }),
			"parameter_invalid",
			"signature",
		);
		await expectApiError(
			await prove(m.sk, wallet, issued, { signature: base64(new Uint8Array(63)) }),
			"parameter_invalid",
			"signature",
		);
		await expectApiError(
			await prove(m.sk, wallet, issued, { address: "0OIl-not-base58" }),
			"parameter_invalid",
			"address",
		);
		const res = await call("POST", "/v1/payout_destinations/challenges", {
			key: m.sk,
			body: { address: "abc" },
		});
		await expectApiError(res, "parameter_invalid", "address");
		// Nothing above consumed the nonce.
		expect((await prove(m.sk, wallet, issued)).status).toBe(200);
	});

	it("refuses the same wallet twice in one mode", async () => {
		const wallet = await newWallet();
		await addWallet(m.sk, wallet);
		await expectApiError(
			await prove(m.sk, wallet, await challenge(m.sk, wallet.address)),
			"resource_conflict",
			"address",
		);
	});

	it("holds at most 50 destinations per mode: the 51st is refused until one is removed", async () => {
		const owner = await createMerchant("Many Wallets");
		const now = nowSeconds();
		await env.DB.batch(
			Array.from({ length: 50 }, (_, i) =>
				env.DB.prepare(
					`INSERT INTO payout_destinations (id, merchant_id, livemode, type, address, status, is_default, usable_after, created, updated)
					 VALUES (?, ?, 0, 'solana_wallet', ?, 'active', 0, ?, ?, ?)`,
				).bind(`pd_${String(i).padStart(30, "0")}`, owner.merchant.id, `addr${i}`, now, now, now),
			),
		);
		const wallet = await newWallet();
		const refused = await prove(owner.sk, wallet, await challenge(owner.sk, wallet.address));
		await expectApiError(refused, "resource_conflict");
		const removed = await call("DELETE", `/v1/payout_destinations/pd_${"0".repeat(30)}`, {
			key: owner.sk,
		});
		expect(removed.status).toBe(200);
		expect((await prove(owner.sk, wallet, await challenge(owner.sk, wallet.address))).status).toBe(
			200,
		);
	});

	it("another merchant's destination is a 404, to read, change or remove", async () => {
		const destination = await addWallet(m.sk);
		const other = await createMerchant("Snoop");
		for (const [method, path, body] of [
			["GET", `/v1/payout_destinations/${destination.id}`, undefined],
			["POST", `/v1/payout_destinations/${destination.id}`, { default: true }],
			["DELETE", `/v1/payout_destinations/${destination.id}`, undefined],
		] as const) {
			await expectApiError(
				await call(method, path, { key: other.sk, ...(body ? { body } : {}) }),
				"resource_missing",
				"id",
			);
		}
		// The live key of the same merchant sees no test-mode destination either.
		await expectApiError(
			await call("GET", `/v1/payout_destinations/${destination.id}`, { key: m.skLive }),
			"resource_missing",
			"id",
		);
	});
});

describe("cooling-off, defaults and removal", () => {
	it("in live mode a new destination cools off before usableDestination lets a payout use it", async () => {
		const m = await createMerchant("Live Payouts");
		const destination = await addWallet(m.skLive);
		const now = nowSeconds();
		expect(destination.livemode).toBe(true);
		expect(destination.usable_after).toBeGreaterThanOrEqual(now + 86_400 - 5);
		const owner = { merchantId: m.merchant.id, livemode: true, type: "solana_wallet" as const };
		const waiting = await usableDestination(env.DB, owner, now);
		expect(waiting).toMatchObject({
			ok: false,
			reason: "cooling_off",
			usable_after: destination.usable_after,
		});
		const ready = await usableDestination(env.DB, owner, destination.usable_after);
		expect(ready.ok && ready.destination.id).toBe(destination.id);
		// Test mode: none.
		const test = await addWallet(m.sk);
		const usable = await usableDestination(
			env.DB,
			{ ...owner, livemode: false, id: test.id },
			nowSeconds(),
		);
		expect(usable.ok).toBe(true);
		// A fiat payout cannot go to a wallet; an unknown id is not found.
		expect(
			await usableDestination(
				env.DB,
				{ ...owner, type: "stripe_account", id: destination.id },
				now,
			),
		).toMatchObject({ ok: false, reason: "wrong_type" });
		expect(
			await usableDestination(env.DB, { ...owner, id: "pd_00000000000000000000000000000" }, now),
		).toMatchObject({ ok: false, reason: "not_found" });
	});

	it("making a destination default restarts its live cooling-off and is announced", async () => {
		const m = await createMerchant("Default Switch");
		const first = await addWallet(m.skLive);
		const second = await addWallet(m.skLive);
		expect(first.default).toBe(true);
		expect(second.default).toBe(false);
		// Both cooled off long ago.
		await env.DB.prepare("UPDATE payout_destinations SET usable_after = 0 WHERE merchant_id = ?")
			.bind(m.merchant.id)
			.run();
		const res = await call("POST", `/v1/payout_destinations/${second.id}`, {
			key: m.skLive,
			body: { default: true },
		});
		expect(res.status).toBe(200);
		const updated = await json<ApiPayoutDestination>(res);
		expect(updated.default).toBe(true);
		expect(updated.usable_after).toBeGreaterThan(nowSeconds() + 86_000);
		const owner = { merchantId: m.merchant.id, livemode: true, type: "solana_wallet" as const };
		// Payouts without a named destination wait for the new default rather than go elsewhere.
		expect(await usableDestination(env.DB, owner, nowSeconds())).toMatchObject({
			ok: false,
			reason: "cooling_off",
		});
		const all = await list(m.skLive);
		expect(all.find((d) => d.id === first.id)?.default).toBe(false);
		const events = await json<{ data: { data: { object: { id: string } } }[] }>(
			await call("GET", "/v1/events?type=payout_destination.updated", { key: m.skLive }),
		);
		expect(events.data.map((e) => e.data.object.id)).toContain(second.id);
	});

	it("with no default, the only destination of a type is used; two without a default are none", async () => {
		const m = await createMerchant("Choices");
		const owner = { merchantId: m.merchant.id, livemode: false, type: "solana_wallet" as const };
		expect(await usableDestination(env.DB, owner, nowSeconds())).toMatchObject({
			ok: false,
			reason: "none",
		});
		const only = await addWallet(m.sk);
		await addWallet(m.sk);
		await env.DB.prepare("UPDATE payout_destinations SET is_default = 0 WHERE merchant_id = ?")
			.bind(m.merchant.id)
			.run();
		expect(await usableDestination(env.DB, owner, nowSeconds())).toMatchObject({
			ok: false,
			reason: "none",
		});
		const rest = (await list(m.sk)).filter((d) => d.id !== only.id);
		for (const d of rest) {
			expect((await call("DELETE", `/v1/payout_destinations/${d.id}`, { key: m.sk })).status).toBe(
				200,
			);
		}
		const usable = await usableDestination(env.DB, owner, nowSeconds());
		expect(usable.ok && usable.destination.id).toBe(only.id);
	});

	it("refuses removal while a payout to it is pending, allows it once the payout is paid", async () => {
		const m = await createMerchant("Removal");
		const destination = await addWallet(m.sk);
		const now = nowSeconds();
		await env.DB.prepare(
			`INSERT INTO payouts (id, merchant_id, livemode, amount, currency, destination_id, method, status, automatic, created, updated)
			 VALUES (?, ?, 0, '1000', 'sol', ?, 'solana', 'pending', 0, ?, ?)`,
		)
			.bind("po_0000000000000000000000000001", m.merchant.id, destination.id, now, now)
			.run();
		const refused = await call("DELETE", `/v1/payout_destinations/${destination.id}`, {
			key: m.sk,
		});
		await expectApiError(refused, "resource_conflict", "id");
		expect((await list(m.sk)).map((d) => d.id)).toContain(destination.id);
		const removals = async () =>
			(
				await json<{ data: unknown[] }>(
					await call("GET", "/v1/events?type=payout_destination.removed", { key: m.sk }),
				)
			).data.length;
		// A refused removal announces nothing.
		expect(await removals()).toBe(0);

		await env.DB.prepare("UPDATE payouts SET status = 'paid' WHERE destination_id = ?")
			.bind(destination.id)
			.run();
		const removed = await call("DELETE", `/v1/payout_destinations/${destination.id}`, {
			key: m.sk,
		});
		expect(removed.status).toBe(200);
		expect(await json(removed)).toMatchObject({ status: "removed", default: false });
		expect(await removals()).toBe(1);
		expect((await list(m.sk)).map((d) => d.id)).not.toContain(destination.id);
		const owner = { merchantId: m.merchant.id, livemode: false, type: "solana_wallet" as const };
		expect(await usableDestination(env.DB, { ...owner, id: destination.id }, now)).toMatchObject({
			ok: false,
			reason: "removed",
		});
		const again = await call("DELETE", `/v1/payout_destinations/${destination.id}`, {
			key: m.sk,
		});
		await expectApiError(again, "resource_missing", "id");
		const audit = await json<{ data: { object_id: string }[] }>(
			await call("GET", "/v1/audit_log?action=payout_destination.removed", { key: m.sk }),
		);
		expect(audit.data.map((e) => e.object_id)).toContain(destination.id);
	});
});
