import { Keypair, PublicKey, SystemProgram, Transaction } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { parseJson, stringifyJson } from "../../sandbox/solana/json.js";
import { USDC } from "../../sandbox/solana/tokens.js";

// u64 amounts past 2^53 (lamports, fees, token base units) travel as exact JSON integers both
// ways, as on a validator. Requests are written and replies read as raw text: JSON.parse (and
// response.json()) would round the very digits under test.

const TWO_53 = 2n ** 53n;

describe("u64 amounts over JSON-RPC", () => {
	let sandbox: Sandbox;
	let nextId = 0;

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
		});
	});
	afterAll(() => sandbox.close());

	/** Sends `params` (JSON text, so integer literals stay as written); returns the raw reply. */
	async function rawCall(method: string, params: string): Promise<string> {
		const body = `{"jsonrpc":"2.0","id":${++nextId},"method":${JSON.stringify(method)},"params":${params}}`;
		const res = await fetch(sandbox.urls.solana, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body,
		});
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(text).not.toContain('"error"');
		return text;
	}

	/** The `result` of a raw reply whose value is a string (a signature). */
	const signatureOf = (text: string) => {
		const match = /"result":"([1-9A-HJ-NP-Za-km-z]+)"/.exec(text);
		if (!match?.[1]) throw new Error(`no signature in ${text}`);
		return match[1];
	};

	const newAddress = () => Keypair.generate().publicKey.toBase58();

	it("airdrops 2^53 + 1 lamports and getBalance returns exactly that", async () => {
		const address = newAddress();
		const lamports = TWO_53 + 1n;
		const airdrop = await rawCall("requestAirdrop", `["${address}",${lamports}]`);
		sandbox.solana.confirm(signatureOf(airdrop), "finalized");

		const balance = await rawCall("getBalance", `["${address}"]`);
		expect(balance).toContain(`"value":${lamports}}`);
		const account = await rawCall("getAccountInfo", `["${address}",{"encoding":"base64"}]`);
		expect(account).toContain(`"lamports":${lamports},`);
	});

	it("takes an airdrop amount as a decimal string too", async () => {
		const address = newAddress();
		const lamports = TWO_53 + 5n;
		const airdrop = await rawCall("requestAirdrop", `["${address}","${lamports}"]`);
		sandbox.solana.confirm(signatureOf(airdrop), "finalized");
		expect(await rawCall("getBalance", `["${address}"]`)).toContain(`"value":${lamports}}`);
	});

	it("shows a transfer of 2^53 + 3 lamports with exact pre and post balances", async () => {
		const payer = Keypair.generate();
		const recipient = newAddress();
		const funds = 2n * TWO_53;
		sandbox.solana.confirm(sandbox.solana.airdrop(payer.publicKey.toBase58(), funds));
		const amount = TWO_53 + 3n;
		const tx = new Transaction({
			feePayer: payer.publicKey,
			recentBlockhash: sandbox.solana.chain.latestBlockhash(),
		}).add(
			SystemProgram.transfer({
				fromPubkey: payer.publicKey,
				toPubkey: new PublicKey(recipient),
				lamports: amount,
			}),
		);
		tx.sign(payer);
		const sent = await rawCall(
			"sendTransaction",
			`["${tx.serialize().toString("base64")}",{"encoding":"base64"}]`,
		);
		const signature = signatureOf(sent);
		sandbox.solana.confirm(signature, "finalized");

		const fee = 5000n;
		const json = await rawCall("getTransaction", `["${signature}",{"encoding":"json"}]`);
		expect(json).toContain(`"fee":${fee},`);
		expect(json).toContain(`"preBalances":[${funds},0,1]`);
		expect(json).toContain(`"postBalances":[${funds - fee - amount},${amount},1]`);
		const parsed = await rawCall("getTransaction", `["${signature}",{"encoding":"jsonParsed"}]`);
		expect(parsed).toContain(`"lamports":${amount}}`);
		expect(await rawCall("getBalance", `["${recipient}"]`)).toContain(`"value":${amount}}`);
	});

	it("mints 2^60 + 7 base units and getTokenAccountBalance returns exactly that", async () => {
		const owner = newAddress();
		const amount = 2n ** 60n + 7n;
		const minted = await rawCall("simulator_mintTokens", `["${owner}","${USDC.mint}",${amount}]`);
		sandbox.solana.confirm(signatureOf(minted), "finalized");
		const accounts = await rawCall(
			"getTokenAccountsByOwner",
			`["${owner}",{"mint":"${USDC.mint}"},{"encoding":"base64"}]`,
		);
		const ata = /"pubkey":"([1-9A-HJ-NP-Za-km-z]+)"/.exec(accounts)?.[1];
		expect(ata).toBeDefined();
		const balance = await rawCall("getTokenAccountBalance", `["${ata}"]`);
		expect(balance).toContain(`"amount":"${amount}"`);
		expect(balance).toContain(`"uiAmountString":"${amount / 1_000_000n}.${amount % 1_000_000n}"`);
	});

	it("echoes a request id past 2^53 exactly", async () => {
		const id = TWO_53 + 9n;
		const res = await fetch(sandbox.urls.solana, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: `{"jsonrpc":"2.0","id":${id},"method":"getHealth"}`,
		});
		expect(await res.text()).toBe(`{"jsonrpc":"2.0","result":"ok","id":${id}}`);
	});

	it("refuses an amount past u64::MAX with the validator's message", async () => {
		const res = await fetch(sandbox.urls.solana, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: `{"jsonrpc":"2.0","id":1,"method":"requestAirdrop","params":["${newAddress()}",18446744073709551616]}`,
		});
		expect(await res.text()).toContain(
			"Invalid params: invalid type: integer `18446744073709551616`, expected u64.",
		);
	});
});

describe("sandbox JSON", () => {
	it("parses unsafe integers as bigint and leaves everything else as JSON.parse does", () => {
		const text =
			'{"a":[9007199254740991,9007199254740992,-9007199254740993,1.5,1e3,"18446744073709551615"],"__proto__":{"b":null}}';
		const parsed = parseJson(text) as Record<string, unknown>;
		expect(parsed.a).toEqual([
			9_007_199_254_740_991,
			9_007_199_254_740_992n,
			-9_007_199_254_740_993n,
			1.5,
			1000,
			"18446744073709551615",
		]);
		expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
		expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse(text)));
		expect(() => parseJson("[1,]")).toThrow(SyntaxError);
		expect(() => parseJson('{"a":1} x')).toThrow(SyntaxError);
	});

	it("writes bigint as bare digits", () => {
		expect(stringifyJson({ value: 18_446_744_073_709_551_615n, list: [1n, 2] })).toBe(
			'{"value":18446744073709551615,"list":[1,2]}',
		);
	});
});
